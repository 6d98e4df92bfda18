"""Built-in encoders: MLPs over 1-D Box observations and over flattened discrete /
structured observations (one-hot Discrete and MultiDiscrete, MultiBinary, Dict, Tuple)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from torch import nn

from rlmodules.catalog import ENCODER_OUT, Encoder, mlp

__all__ = ["MLPEncoder", "build_default_encoder", "flat_dim"]


def flat_dim(space: gym.Space) -> int | None:
    """Width of the flattened observation, or None if the space is not supported here."""
    if isinstance(space, gym.spaces.Box):
        return int(space.shape[0]) if len(space.shape) == 1 else None
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(space.nvec.sum()) if space.nvec.ndim == 1 else None
    if isinstance(space, gym.spaces.MultiBinary):
        return int(space.n) if isinstance(space.n, (int,)) or space.n.ndim == 0 else None
    if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
        subs = space.spaces.values() if isinstance(space, gym.spaces.Dict) else space.spaces
        dims = [flat_dim(s) for s in subs]
        return None if any(d is None for d in dims) else sum(dims)  # type: ignore[arg-type]
    return None


def _flatten(space: gym.Space, obs: Any) -> torch.Tensor:
    if isinstance(space, gym.spaces.Box):
        return obs if obs.dtype == torch.float32 else obs.float()
    if isinstance(space, gym.spaces.Discrete):
        return nn.functional.one_hot(obs.long() - int(space.start), int(space.n)).float()
    if isinstance(space, gym.spaces.MultiDiscrete):
        parts = [
            nn.functional.one_hot(obs[..., i].long() - int(space.start[i]), int(n)).float()
            for i, n in enumerate(space.nvec)
        ]
        return torch.cat(parts, dim=-1)
    if isinstance(space, gym.spaces.MultiBinary):
        return obs.float()
    if isinstance(space, gym.spaces.Dict):
        return torch.cat([_flatten(s, obs[k]) for k, s in space.spaces.items()], dim=-1)
    if isinstance(space, gym.spaces.Tuple):
        return torch.cat([_flatten(s, o) for s, o in zip(space.spaces, obs)], dim=-1)
    raise TypeError(f"unsupported space {space}")


class MLPEncoder(Encoder):
    """``fcnet_hiddens`` dense layers over the flattened observation."""

    def __init__(self, observation_space: gym.Space, model_config: Any) -> None:
        super().__init__()
        self.observation_space = observation_space
        input_dim = flat_dim(observation_space)
        assert input_dim is not None
        hiddens = list(model_config.fcnet_hiddens)
        self.net = mlp(input_dim, hiddens, hidden_activation=model_config.fcnet_activation)
        self.output_dim = hiddens[-1] if hiddens else input_dim
        self._box = isinstance(observation_space, gym.spaces.Box)

    def forward(self, batch: Any) -> dict[str, Any]:
        obs = batch["obs"]
        x = obs if self._box and obs.dtype == torch.float32 else _flatten(
            self.observation_space, obs
        )
        return {ENCODER_OUT: self.net(x)}


def build_default_encoder(observation_space: gym.Space, model_config: Any) -> Encoder | None:
    if model_config.use_lstm or flat_dim(observation_space) is None:
        return None
    return MLPEncoder(observation_space, model_config)
