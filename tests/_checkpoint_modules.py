"""Modules for the checkpoint tests: the seeds' shared-encoder MultiRLModule, ported."""

from __future__ import annotations

import gymnasium as gym
import rlmodules
import torch
import torch.nn as nn
from rlmodules import Columns, MultiRLModule, MultiRLModuleSpec, RLModuleSpec, TorchRLModule

OBS = gym.spaces.Box(-1.0, 1.0, (4,))
ACT = gym.spaces.Discrete(2)
FEATURE_DIM = 8
ENCODER_HIDDEN_DIM = 16


class PGPolicyUsingSharedEncoder(TorchRLModule):
    """A PG-style policy head over the features of the container's shared encoder."""

    def setup(self):
        feature_dim = self.model_config["feature_dim"]
        hidden_dim = self.model_config["hidden_dim"]
        self._pi_head = nn.Sequential(
            nn.Linear(feature_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, self.action_space.n),
        )

    def _forward_inference(self, batch):
        with torch.no_grad():
            return self._common_forward(batch)

    def _forward_exploration(self, batch):
        with torch.no_grad():
            return self._common_forward(batch)

    def _forward_train(self, batch):
        return self._common_forward(batch)

    def _common_forward(self, batch):
        return {Columns.ACTION_DIST_INPUTS: self._pi_head(batch["encoder_features"])}


class MultiAgentPGWithSharedEncoder(MultiRLModule):
    """Two policy heads sharing one encoder that belongs to the container."""

    def setup(self):
        super().setup()
        obs_dim = self.observation_space.shape[0]
        hidden_dim = self.model_config["encoder_hidden_dim"]
        feature_dim = self.model_config["feature_dim"]
        self._shared_encoder = nn.Sequential(
            nn.Linear(obs_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, feature_dim),
        )

    def _forward_inference(self, batch):
        return {
            mid: self[mid].forward_inference(
                {"encoder_features": self._shared_encoder(sub_batch[Columns.OBS])}
            )
            for mid, sub_batch in batch.items()
        }

    def _forward_exploration(self, batch):
        return self._forward_inference(batch)

    def _forward_train(self, batch):
        return self._forward_inference(batch)


class SharedEncoderPlugin:
    """Registers the two classes by name, like an installed plugin would."""

    @rlmodules.hookimpl
    def rlmodules_modules(self):
        return {
            "pg_shared_head": PGPolicyUsingSharedEncoder,
            "pg_shared_multi": MultiAgentPGWithSharedEncoder,
        }


#: The classes a checkpoint of :func:`shared_encoder_spec` names by import path: a user who
#: registers no plugin for them hands them over when loading.
SHARED_CLASSES = (MultiAgentPGWithSharedEncoder, PGPolicyUsingSharedEncoder)


def shared_encoder_spec() -> MultiRLModuleSpec:
    return MultiRLModuleSpec(
        multi_rl_module_class=MultiAgentPGWithSharedEncoder,
        observation_space=OBS,
        action_space=ACT,
        model_config={"feature_dim": FEATURE_DIM, "encoder_hidden_dim": ENCODER_HIDDEN_DIM},
        rl_module_specs={
            "p0": RLModuleSpec(module_class=PGPolicyUsingSharedEncoder,
                               model_config={"feature_dim": FEATURE_DIM, "hidden_dim": 32}),
            "p1": RLModuleSpec(module_class=PGPolicyUsingSharedEncoder,
                               model_config={"feature_dim": FEATURE_DIM, "hidden_dim": 4}),
        },
    )


def randomize(module: nn.Module, seed: int) -> nn.Module:
    """Overwrite every weight so that a fresh build of the same spec differs from it."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    return module


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            assert_same_state(a[key], b[key])
        else:
            assert torch.equal(a[key].cpu(), b[key].cpu()), key
