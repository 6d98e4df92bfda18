"""RandomEnv: observations and rewards drawn at random from configurable spaces (RLlib's
``ray.rllib.examples.envs.classes.random_env.RandomEnv``, with its config keys), for tests
and examples that need an env of given spaces and nothing else."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from rlmodules.errors import ConfigError, did_you_mean

__all__ = ["RandomEnv"]

_KEYS = ("action_space", "observation_space", "reward_space", "p_terminated", "p_done",
         "max_episode_len", "check_action_bounds", "static_samples")


class RandomEnv(gym.Env):
    """An env whose observations and rewards are samples of its spaces.

    Config keys (RLlib's): ``observation_space`` and ``action_space`` (default
    ``Discrete(2)``), ``reward_space`` (default ``Box(-1, 1, ())``), ``p_terminated`` (the
    chance of ``terminated`` after each step; 0.1, RLlib's older name ``p_done`` works too),
    ``max_episode_len`` (truncate after that many steps; None: never), ``check_action_bounds``
    (an action outside the space raises) and ``static_samples`` (one observation and reward,
    repeated). ``reset(seed=...)`` makes the episode reproducible.

    Example::

        env = RandomEnv({"observation_space": gym.spaces.Box(0.0, 1.0, (3, 64, 64)),
                         "action_space": gym.spaces.Discrete(2), "max_episode_len": 10})
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = _checked(config)
        self.action_space = config.get("action_space", gym.spaces.Discrete(2))
        self.observation_space = config.get("observation_space", gym.spaces.Discrete(2))
        self.reward_space = config.get(
            "reward_space", gym.spaces.Box(-1.0, 1.0, shape=(), dtype=np.float32))
        self.p_terminated = float(config.get("p_terminated", config.get("p_done", 0.1)))
        self.max_episode_len = config.get("max_episode_len")
        self.check_action_bounds = bool(config.get("check_action_bounds", False))
        self.static_samples = bool(config.get("static_samples", False))
        self._samples = (self.observation_space.sample(), self.reward_space.sample())
        self.steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            for offset, space in enumerate((self.observation_space, self.reward_space,
                                            self.action_space)):
                space.seed(seed + offset)
        self.steps = 0
        return self._sample()[0], {}

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if self.check_action_bounds and not self.action_space.contains(action):
            raise ValueError(f"RandomEnv: action {action!r} is not in {self.action_space}")
        self.steps += 1
        truncated = bool(self.max_episode_len and self.steps >= self.max_episode_len)
        terminated = not truncated and bool(self.np_random.random() < self.p_terminated)
        observation, reward = self._sample()
        return observation, reward, terminated, truncated, {}

    def _sample(self) -> tuple[Any, Any]:
        if self.static_samples:
            return copy.deepcopy(self._samples)
        return self.observation_space.sample(), self.reward_space.sample()


def _checked(config: Any) -> Mapping[str, Any]:
    """``config`` (None: ``{}``) with every key known and every value of the right kind."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ConfigError(f"RandomEnv config must be a dict, got {type(config).__name__}")
    for key, value in config.items():
        if key not in _KEYS:
            raise ConfigError(
                f"RandomEnv has no config key {key!r}.{did_you_mean(str(key), _KEYS)} "
                f"Known keys: {', '.join(_KEYS)}"
            )
        if key.endswith("_space") and not isinstance(value, gym.Space):
            raise ConfigError(f"RandomEnv {key} must be a gymnasium space, got {value!r}")
        if key in ("p_terminated", "p_done") and not (
                isinstance(value, (int, float)) and not isinstance(value, bool)
                and 0.0 <= value <= 1.0):
            raise ConfigError(f"RandomEnv {key} must be a probability in [0, 1], got {value!r}")
        if key == "max_episode_len" and value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ConfigError(
                f"RandomEnv max_episode_len must be a positive int or None, got {value!r}")
    return config
