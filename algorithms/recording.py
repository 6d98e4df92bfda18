"""Recording an episode's rendered frames (for GIFs) with a trained algorithm's module."""

from __future__ import annotations

from typing import Any

import numpy as np
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .rollout import to_tensor, tree_map

__all__ = ["record_episode_frames"]


def record_episode_frames(algo: Any, *, module_id: str = DEFAULT_MODULE_ID,
                          max_steps: int = 1000, seed: int | None = None) -> list[np.ndarray]:
    """RGB frames ``[H, W, 3]`` of one greedy episode; needs a gymnasium id env that
    renders ``rgb_array``."""
    import gymnasium as gym

    env_id = algo.config.env
    if not isinstance(env_id, str):
        raise ConfigError(
            f"recording needs a gymnasium env id (to make it with render_mode='rgb_array'), "
            f"got {env_id!r}"
        )
    env = gym.make(env_id, render_mode="rgb_array", **algo.config.env_config)
    if "rgb_array" not in env.metadata.get("render_modes", []):
        env.close()
        raise ConfigError(f"{env_id} does not render rgb_array frames; no GIF can be recorded")
    module = algo.module[module_id]
    state = tree_map(lambda s: s.unsqueeze(0), module.get_initial_state()) \
        if module.is_stateful() else None
    frames = []
    try:
        obs, _ = env.reset(seed=seed)
        frames.append(_render(env, env_id))
        for _ in range(max_steps):
            batch: dict[str, Any] = {Columns.OBS: tree_map(lambda x: to_tensor(x)[None], obs)}
            if state is not None:
                batch[Columns.STATE_IN] = state
            out = compute_actions(algo.module, {module_id: batch}, explore=False,
                                  for_env=True)[module_id]
            state = out.get(Columns.STATE_OUT, state)
            obs, _, terminated, truncated, _ = env.step(
                tree_map(lambda a: a[0], out[Columns.ACTIONS_FOR_ENV])
            )
            frames.append(_render(env, env_id))
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
