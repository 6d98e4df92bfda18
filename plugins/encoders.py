"""Built-in encoders: an MLP over 1-D Box observations, and over flattened discrete or
structured observations (one-hot Discrete and MultiDiscrete, MultiBinary, Dict, Tuple)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import torch
from rlmodules.columns import Columns
from rlmodules.errors import SpaceError
from rlmodules.model_config import DefaultModelConfig
from rlmodules.networks import ENCODER_OUT, Encoder, layer_inits, mlp
from torch import nn

__all__ = ["MLPEncoder", "ObservationFlattener", "build_default_encoder", "flat_dim"]


def flat_dim(space: gym.Space, *, top_level: bool = True) -> int | None:
    """Width of the flattened observation, or None if the built-ins do not support it.

    A top-level Box must be 1-D (images are a CNN plugin's job); Boxes nested in a Dict or
    Tuple are flattened whatever their shape.
    """
    if isinstance(space, gym.spaces.Box):
        if top_level:
            return int(space.shape[0]) if len(space.shape) == 1 else None
        return math.prod(space.shape)
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(space.nvec.sum())
    if isinstance(space, gym.spaces.MultiBinary):
        return math.prod(space.shape)
    if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
        subs = space.spaces.values() if isinstance(space, gym.spaces.Dict) else space.spaces
        dims = [flat_dim(s, top_level=False) for s in subs]
        return None if not dims or any(d is None for d in dims) else sum(dims)  # type: ignore
    return None


def _leaves(space: gym.Space, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...],
                                                                        gym.Space]]:
    if isinstance(space, gym.spaces.Dict):
        return [leaf for k, s in space.spaces.items() for leaf in _leaves(s, (*path, k))]
    if isinstance(space, gym.spaces.Tuple):
        return [leaf for i, s in enumerate(space.spaces) for leaf in _leaves(s, (*path, i))]
    return [(path, space)]


def _leaf_flattener(space: gym.Space) -> Callable[[torch.Tensor], torch.Tensor]:
    """``[..., *space.shape]`` -> ``[..., width]`` float features for one leaf space."""
    ndim = len(space.shape)

    def flat(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(*x.shape[: x.dim() - ndim], -1) if ndim != 1 else x

    if isinstance(space, gym.spaces.Discrete):
        start, n = int(space.start), int(space.n)
        return lambda x: nn.functional.one_hot(x.long() - start, n).float()
    if isinstance(space, gym.spaces.MultiDiscrete):
        starts = space.start.reshape(-1).tolist()
        sizes = space.nvec.reshape(-1).tolist()

        def one_hots(x: torch.Tensor) -> torch.Tensor:
            x = x.long().reshape(*x.shape[: x.dim() - ndim], -1)
            return torch.cat([nn.functional.one_hot(x[..., i] - s, n).float()
                              for i, (s, n) in enumerate(zip(starts, sizes))], dim=-1)

        return one_hots
    return lambda x: flat(x).float()  # Box, MultiBinary


class ObservationFlattener(nn.Module):
    """Flattens a (possibly nested) observation to ``[..., flat_dim]`` float features.

    Discrete and MultiDiscrete leaves become one-hot vectors, Box and MultiBinary leaves are
    flattened; Dict and Tuple leaves are concatenated in the space's order.
    """

    def __init__(self, observation_space: gym.Space) -> None:
        super().__init__()
        self._leaves = [(path, _leaf_flattener(space))
                        for path, space in _leaves(observation_space)]

    def forward(self, obs: Any) -> torch.Tensor:
        parts = []
        for path, flatten in self._leaves:
            value = obs
            for key in path:
                value = value[key]
            parts.append(flatten(value))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)


class MLPEncoder(Encoder):
    """``fcnet_hiddens`` dense layers over the (flattened) observation.

    Example::

        encoder = MLPEncoder(gym.spaces.Box(-1, 1, (4,)), DefaultModelConfig(fcnet_hiddens=[64]))
        features = encoder({"obs": torch.zeros(8, 4)})["encoder_out"]  # [8, 64]
    """

    def __init__(self, observation_space: gym.Space, model_config: DefaultModelConfig) -> None:
        super().__init__()
        input_dim = flat_dim(observation_space)
        if input_dim is None:
            raise SpaceError(
                f"MLPEncoder cannot encode observation space {observation_space}; it takes a "
                f"1-D Box, Discrete, MultiDiscrete, MultiBinary, or a Dict or Tuple of those"
            )
        hiddens = list(model_config.fcnet_hiddens)
        plain_box = isinstance(observation_space, gym.spaces.Box)
        self.flatten = None if plain_box else ObservationFlattener(observation_space)
        self.net = mlp(input_dim, hiddens, hidden_activation=model_config.fcnet_activation,
                       **layer_inits(model_config, "fcnet"))
        self.output_dim = hiddens[-1] if hiddens else input_dim

    def forward(self, batch: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        if self.flatten is not None:
            obs = self.flatten(obs)
        elif obs.dtype != torch.float32:
            obs = obs.float()
        return {ENCODER_OUT: self.net(obs)}


def build_default_encoder(
    observation_space: gym.Space, model_config: DefaultModelConfig
) -> Encoder | None:
    """The built-in answer to ``rlmodules_build_encoder``: an MLP, or None if unsupported."""
    if model_config.use_lstm or flat_dim(observation_space) is None:
        return None
    return MLPEncoder(observation_space, model_config)
