"""``rlmodules eval`` of a module checkpoint, and the GIF of an evaluated policy."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

from . import allow_import

__all__ = ["eval_module", "print_evaluation", "record_gif"]


def eval_module(args: argparse.Namespace, path: Path, episodes: int) -> int:
    """``rlmodules eval`` of a module checkpoint (as ``rlmodules record`` takes it): it
    records no env, so ``--env`` names one."""
    from rlmodules.algorithms.evaluation import evaluate_module
    from rlmodules.rl_module import RLModule

    if args.env is None:
        raise ConfigError(
            f"--env is needed: {path} is not a run directory or an algorithm checkpoint, so "
            f"it records no env (a module checkpoint does not); e.g. --env CartPole-v1"
        )
    allow_import.check_checkpoint(path, args.allow_import, parts=("module",))
    module = RLModule.from_checkpoint(path, allow_import=args.allow_import)
    result = evaluate_module(module, args.env, num_episodes=episodes, explore=args.explore,
                             seed=args.seed)
    if args.gif is not None:
        record_gif(module.as_multi_rl_module(), args.env, {}, args.gif, seed=args.seed)
    print_evaluation(args.env, result, args.explore)
    return 0


def print_evaluation(env: str, result: dict[str, Any], explore: bool) -> None:
    how = "exploring" if explore else "greedy"
    print(f"{env}: return {result['episode_return_mean']:.2f} ± "
          f"{result['episode_return_std']:.2f} over {result['num_episodes']} {how} episodes "
          f"(mean length {result['episode_len_mean']:.1f})")


def record_gif(multi_module: Any, env: Any, env_config: dict[str, Any], gif: Path, *,
               seed: int | None) -> None:
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is not installed (pip install 'rlmodules[train]'): no GIF recorded")
        return
    from rlmodules.algorithms.recording import record_frames
    from rlmodules.checkpoint import atomic_write_file

    # Frames are drawn off-screen: no pygame banner, and no display for SDL to look for.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    frames = record_frames(multi_module, env, env_config, seed=seed)
    images = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=33,
                   loop=0)
    try:
        atomic_write_file(gif, buffer.getvalue())
    except OSError as exc:
        raise ConfigError(f"--gif {gif}: cannot write the GIF ({exc})") from None
    print(f"recorded {len(images)} frames: {gif}")
