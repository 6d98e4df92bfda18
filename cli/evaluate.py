"""``rlmodules eval`` of a module checkpoint, and the GIF of an evaluated policy."""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
               seed: int | None, preprocess: Callable[[Any], Any] | None = None) -> None:
    """A GIF of one greedy episode (``preprocess`` maps observations, e.g. frozen
    normalisation)."""
    from rlmodules.algorithms.recording import record_frames
    from rlmodules.sharing import write_video

    frames = record_frames(multi_module, env, env_config, seed=seed, preprocess=preprocess)
    write_video(frames, gif, fps=30)
    print(f"recorded {len(frames)} frames: {gif}")
