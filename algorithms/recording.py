"""Playing greedy episodes of a trained module: returns, lengths and rendered frames (GIFs,
replay videos)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .rollout import initial_state, to_tensor, tree_map

__all__ = ["PlayedEpisode", "play_episode", "record_episode_frames", "record_frames",
           "rendering_env"]


def record_episode_frames(algo: Any, *, module_id: str = DEFAULT_MODULE_ID,
                          max_steps: int = 1000, seed: int | None = None) -> list[np.ndarray]:
    """RGB frames ``[H, W, 3]`` of one greedy episode, in an env made by
    :func:`rendering_env` from the algorithm's env and ``env_config``; the policy acts on
    what it was trained on (observations normalised as in training)."""
    normalizer = algo.obs_normalizer
    return record_frames(algo.module, algo.config.env, algo.config.env_config,
                         module_id=module_id, max_steps=max_steps, seed=seed,
                         preprocess=None if normalizer is None else normalizer.normalize)


def record_frames(multi_module: Any, env: Any, env_config: Mapping[str, Any], *,
                  module_id: str = DEFAULT_MODULE_ID, max_steps: int = 1000,
                  seed: int | None = None, preprocess: Callable[[Any], Any] | None = None
                  ) -> list[np.ndarray]:
    """:func:`record_episode_frames` for ``multi_module[module_id]`` acting in ``env`` (an
    id, class or factory) made with ``env_config``."""
    from .env_creation import env_name

    made = rendering_env(env, env_config)
    try:
        played = play_episode(multi_module[module_id], made, seed=seed, max_steps=max_steps,
                              render=True, env_id=env_name(env), preprocess=preprocess)
    finally:
        made.close()
    return played.frames


def rendering_env(env: Any, env_config: Mapping[str, Any]) -> Any:
    """One instance of ``env`` (an id, import path, class or factory) that renders
    ``rgb_array`` frames: made with ``render_mode="rgb_array"`` added to ``env_config`` (a
    gymnasium id passes it to ``gym.make``; an env class or factory must pass it on)."""
    from .env_creation import env_name, make_env_creator

    # Frames are drawn off-screen: no pygame banner, and no display for SDL to look for.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    name = env_name(env)
    try:
        made = make_env_creator(env, {**env_config, "render_mode": "rgb_array"})()
    except TypeError as exc:  # a constructor without a render_mode keyword
        raise ConfigError(
            f"cannot record {name}: making it with render_mode='rgb_array' failed ({exc})"
        ) from None
    modes = getattr(made, "metadata", {}).get("render_modes", [])
    if "rgb_array" not in modes or getattr(made, "render_mode", None) != "rgb_array":
        made.close()
        raise ConfigError(
            f"cannot record {name}: recording needs an env that renders 'rgb_array' frames "
            f"(metadata render_modes {modes}) and takes render_mode from its env_config (it "
            f"was made with render_mode={getattr(made, 'render_mode', None)!r})"
        )
    return made


@attrs.frozen
class PlayedEpisode:
    """One episode :func:`play_episode` played: its return, length (steps) and, when
    rendered, its RGB frames ``[H, W, 3]``: the reset and every step (``length + 1``), or the
    first ``max_frames`` of them."""

    episode_return: float
    length: int
    frames: list[np.ndarray]


def play_episode(module: Any, env: Any, *, seed: int | None, max_steps: int | None = None,
                 render: bool = False, max_frames: int | None = None, env_id: str = "the env",
                 preprocess: Callable[[Any], Any] | None = None) -> PlayedEpisode:
    """Play one greedy episode of the single-agent ``module`` in ``env`` (reset with
    ``seed``), stopping at its end or after ``max_steps``. ``preprocess`` maps each
    observation before the module sees it (e.g. frozen observation normalisation);
    ``render`` collects ``env.render()`` frames (an env made with ``render_mode=
    "rgb_array"``), the first ``max_frames`` of them if given. The env is left open."""
    state = tree_map(lambda s: s.unsqueeze(0), initial_state(module)) \
        if module.is_stateful() else None
    obs, _ = env.reset(seed=seed)
    frames = [_render(env, env_id)] if render else []
    total, steps = 0.0, 0
    while max_steps is None or steps < max_steps:
        seen = obs if preprocess is None else preprocess(obs)
        batch: dict[str, Any] = {Columns.OBS: tree_map(lambda x: to_tensor(x)[None], seen)}
        if state is not None:
            batch[Columns.STATE_IN] = state
        out = compute_actions(module, batch, explore=False, for_env=True)
        state = out.get(Columns.STATE_OUT, state)
        obs, reward, terminated, truncated, _ = env.step(
            tree_map(lambda a: a[0], out[Columns.ACTIONS_FOR_ENV]))
        total += float(reward)
        steps += 1
        if render and (max_frames is None or len(frames) < max_frames):
            frames.append(_render(env, env_id))
        if terminated or truncated:
            break
    return PlayedEpisode(episode_return=total, length=steps, frames=frames)


def _render(env: Any, env_id: str) -> np.ndarray:
    import gymnasium as gym

    try:
        return env.render()
    except gym.error.DependencyNotInstalled as exc:
        raise ConfigError(
            f"{env_id} cannot render frames here: {exc} (the classic-control envs render with "
            f"the pygame that `pip install 'rlmodules[train]'` brings)"
        ) from None
