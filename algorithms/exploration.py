"""Exploration for the off-policy loop: a sampler whose env slots each act uniformly at
random with some probability (epsilon-greedy for DQN, the warm-up before learning starts
for SAC), and otherwise as the module explores."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError

from .sampler import VectorEnvSampler

__all__ = ["ExplorationSampler"]


class ExplorationSampler(VectorEnvSampler):
    """A :class:`VectorEnvSampler` whose env slots each act uniformly at random with
    probability ``random_fraction`` (epsilon-greedy for DQN, warm-up for SAC)."""

    def __init__(self, *, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.random_fraction = 0.0
        self.rng = np.random.default_rng(None if seed is None else seed + 1)
        space = self.module.action_space
        if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise ConfigError(
                f"off-policy exploration takes a Discrete or Box action space, got {space}"
            )
        self.space = space

    def _act(self) -> dict[str, Any]:
        fraction = self.random_fraction
        if fraction >= 1.0:  # all random: no need to run the module
            env_actions = self._random_actions()
            return {Columns.ACTIONS: torch.from_numpy(self._as_module_dtype(env_actions)),
                    Columns.ACTIONS_FOR_ENV: env_actions,
                    Columns.ACTION_LOGP: torch.zeros(self.num_envs)}
        out = super()._act()
        # The sampler records log-probabilities; a module returning its actions has none.
        out.setdefault(Columns.ACTION_LOGP, torch.zeros(self.num_envs))
        if fraction <= 0.0:
            return out
        pick = self.rng.random(self.num_envs) < fraction
        if pick.any():
            random = self._random_actions()
            out[Columns.ACTIONS_FOR_ENV] = np.where(_expand(pick, random), random,
                                                    out[Columns.ACTIONS_FOR_ENV])
            replaced = torch.from_numpy(self._as_module_dtype(random))
            mask = torch.from_numpy(_expand(pick, random))
            out[Columns.ACTIONS] = torch.where(mask, replaced, out[Columns.ACTIONS])
        return out

    def _random_actions(self) -> np.ndarray:
        space = self.space
        if isinstance(space, gym.spaces.Discrete):
            return (space.start + self.rng.integers(0, space.n, self.num_envs)).astype(
                space.dtype)
        shape = (self.num_envs, *space.shape)
        return self.rng.uniform(space.low, space.high, shape).astype(space.dtype)

    def _as_module_dtype(self, actions: np.ndarray) -> np.ndarray:
        if isinstance(self.space, gym.spaces.Discrete):
            return (actions - self.space.start).astype(np.int64)
        return actions.astype(np.float32)


def _expand(pick: np.ndarray, like: np.ndarray) -> np.ndarray:
    return pick.reshape(pick.shape + (1,) * (like.ndim - 1))
