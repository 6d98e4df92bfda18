"""Small RL modules for the conformance kit's tests: two that honour the contract and
one deliberately broken module per check the kit must catch."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules import Columns, SpaceError, TorchRLModule
from torch import nn

OBS_SPACE = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
ACTION_SPACE = gym.spaces.Discrete(3)
HIDDEN = 16


class TinyPolicy(TorchRLModule):
    """A correct stateless policy over 1-D Box observations and Discrete actions.

    It declares no ``conformance_spaces``, so the default grid applies (other spaces skip).
    """

    def setup(self) -> None:
        if not (isinstance(self.observation_space, gym.spaces.Box)
                and len(self.observation_space.shape) == 1
                and isinstance(self.action_space, gym.spaces.Discrete)):
            raise SpaceError(
                f"{type(self).__name__} takes a 1-D Box observation space and a Discrete action "
                f"space, got {self.observation_space} and {self.action_space}"
            )
        self.net = nn.Sequential(nn.Linear(self.observation_space.shape[0], HIDDEN), nn.Tanh())
        self.pi = nn.Linear(HIDDEN, self.head_width())

    def head_width(self) -> int:
        return int(self.action_space.n)

    def features(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.net(batch[Columns.OBS])

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.pi(self.features(batch))}


class WrongWidthPolicy(TinyPolicy):
    """Its head has one output too many for the Categorical distribution."""

    def head_width(self) -> int:
        return int(self.action_space.n) + 1


class MissingKeyPolicy(TinyPolicy):
    """forward_exploration returns its logits under a made-up key."""

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"logits": self.pi(self.features(batch))}


class DetachedPolicy(TinyPolicy):
    """forward_train detaches the encoder, so its weights never learn."""

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.pi(self.features(batch).detach())}


class NoisyInferencePolicy(TinyPolicy):
    """forward_inference adds fresh noise on every call."""

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        logits = self.pi(self.features(batch))
        return {Columns.ACTION_DIST_INPUTS: logits + torch.randn_like(logits)}


class DropoutPolicy(TinyPolicy):
    """Dropout in the acting path: random in train mode, so acting runs it in eval mode."""

    def setup(self) -> None:
        super().setup()
        self.dropout = nn.Dropout(0.5)

    def features(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.dropout(self.net(batch[Columns.OBS]))


def _noise_while_training(gate: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x + torch.randn_like(x) if gate.training else x


class HelperNoisePolicy(TinyPolicy):
    """Noise decided by a helper reading a child's mode: no layer's own code reads it, so
    the acting forwards' switch to eval mode misses it."""

    def setup(self) -> None:
        super().setup()
        self.gate = nn.Identity()

    def features(self, batch: dict[str, Any]) -> torch.Tensor:
        return _noise_while_training(self.gate, self.net(batch[Columns.OBS]))


class BatchNormPolicy(TinyPolicy):
    """Batch norm: repeatable in both modes, but train-mode outputs differ (a soft issue)."""

    def setup(self) -> None:
        super().setup()
        self.norm = nn.BatchNorm1d(HIDDEN)

    def features(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.norm(self.net(batch[Columns.OBS]))


class ConfigMutatingPolicy(TinyPolicy):
    """Pops its layer width out of model_config in setup(), so its checkpoint metadata no
    longer says how to rebuild it."""

    conformance_spaces = [(OBS_SPACE, ACTION_SPACE, {"hidden": 24})]

    def setup(self) -> None:
        hidden = self.model_config.pop("hidden", 8)
        self.net = nn.Sequential(nn.Linear(self.observation_space.shape[0], hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, int(self.action_space.n))


class GRUPolicy(TorchRLModule):
    """A correct stateful policy: observations [B, T, D], state {"h": [B, H]}."""

    conformance_spaces = [(OBS_SPACE, ACTION_SPACE)]

    def setup(self) -> None:
        self.gru = nn.GRU(self.observation_space.shape[0], HIDDEN, batch_first=True)
        self.pi = nn.Linear(HIDDEN, int(self.action_space.n))

    def get_initial_state(self) -> dict[str, Any]:
        return {"h": torch.zeros(HIDDEN)}

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        features, h = self.gru(batch[Columns.OBS], batch[Columns.STATE_IN]["h"].unsqueeze(0))
        return {
            Columns.ACTION_DIST_INPUTS: self.pi(features),
            Columns.STATE_OUT: self.state_out(h),
        }

    def state_out(self, h: torch.Tensor) -> dict[str, Any]:
        return {"h": h.squeeze(0)}


class TorchLayoutStatePolicy(GRUPolicy):
    """Returns the GRU's own [num_layers, B, H] state instead of [B, H]."""

    def state_out(self, h: torch.Tensor) -> dict[str, Any]:
        return {"h": h}


class ActionsOnlyPolicy(TinyPolicy):
    """A correct policy that returns greedy actions itself (no action_dist_inputs when acting)."""

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTIONS: self.pi(self.features(batch)).argmax(-1)}

    _forward_exploration = _forward_inference
