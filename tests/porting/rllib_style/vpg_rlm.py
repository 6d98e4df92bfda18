"""A VPG-style policy (``hidden_dim``) and policies sharing one encoder inside a
MultiRLModule, in the style of the modules RLlib's own RLModule unit tests use."""

import torch
from ray.rllib.core import Columns
from ray.rllib.core.models.base import ENCODER_OUT
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.core.rl_module.torch import TorchRLModule

SHARED_ENCODER_ID = "shared_encoder"


class VPGLikeRLModule(TorchRLModule):
    def setup(self):
        hidden = self.model_config["hidden_dim"]
        self.net = torch.nn.Sequential(
            torch.nn.Linear(self.observation_space.shape[0], hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, self.action_space.n))

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.net(batch[Columns.OBS])}


class EncoderRLModule(TorchRLModule):
    def setup(self):
        self.net = torch.nn.Linear(self.observation_space.shape[0],
                                   self.model_config["embedding_dim"])

    def _forward(self, batch, **kwargs):
        return {ENCODER_OUT: self.net(batch[Columns.OBS])}


class HeadAfterEncoderRLModule(TorchRLModule):
    def setup(self):
        self.head = torch.nn.Sequential(
            torch.nn.Linear(self.model_config["embedding_dim"], self.model_config["hidden_dim"]),
            torch.nn.ReLU(), torch.nn.Linear(self.model_config["hidden_dim"], self.action_space.n))

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.head(batch[ENCODER_OUT])}


class SharedEncoderMultiRLModule(MultiRLModule):
    def setup(self):
        super().setup()
        assert SHARED_ENCODER_ID in self._rl_modules and len(self._rl_modules) > 1
        self.encoder = self._rl_modules[SHARED_ENCODER_ID]

    def _forward(self, batch, forward_type, **kwargs):
        out = {}
        for policy_id, policy_batch in batch.items():
            policy_batch[ENCODER_OUT] = self.encoder._forward(policy_batch)[ENCODER_OUT]
            out[policy_id] = getattr(self._rl_modules[policy_id], forward_type)(policy_batch)
        return out

    def _forward_inference(self, batch, **kwargs):
        return self._forward(batch, "_forward_inference", **kwargs)

    def _forward_exploration(self, batch, **kwargs):
        return self._forward(batch, "_forward_exploration", **kwargs)

    def _forward_train(self, batch, **kwargs):
        return self._forward(batch, "_forward_train", **kwargs)
