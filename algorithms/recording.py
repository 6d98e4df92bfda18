"""Recording an episode's rendered frames (for GIFs) with a trained algorithm's module."""

from __future__ import annotations

from typing import Any

import numpy as np
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .rollout import to_tensor, tree_map

__all__ = ["record_episode_frames", "record_frames"]


def record_episode_frames(algo: Any, *, module_id: str = DEFAULT_MODULE_ID,
                          max_steps: int = 1000, seed: int | None = None) -> list[np.ndarray]:
    """RGB frames ``[H, W, 3]`` of one greedy episode. The env is made as the algorithm
    makes it, with ``render_mode="rgb_array"`` added to its ``env_config`` (a gymnasium id
    passes it to ``gym.make``; an env class or factory must pass it on to its env)."""
    return record_frames(algo.module, algo.config.env, algo.config.env_config,
                         module_id=module_id, max_steps=max_steps, seed=seed)


def record_frames(multi_module: Any, env_spec: Any, env_config: dict[str, Any], *,
                  module_id: str = DEFAULT_MODULE_ID, max_steps: int = 1000,
                  seed: int | None = None) -> list[np.ndarray]:
    """:func:`record_episode_frames` for ``multi_module[module_id]`` acting in the env
    ``env_spec`` (an id, class or factory) made with ``env_config``."""
    from .env_creation import env_name, make_env_creator

    env_config = {**env_config, "render_mode": "rgb_array"}
    name = env_name(env_spec)
    try:
        env = make_env_creator(env_spec, env_config)()
    except TypeError as exc:  # a constructor without a render_mode keyword
        raise ConfigError(
            f"cannot record {name}: making it with render_mode='rgb_array' failed ({exc})"
        ) from None
    renders = "rgb_array" in getattr(env, "metadata", {}).get("render_modes", [])
    if not renders or getattr(env, "render_mode", None) != "rgb_array":
        env.close()
        raise ConfigError(
            f"cannot record {name}: recording needs an env that renders 'rgb_array' frames "
            f"(metadata render_modes {getattr(env, 'metadata', {}).get('render_modes')}) and "
            f"takes render_mode from its env_config (it was made with render_mode="
            f"{getattr(env, 'render_mode', None)!r})"
        )
    module = multi_module[module_id]
    state = tree_map(lambda s: s.unsqueeze(0), module.get_initial_state()) \
        if module.is_stateful() else None
    frames = []
    try:
        obs, _ = env.reset(seed=seed)
        frames.append(_render(env, name))
        for _ in range(max_steps):
            batch: dict[str, Any] = {Columns.OBS: tree_map(lambda x: to_tensor(x)[None], obs)}
            if state is not None:
                batch[Columns.STATE_IN] = state
            out = compute_actions(multi_module, {module_id: batch}, explore=False,
                                  for_env=True)[module_id]
            state = out.get(Columns.STATE_OUT, state)
            obs, _, terminated, truncated, _ = env.step(
                tree_map(lambda a: a[0], out[Columns.ACTIONS_FOR_ENV])
            )
            frames.append(_render(env, name))
            if terminated or truncated:
                break
    finally:
        env.close()
    return frames


def _render(env: Any, env_id: str) -> np.ndarray:
    import gymnasium as gym

    try:
        return env.render()
    except gym.error.DependencyNotInstalled as exc:
        raise ConfigError(
            f"{env_id} cannot render frames here: {exc} (the classic-control envs render with "
            f"the pygame that `pip install 'rlmodules[train]'` brings)"
        ) from None
