"""``rlmodules train`` and ``rlmodules eval``: the reference PPO trainer from the shell.

Heavy imports (torch, gymnasium) happen when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

__all__ = ["register"]

DEFAULT_ENV = "CartPole-v1"
DEFAULT_TIMESTEPS = 100_000
CHECKPOINT_DIR = "checkpoint"
#: ``--algo`` -> its config class (``module:attr`` under rlmodules.algorithms).
ALGORITHMS = {"ppo": "config:PPOConfig", "dqn": "offpolicy_config:DQNConfig",
              "sac": "offpolicy_config:SACConfig"}


def register(subparsers: Any) -> None:
    train = subparsers.add_parser(
        "train", help="train a module with PPO, DQN or SAC on a gymnasium env",
        description="Train with the reference PPO (or --algo dqn|sac). Writes "
        "metrics.jsonl, metrics.csv, learning_curve.png (with matplotlib) and a checkpoint "
        "into the run directory.",
    )
    train.add_argument("--env", default=None, help=f"gymnasium env id (default {DEFAULT_ENV})")
    train.add_argument("--algo", choices=ALGORITHMS, default=None,
                       help="the algorithm (default ppo; dqn for Discrete actions, sac for "
                            "Box or Discrete ones)")
    train.add_argument("--module", default=None,
                       help="registered module name (default: the algorithm's: 'ppo', "
                            "'dqn' or 'sac'; see `rlmodules list`)")
    train.add_argument("--config", type=Path, default=None,
                       help="TOML or JSON file of builder settings ([training], [env_runners], "
                            "[rl_module], [environment], [evaluation], [debugging]), or the "
                            "name of a bundled example such as stateless_cartpole_lstm")
    train.add_argument("--stop-return", type=float, default=None,
                       help="stop when the 100-episode mean return reaches this "
                            "(default: the env's reward threshold, if it has one)")
    train.add_argument("--timesteps", type=int, default=None,
                       help=f"env steps to train at most (default {DEFAULT_TIMESTEPS:,})")
    train.add_argument("--seed", type=int, default=None, help="seed for reproducible runs")
    train.add_argument("--out", type=Path, default=None,
                       help="run directory (default runs/<env>-<time>)")
    train.add_argument("--num-threads", type=int, default=1,
                       help="torch threads (default 1: fastest for small networks on CPU)")
    train.add_argument("--checkpoint-every", type=int, default=50,
                       help="also checkpoint every N iterations (0: only at the end)")
    train.add_argument("--resume", type=Path, default=None,
                       help="continue the run in this directory from its checkpoint")
    _add_scaling_flags(train)
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser(
        "eval", help="evaluate a trained checkpoint",
        description="Run greedy episodes of a checkpoint and print mean ± std return.",
    )
    evaluate.add_argument("checkpoint", type=Path,
                          help="an algorithm checkpoint or a run directory holding one")
    evaluate.add_argument("--env", default=None, help="evaluate on this env id instead")
    evaluate.add_argument("--episodes", type=int, default=10, help="episodes (default 10)")
    evaluate.add_argument("--seed", type=int, default=None)
    evaluate.add_argument("--gif", type=Path, default=None,
                          help="record the first episode as a GIF (needs Pillow and an env "
                               "that renders rgb_array)")
    evaluate.set_defaults(func=run_eval)


# --- train ---------------------------------------------------------------------------------
def run_train(args: argparse.Namespace) -> int:
    import torch
    from rlmodules.algorithms.algorithm import Algorithm
    from rlmodules.algorithms.reporting import MetricsWriter, ProgressLine, plot_learning_curve

    torch.set_num_threads(_positive("--num-threads", args.num_threads))
    if args.resume is not None:
        if args.algo is not None:
            raise ConfigError("--resume continues the run's own algorithm; drop --algo")
        run_dir, algo, saved = _resume(args, Algorithm)
    else:
        run_dir, algo, saved = _start(args)
    timesteps, stop_return = saved["timesteps"], saved["stop_return"]
    print(f"training {saved['module']} on {saved['env']} -> {run_dir}  "
          f"(up to {timesteps:,} steps, stop at return {stop_return})", flush=True)
    try:
        writer = MetricsWriter(run_dir, resume=args.resume is not None)
    except OSError as exc:  # e.g. metrics.jsonl is a directory
        algo.stop()
        raise ConfigError(f"{'--resume' if args.resume else '--out'} {run_dir}: cannot write "
                          f"{exc.filename} ({exc.strerror})") from None
    progress = ProgressLine(total_timesteps=timesteps)
    result = None
    start = time.perf_counter() - saved.get("time_total_s", 0.0)
    try:
        while algo.timesteps < timesteps:
            result = algo.train()
            result["time_total_s"] = time.perf_counter() - start
            writer.write(result)
            progress.update(result)
            solved = stop_return is not None and result["episode_return_mean"] >= stop_return
            if solved:
                break
            if args.checkpoint_every and algo.iteration % args.checkpoint_every == 0:
                _checkpoint(algo, run_dir, dict(saved, time_total_s=result["time_total_s"]))
    finally:
        progress.close(result)
        writer.close()
        elapsed = time.perf_counter() - start
        _checkpoint(algo, run_dir, dict(saved, time_total_s=elapsed))
        algo.stop()
    _report(result, run_dir, stop_return, saved["env"])
    algo_name = saved.get("algo", "ppo").upper()
    if plot_learning_curve(writer.jsonl_path, run_dir / "learning_curve.png",
                           title=f"{algo_name} on {saved['env']}"):
        print(f"learning curve: {run_dir / 'learning_curve.png'}")
    else:
        print("matplotlib is not installed (pip install 'rlmodules[train]'): "
              "skipped learning_curve.png")
    return 0


def _start(args: argparse.Namespace) -> tuple[Path, Any, dict[str, Any]]:
    import importlib

    from rlmodules.algorithms.env_creation import env_name
    from rlmodules.algorithms.presets import preset_for
    from rlmodules.specs import RLModuleSpec

    timesteps = _positive(
        "--timesteps", DEFAULT_TIMESTEPS if args.timesteps is None else args.timesteps)
    settings = _read_config_file(args.config) if args.config is not None else {}
    env_section = settings.get("environment")
    file_env = env_section.get("env") if isinstance(env_section, dict) else None
    env = args.env or file_env or DEFAULT_ENV
    module_section = settings.get("rl_module")
    module = args.module or (
        module_section.get("module_class") if isinstance(module_section, dict) else None)
    algo_key = args.algo or "ppo"
    config_module, _, config_class = ALGORITHMS[algo_key].partition(":")
    config = getattr(importlib.import_module(f"rlmodules.algorithms.{config_module}"),
                     config_class)().environment(env)
    preset: dict[str, Any] = {}
    if isinstance(env, str):
        preset = preset_for(env, timesteps, algo=algo_key)
    if preset:  # tuned settings for well-known envs, then the file's
        if module not in (None, algo_key, f"rlmodules/{algo_key}"):
            preset.pop("rl_module", None)  # its model_config is the default module's
        config.update_from_dict(preset)
    config.update_from_dict(settings)
    if "environment" not in preset:  # an Atari preset wraps the id in AtariEnv
        config.environment(env)
    if args.module is not None:
        config.rl_module(rl_module_spec=RLModuleSpec(module_class=args.module))
    if args.seed is not None:
        config.debugging(seed=args.seed)
    _apply_scaling(config, args)
    shown_env = env if "environment" in preset else config.env  # the id, not its wrapper
    stop_return = args.stop_return
    if stop_return is None and isinstance(shown_env, str):
        stop_return = _reward_threshold(shown_env)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = args.out or Path("runs") / f"{env_name(shown_env).replace('/', '-')}-{stamp}"
    _make_dir("--out", run_dir)
    algo = config.build()
    module_name = args.module or _module_name(config, algo_key)
    saved = {"env": env_name(shown_env), "module": module_name, "timesteps": timesteps,
             "stop_return": stop_return, "algo": algo_key}
    return run_dir, algo, saved


def _reward_threshold(env: str) -> float | None:
    """The registered reward threshold of a gymnasium id (None for import paths)."""
    import gymnasium as gym

    try:
        return gym.spec(env).reward_threshold
    except gym.error.Error:
        return None


def _resume(args: argparse.Namespace, algorithm_class: Any
            ) -> tuple[Path, Any, dict[str, Any]]:
    from .run_files import RUN_FILE, read_run_file

    run_dir = args.resume
    if not (run_dir / RUN_FILE).is_file():
        raise ConfigError(
            f"--resume {run_dir}: no run.json there; pass the --out directory of an earlier "
            f"`rlmodules train` run"
        )
    saved = read_run_file(run_dir)
    if args.timesteps is not None:
        saved["timesteps"] = _positive("--timesteps", args.timesteps)
    if args.stop_return is not None:
        saved["stop_return"] = args.stop_return
    config = None
    if _scaling_settings(args):  # the saved config with other runner / learner counts
        from rlmodules.algorithms.checkpoint import saved_config

        config = saved_config(run_dir / CHECKPOINT_DIR)
        _apply_scaling(config, args)
    algo = algorithm_class.from_checkpoint(run_dir / CHECKPOINT_DIR, config=config)
    print(f"resuming at iteration {algo.iteration}, {algo.timesteps:,} steps", flush=True)
    return run_dir, algo, saved


def _add_scaling_flags(train: Any) -> None:
    train.add_argument("--num-env-runners", type=int, default=None,
                       help="sample in N Ray actors (default 0: in this process; needs "
                            "rlmodules[ray])")
    train.add_argument("--num-learners", type=int, default=None,
                       help="K >= 2: K data-parallel learner actors on torch.distributed")
    train.add_argument("--ray-address", default=None,
                       help="Ray cluster to join ('auto', 'ray://head:10001'; default: "
                            "RAY_ADDRESS, else a local Ray)")


def _scaling_settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    runners = {key: value for key, value in (("num_env_runners", args.num_env_runners),
                                             ("ray_address", args.ray_address))
               if value is not None}
    learners = {} if args.num_learners is None else {"num_learners": args.num_learners}
    return {section: values for section, values in
            (("env_runners", runners), ("learners", learners)) if values}


def _apply_scaling(config: Any, args: argparse.Namespace) -> None:
    config.update_from_dict(_scaling_settings(args))


def _checkpoint(algo: Any, run_dir: Path, saved: dict[str, Any]) -> None:
    from .run_files import write_run_file

    algo.save_to_path(run_dir / CHECKPOINT_DIR)
    write_run_file(run_dir, saved)


def _report(result: dict[str, Any] | None, run_dir: Path, stop_return: float | None,
            env: str) -> None:
    if result is None:
        return
    ret = result["episode_return_mean"]
    status = "solved" if stop_return is not None and ret >= stop_return else "finished"
    print(f"{status} {env}: mean return {ret:.1f} after "
          f"{result['num_env_steps_sampled_lifetime']:,} steps in "
          f"{result['time_total_s']:.1f}s; checkpoint: {run_dir / CHECKPOINT_DIR}")


def _module_name(config: Any, default: str) -> str:
    spec = config.rl_module_spec
    module_class = getattr(spec, "module_class", None)
    return module_class if isinstance(module_class, str) else default


def _read_config_file(path: Path) -> dict[str, Any]:
    from .run_files import read_config_file

    return read_config_file(_config_path(path))


def _config_path(path: Path) -> Path:
    """``path``, or else the bundled example of that name (``stateless_cartpole_lstm``)."""
    if path.is_file():
        return path
    from importlib.resources import files

    examples = Path(str(files("rlmodules.examples")))
    bundled = sorted(p.stem for p in examples.iterdir() if p.suffix in (".json", ".toml"))
    if path.parent == Path("."):
        for candidate in (path.name, f"{path.name}.json", f"{path.name}.toml"):
            if (examples / candidate).is_file() and Path(candidate).suffix:
                return examples / candidate
    raise ConfigError(
        f"--config {path}: no such file, nor a bundled example (bundled: {', '.join(bundled)})"
    )


def _make_dir(flag: str, path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(
            f"{flag} {path}: a file of that name is in the way; pass a directory (a new one, "
            f"or an earlier run's)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot create the directory ({exc.strerror})") from None


def _positive(flag: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"{flag} must be a positive integer, got {value}")
    return value


def checkpoint_dir(path: Path) -> Path:
    """The checkpoint in ``path``: itself, or that of a `rlmodules train` run directory."""
    return path / CHECKPOINT_DIR if (path / CHECKPOINT_DIR).is_dir() else path


# --- eval ----------------------------------------------------------------------------------
def run_eval(args: argparse.Namespace) -> int:
    from rlmodules.algorithms.algorithm import Algorithm
    from rlmodules.algorithms.checkpoint import saved_config
    from rlmodules.algorithms.config import AlgorithmConfig
    from rlmodules.algorithms.env_creation import env_name

    path = checkpoint_dir(args.checkpoint)
    episodes = _positive("--episodes", args.episodes)
    if args.gif is not None and not args.gif.parent.is_dir():
        raise ConfigError(
            f"--gif {args.gif}: the directory {args.gif.parent} does not exist; create it or "
            f"pick a path in an existing directory"
        )
    config: AlgorithmConfig | None = None
    if args.env is not None or args.seed is not None:
        config = saved_config(path)
        if args.env is not None:
            # The saved vectorisation may be the trained env's own (vector_entry_point),
            # which another env need not have: separate copies work for any env.
            config.environment(args.env).env_runners(gym_env_vectorize_mode="sync")
        if args.seed is not None:
            config.debugging(seed=args.seed)
    algo = Algorithm.from_checkpoint(path, config=config)
    try:
        result = algo.evaluate(num_episodes=episodes)
        if args.gif is not None:
            _record_gif(algo, args.gif, seed=args.seed)
    finally:
        algo.stop()
    print(f"{env_name(algo.config.env)}: return {result['episode_return_mean']:.2f} ± "
          f"{result['episode_return_std']:.2f} over {result['num_episodes']} episodes "
          f"(mean length {result['episode_len_mean']:.1f})")
    return 0


def _record_gif(algo: Any, gif: Path, *, seed: int | None) -> None:
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is not installed (pip install 'rlmodules[train]'): no GIF recorded")
        return
    from rlmodules.algorithms.recording import record_episode_frames
    from rlmodules.checkpoint import atomic_write_file

    # Frames are drawn off-screen: no pygame banner, and no display for SDL to look for.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    frames = record_episode_frames(algo, seed=seed)
    images = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=33,
                   loop=0)
    try:
        atomic_write_file(gif, buffer.getvalue())
    except OSError as exc:
        raise ConfigError(f"--gif {gif}: cannot write the GIF ({exc})") from None
    print(f"recorded {len(images)} frames: {gif}")
