"""EnvPool as an env backend: its C++ Atari and MuJoCo envs, stepped as one batch.

``env_runners(env_backend="envpool")`` swaps the gymnasium envs of two kinds of config for
EnvPool's (``pip install "rlmodules[envpool]"``):

* :class:`~rlmodules.envs.AtariEnv` (``rlmodules train --env ALE/Pong-v5``): EnvPool's game
  with the same preprocessing and spaces: up to 30 no-op actions at reset, 4 frames per
  action max-pooled, 84x84 grayscale (area resizing), FIRE at reset in games that need it,
  4 stacked frames ``(4, 84, 84) uint8``, sticky actions with probability 0.25 as the v5
  ids, 27,000 steps at most; in training a lost life ends the episode and rewards are
  clipped to their sign, in evaluation neither.
* gymnasium MuJoCo ids that EnvPool ships (``HalfCheetah-v5``, ``Hopper-v5``, ...), with
  gymnasium's spaces.

EnvPool's own ALE build differs from ale-py's in small ways: its FIRE reset presses FIRE
once (the gymnasium stack presses FIRE, then UP), its grayscale conversion and resize are
its own C++ code (pixels may differ by a level or two), and its random no-op counts and
sticky actions come from its own generator, so the same seed plays other games. The
episodes, rewards and observations mean the same. Autoreset is gymnasium's next-step mode:
the step after an episode ends returns the first observation of the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from rlmodules.errors import ConfigError

__all__ = ["EnvPoolVectorEnv", "EnvPoolEnv", "envpool_task", "require_envpool"]

_ATARI_MODULE = "envpool.atari"
_MUJOCO_MODULE = "envpool.mujoco.gym"
#: The v5 ids' sticky-action probability (EnvPool's default is 0).
_STICKY = 0.25


def require_envpool() -> Any:
    """The ``envpool`` package, or a ``ConfigError`` naming the extra and the fallback."""
    try:
        import envpool
    except ImportError as exc:
        raise ConfigError(
            f"env_backend='envpool' needs EnvPool ({exc}); install it with `pip install "
            f"\"rlmodules[envpool]\"`, or use env_backend='gymnasium' (the default)"
        ) from None
    return envpool


def envpool_task(env: Any, env_config: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``(EnvPool task id, its keyword arguments)`` for a config's ``env`` and
    ``env_config``, or a ``ConfigError`` naming the gymnasium path for anything EnvPool
    does not provide."""
    from .atari import AtariEnv, _settings

    env_config = dict(env_config or {})
    envpool = require_envpool()
    specs = envpool.registration.registry.specs
    if env is AtariEnv or env == "rlmodules.envs:AtariEnv":
        settings = _settings(env_config)
        if settings["render_mode"] is not None:
            raise ConfigError(
                "EnvPool's Atari envs do not render; use env_backend='gymnasium' to record "
                "frames (render_mode)"
            )
        task = settings["env_id"].removeprefix("ALE/")
        if specs.get(task, ("",))[0] != _ATARI_MODULE:
            raise _missing(settings["env_id"], "an Atari game")
        training = settings["training"]
        return task, {
            "stack_num": settings["frame_stack"], "img_height": settings["screen_size"],
            "img_width": settings["screen_size"], "noop_max": settings["noop_max"],
            "episodic_life": training, "reward_clip": training, "frame_skip": 4,
            "repeat_action_probability": _STICKY, "use_fire_reset": True,
        }
    if isinstance(env, str) and specs.get(env, ("",))[0] == _MUJOCO_MODULE:
        if env_config:
            raise ConfigError(
                f"env_backend='envpool' runs {env!r} with EnvPool's defaults; its env_config "
                f"{env_config!r} is gymnasium's keywords. Drop it, or use "
                f"env_backend='gymnasium'"
            )
        return env, {}
    raise _missing(env if isinstance(env, str) else getattr(env, "__name__", repr(env)),
                   "an Atari game (the AtariEnv preprocessing) or a MuJoCo task")


def _missing(name: str, kinds: str) -> ConfigError:
    return ConfigError(
        f"env_backend='envpool' covers {kinds} that EnvPool ships, and EnvPool has no "
        f"{name!r}; use env_backend='gymnasium' (the default), which makes it with "
        f"gymnasium.make (Atari ids through rlmodules.envs.AtariEnv)"
    )


class EnvPoolVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of an EnvPool task with gymnasium's vector API (next-step
    autoreset). EnvPool seeds at creation, so :meth:`reset` with a new seed makes the
    pool anew; ``num_threads`` worker threads step it.

    Example::

        task, kwargs = envpool_task(AtariEnv, {"env_id": "ALE/Pong-v5"})
        envs = EnvPoolVectorEnv(task, kwargs, num_envs=8)
        obs, info = envs.reset(seed=0)          # obs.shape == (8, 4, 84, 84)
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, task: str, kwargs: Mapping[str, Any], *, num_envs: int,
                 num_threads: int = 1) -> None:
        self.task = task
        self.kwargs = dict(kwargs)
        self.num_envs = num_envs
        self.num_threads = num_threads
        self._pool: Any = None
        self._seed: int | None = None
        probe = self._make(seed=0, num_envs=1)
        self.single_observation_space = probe.observation_space
        self.single_action_space = _as_gymnasium_action_space(probe.action_space)
        probe.close()
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)

    def _make(self, *, seed: int, num_envs: int) -> Any:
        envpool = require_envpool()
        return envpool.make(self.task, env_type="gymnasium", num_envs=num_envs,
                            batch_size=num_envs, seed=seed, num_threads=self.num_threads,
                            **self.kwargs)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if isinstance(seed, list):
            seed = seed[0]
        if seed is None:
            seed = self._seed if self._seed is not None else \
                int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
        if self._pool is None or seed != self._seed:
            self.close()
            self._pool = self._make(seed=seed, num_envs=self.num_envs)
            self._seed = seed
        obs, info = self._pool.reset()
        return obs, info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        if self._pool is None:
            raise RuntimeError("EnvPoolVectorEnv.step() before reset()")
        obs, reward, terminated, truncated, info = self._pool.step(np.asarray(actions))
        return obs, reward, terminated, truncated, info

    def close(self, **kwargs: Any) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class EnvPoolEnv(gym.Env):
    """One env of an EnvPool task with gymnasium's single-env API (no autoreset): what
    probes spaces and plays single episodes.

    Example::

        env = EnvPoolEnv("HalfCheetah-v5", {})
        obs, info = env.reset(seed=0)           # obs.shape == (17,)
    """

    def __init__(self, task: str, kwargs: Mapping[str, Any]) -> None:
        self.pool = EnvPoolVectorEnv(task, kwargs, num_envs=1)
        self.observation_space = self.pool.single_observation_space
        self.action_space = self.pool.single_action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.pool.reset(seed=seed)
        return obs[0], _first(info)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.pool.step(np.asarray(action)[None])
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), _first(info)

    def render(self) -> Any:
        raise ConfigError("EnvPool envs do not render; use env_backend='gymnasium' to record "
                          "frames")

    def close(self) -> None:
        self.pool.close()


def _first(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _first(v) if isinstance(v, Mapping) else v[0] for k, v in info.items()}


def _as_gymnasium_action_space(space: gym.Space) -> gym.Space:
    """EnvPool's space, with float32 continuous actions as gymnasium's MuJoCo envs."""
    if isinstance(space, gym.spaces.Box) and space.dtype == np.float64:
        return gym.spaces.Box(space.low.astype(np.float32), space.high.astype(np.float32),
                              dtype=np.float32)
    return space
