"""Atari games with the standard preprocessing (Mnih et al. 2015; Machado et al. 2018).

As SB3's ``AtariWrapper`` and RLlib's Atari wrapper do: up to 30 no-op actions at reset,
each action repeated for 4 frames with the last two max-pooled, 84x84 grayscale frames,
FIRE pressed at reset in games that need it, the last 4 frames stacked (channels first:
``Box(0, 255, (4, 84, 84), uint8)``), and, in training only, the end of a life as the end
of an episode and rewards clipped to their sign. Needs the ``atari`` extra (``ale-py``,
which ships the ROMs, and ``opencv-python-headless`` for the resizing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from rlmodules.errors import ConfigError

__all__ = ["AtariEnv", "EpisodicLife", "FireReset", "is_atari_id"]

_DEFAULTS: dict[str, Any] = {
    "env_id": None, "training": True, "frame_stack": 4, "screen_size": 84, "noop_max": 30,
    "render_mode": None,
}


def is_atari_id(env: Any) -> bool:
    """True for an ALE gymnasium id such as ``"ALE/Pong-v5"``."""
    return isinstance(env, str) and env.startswith("ALE/")


class AtariEnv(gym.Wrapper):
    """An ALE game, preprocessed; ``config`` keys: ``env_id`` (required, e.g.
    ``"ALE/Pong-v5"``), ``training`` (default True: episodic lives and clipped rewards;
    False for evaluation: whole games, true scores), ``frame_stack`` (4),
    ``screen_size`` (84), ``noop_max`` (30), ``render_mode`` (None; ``"rgb_array"`` for
    ``rlmodules eval --gif``).

    Sticky actions stay as the v5 ids define them (``repeat_action_probability=0.25``).

    Example::

        env = AtariEnv(config={"env_id": "ALE/Pong-v5"})
        obs, info = env.reset(seed=0)            # obs.shape == (4, 84, 84)
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        settings = _settings(config)
        _register_ale()
        # frameskip=1: the preprocessing skips frames (and max-pools the last two).
        env = gym.make(settings["env_id"], frameskip=1, render_mode=settings["render_mode"])
        env = gym.wrappers.AtariPreprocessing(
            env, noop_max=settings["noop_max"], frame_skip=4,
            screen_size=settings["screen_size"],
        )
        if settings["training"]:
            env = EpisodicLife(env)
        if "FIRE" in env.unwrapped.get_action_meanings():
            env = FireReset(env)
        if settings["training"]:
            env = gym.wrappers.TransformReward(env, np.sign)
        env = gym.wrappers.FrameStackObservation(env, settings["frame_stack"])
        super().__init__(env)
        self.settings = settings


class EpisodicLife(gym.Wrapper):
    """A lost life ends the episode (``terminated``); the next ``reset`` then goes on
    with the same game (one no-op step), and only a finished game is really reset."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._lives = 0
        self._game_over = True

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._game_over = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        if 0 < lives < self._lives:
            terminated = True
        self._lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        if self._game_over or seed is not None:
            obs, info = self.env.reset(seed=seed, options=options)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
        self._game_over = False
        self._lives = self.env.unwrapped.ale.lives()
        return obs, info


class FireReset(gym.Wrapper):
    """Press FIRE (then the next action) after a reset, for games that wait for it."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        self.env.reset(seed=seed, options=options)
        for action in (1, 2):
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
        return obs, info


def _settings(config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(config or {})
    unknown = sorted(set(config) - set(_DEFAULTS))
    if unknown:
        raise ConfigError(
            f"AtariEnv got unknown config keys {unknown}; it takes {sorted(_DEFAULTS)}"
        )
    settings = {**_DEFAULTS, **config}
    if not is_atari_id(settings["env_id"]):
        raise ConfigError(
            f"AtariEnv config 'env_id' must be an ALE id such as 'ALE/Pong-v5', got "
            f"{settings['env_id']!r}"
        )
    for key in ("frame_stack", "screen_size"):
        value = settings[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"AtariEnv config {key!r} must be a positive int, got {value!r}")
    if not isinstance(settings["noop_max"], int) or settings["noop_max"] < 0:
        raise ConfigError(
            f"AtariEnv config 'noop_max' must be an int >= 0, got {settings['noop_max']!r}")
    if not isinstance(settings["training"], bool):
        raise ConfigError(
            f"AtariEnv config 'training' must be True or False, got {settings['training']!r}")
    return settings


def _register_ale() -> None:
    try:
        import ale_py
    except ImportError:
        raise ConfigError(
            "Atari envs need ale-py (it ships the ROMs) and opencv-python-headless: "
            "pip install 'rlmodules[atari]'"
        ) from None
    gym.register_envs(ale_py)
