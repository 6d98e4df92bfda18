"""``rlmodules train`` and ``rlmodules eval``: the reference trainer from the shell.

The run directory (:mod:`.run_dir`), ``--set`` overrides (:mod:`.overrides`) and the loop
around ``algo.train()`` (:mod:`.train_loop`: sinks, progress, ``best/``, stopping) live
beside this module. Heavy imports (torch, gymnasium) happen when a command runs, not when
the parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rlmodules.algorithms.sinks import LOGGERS
from rlmodules.errors import ConfigError

from . import allow_import
from .accel import add_accel_flags, evaluation_device
from .evaluate import eval_module, print_evaluation, record_gif
from .run_files import read_run_file
from .train_flags import apply_flags, offline_input, positive, stop_on
from .train_loop import BEST_DIR, CHECKPOINT_DIR, TrainingRun

__all__ = ["register", "CHECKPOINT_DIR", "BEST_DIR"]

DEFAULT_ENV = "CartPole-v1"
DEFAULT_TIMESTEPS = 100_000
#: ``--algo`` -> its config class (``module:attr`` under rlmodules.algorithms).
ALGORITHMS = {"ppo": "config:PPOConfig", "dqn": "offpolicy_config:DQNConfig",
              "sac": "offpolicy_config:SACConfig", "bc": "bc:BCConfig"}


def register(subparsers: Any) -> None:
    train = subparsers.add_parser(
        "train", help="train a module with PPO, DQN, SAC or BC on a gymnasium env",
        description="Train with the reference PPO (or --algo dqn|sac|bc). Writes "
        "metrics.jsonl, metrics.csv, TensorBoard events, learning_curve.png (with matplotlib), "
        "a checkpoint and, when it evaluates, the best evaluation's checkpoint best/ into "
        "the run directory.",
    )
    train.add_argument("--env", default=None, help=f"gymnasium env id (default {DEFAULT_ENV})")
    train.add_argument("--algo", choices=ALGORITHMS, default=None,
                       help="the algorithm (default ppo; dqn for Discrete actions, sac for "
                            "Box or Discrete ones, bc to clone --input episodes)")
    train.add_argument("--module", default=None,
                       help="registered module name (default: the algorithm's: 'ppo', "
                            "'dqn' or 'sac'; see `rlmodules list`)")
    train.add_argument("--config", type=Path, default=None,
                       help="TOML or JSON file of builder settings ([training], [env_runners], "
                            "[rl_module], [environment], [evaluation], [debugging], "
                            "[callbacks], ...), or the name of a bundled example such as "
                            "stateless_cartpole_lstm")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="SECTION.KEY=VALUE",
                       help="one setting over the preset and --config (repeatable), e.g. "
                            "--set training.lr=3e-4 --set "
                            "env_runners.num_envs_per_env_runner=16")
    train.add_argument("--stop-return", type=float, default=None,
                       help="stop when the --stop-on return reaches this "
                            "(default: the env's reward threshold, if it has one)")
    train.add_argument("--stop-on", choices=("train", "eval"), default=None,
                       help="the return --stop-return watches: 'train' (mean of the last 100 "
                            "training episodes) or 'eval' (the latest evaluation); default "
                            "eval when the run evaluates, else train")
    train.add_argument("--eval-freq", type=int, default=None, metavar="STEPS",
                       help="evaluate every STEPS env steps (over all envs; 0: never); "
                            "default: the preset's or config's evaluation setting")
    train.add_argument("--eval-episodes", type=int, default=None,
                       help="episodes per evaluation (default 10), greedy unless "
                            "evaluation.evaluation_explore is set")
    train.add_argument("--num-envs", type=int, default=None,
                       help="env copies stepped per env runner (num_envs_per_env_runner)")
    train.add_argument("--input", type=Path, default=None,
                       help="--algo bc: the recorded episodes to clone (from `rlmodules "
                            "record`)")
    train.add_argument("--timesteps", type=int, default=None,
                       help=f"env steps to train at most (default {DEFAULT_TIMESTEPS:,})")
    train.add_argument("--seed", type=int, default=None, help="seed for reproducible runs")
    train.add_argument("--out", type=Path, default=None,
                       help="run directory, new or empty (default: runs/<env>_<algo>_<N>, "
                            "numbered)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the earlier run in --out")
    train.add_argument("--num-threads", type=int, default=1,
                       help="torch threads (default 1: fastest for small networks on CPU)")
    train.add_argument("--checkpoint-every", type=int, default=50,
                       help="also checkpoint every N iterations (0: only at the end)")
    train.add_argument("--resume", type=Path, default=None,
                       help="continue the run in this directory from its checkpoint")
    train.add_argument("--logger", dest="loggers", action="append", default=None,
                       choices=LOGGERS,
                       help="where results go besides metrics.jsonl/.csv (repeatable; "
                            "default tensorboard; wandb and mlflow need their extras)")
    allow_import.add_flag(train)
    _add_scaling_flags(train)
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser(
        "eval", help="evaluate a trained checkpoint",
        description="Run greedy episodes of a checkpoint and print mean ± std return.",
    )
    evaluate.add_argument("checkpoint",
                          help="a run directory (or its best/), an algorithm checkpoint, a "
                               "module checkpoint (with --env), a packaged policy or its Hub "
                               "name hf://org/name[@revision]")
    evaluate.add_argument("--env", default=None, help="evaluate on this env id instead")
    evaluate.add_argument("--episodes", type=int, default=10, help="episodes (default 10)")
    evaluate.add_argument("--seed", type=int, default=None)
    evaluate.add_argument("--explore", action="store_true",
                          help="sample actions from the exploration distribution instead of "
                               "acting greedily")
    evaluate.add_argument("--num-threads", type=int, default=1,
                          help="torch threads (default 1: acting is latency-bound)")
    evaluate.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None,
                          help="evaluate on this device (default: the CPU, in fp32)")
    evaluate.add_argument("--gif", type=Path, default=None,
                          help="record the first episode as a GIF (needs Pillow and an env "
                               "that renders rgb_array)")
    allow_import.add_flag(evaluate)
    evaluate.set_defaults(func=run_eval)


# --- train ---------------------------------------------------------------------------------
def run_train(args: argparse.Namespace) -> int:
    import torch
    from rlmodules.algorithms.algorithm import Algorithm
    from rlmodules.algorithms.reporting import plot_learning_curve

    torch.set_num_threads(positive("--num-threads", args.num_threads))
    if args.resume is not None:
        for flag, value, what in (("--algo", args.algo, "the run's own algorithm"),
                                  ("--out", args.out, "the run in its own directory"),
                                  ("--overwrite", args.overwrite or None, "the run")):
            if value is not None:
                raise ConfigError(f"--resume continues {what}; drop {flag}")
        run_dir, algo, saved = _resume(args, Algorithm)
    else:
        run_dir, algo, saved = _start(args)
    run = TrainingRun(algo, run_dir, saved, resume=args.resume is not None,
                      loggers=saved["loggers"], checkpoint_every=args.checkpoint_every)
    stop = f"stop at {saved['stop_on']} return {saved['stop_return']}" \
        if saved["stop_return"] is not None else "no stop return"
    print(f"training {saved['module']} on {saved['env']} -> {run_dir}  "
          f"(up to {saved['timesteps']:,} steps, {stop})", flush=True)
    result = run.run()
    _report(run, result)
    png = run_dir / "learning_curve.png"
    if plot_learning_curve(run.writer.jsonl_path, png, threshold=saved["stop_return"],
                           title=f"{saved.get('algo', 'ppo').upper()} on {saved['env']}"):
        print(f"learning curve: {png}")
    else:
        print("matplotlib is not installed (pip install 'rlmodules[train]'): "
              "skipped learning_curve.png")
    return 0


def _start(args: argparse.Namespace) -> tuple[Path, Any, dict[str, Any]]:
    import importlib

    from rlmodules.algorithms.env_creation import env_name
    from rlmodules.algorithms.presets import preset_for
    from rlmodules.specs import RLModuleSpec

    from .run_dir import check_out_dir, make_out_dir, numbered_run_dir

    timesteps = positive(
        "--timesteps", DEFAULT_TIMESTEPS if args.timesteps is None else args.timesteps)
    if args.out is not None:
        check_out_dir(args.out, overwrite=args.overwrite)
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
    _apply_config_file(config, settings, args)
    if "environment" not in preset and not (file_env and not args.env):
        config.environment(env)  # an Atari preset wraps the id in AtariEnv; a file's is set
    if args.module is not None:
        config.rl_module(rl_module_spec=RLModuleSpec(module_class=args.module))
    if args.seed is not None:
        config.debugging(seed=args.seed)
    offline_input(config, args, algo_key)
    apply_flags(config, args)
    shown_env = env  # as given: the id, not an Atari preset's wrapper
    stop_on_ = stop_on(config, args.stop_on, algo_key)
    config.reporting(progress=False)  # the command line shows its own
    algo = config.build()
    stop_return = args.stop_return
    if stop_return is None and isinstance(shown_env, str):
        stop_return = _reward_threshold(shown_env)
    run_dir = make_out_dir(args.out, overwrite=args.overwrite) if args.out is not None \
        else numbered_run_dir(env_name(shown_env), algo_key)
    module_name = args.module or _module_name(config, algo_key)
    saved = {"env": env_name(shown_env), "module": module_name, "timesteps": timesteps,
             "stop_return": stop_return, "stop_on": stop_on_, "algo": algo_key,
             "loggers": args.loggers or ["tensorboard"]}
    return run_dir, algo, saved


def _reward_threshold(env: str) -> float | None:
    """The registered reward threshold of a gymnasium id (None for import paths and ids
    gymnasium does not know). Looked up without importing: a ``module:Env-v0`` id's module
    registered it while the algorithm was built."""
    import gymnasium as gym

    try:
        return gym.spec(env.rpartition(":")[2]).reward_threshold
    except gym.error.Error:
        return None


def _apply_config_file(config: Any, settings: dict[str, Any], args: argparse.Namespace
                       ) -> None:
    """Apply a ``--config`` file's settings: the envs and modules it names by import path
    resolve only to registered ones, unless ``--allow-import``."""
    from rlmodules import registry

    if not settings:
        return
    with registry.untrusted_input(args.config, allow_import=args.allow_import):
        try:
            config.update_from_dict(settings)
        except registry.ImportRefusedError:
            from rlmodules.algorithms.named_code import unregistered

            names = unregistered([(kind, section.get(key)) for kind, section, key in (
                ("env", settings.get("environment"), "env"),
                ("module", settings.get("rl_module"), "module_class"))
                if isinstance(section, dict) and ":" in str(section.get(key))],
                source=args.config)
            if not names:
                raise
            raise ConfigError(allow_import.refusal(f"--config {args.config}", names)) \
                from None


def _resume(args: argparse.Namespace, algorithm_class: Any
            ) -> tuple[Path, Any, dict[str, Any]]:
    """The run in ``args.resume`` with its saved config, changed by the flags given now."""
    from rlmodules.algorithms.checkpoint import saved_config
    from rlmodules.algorithms.schedules import stretch_schedules

    run_dir = args.resume
    saved = read_run_file(run_dir)
    old_budget = saved["timesteps"]
    if args.timesteps is not None:
        saved["timesteps"] = positive("--timesteps", args.timesteps)
    if args.stop_return is not None:
        saved["stop_return"] = args.stop_return
    if args.loggers:
        saved["loggers"] = args.loggers
    allow_import.check_checkpoint(run_dir / CHECKPOINT_DIR, args.allow_import,
                                  parts=("env", "config", "module"))
    config = saved_config(run_dir / CHECKPOINT_DIR, allow_import=args.allow_import)
    if args.input is not None:  # the recorded episodes moved
        offline_input(config, args, saved.get("algo", "ppo"))
    stretched = stretch_schedules(config.training_settings, old_budget, saved["timesteps"])
    if stretched:
        print(f"schedules {', '.join(stretched)} ended at the old budget "
              f"({old_budget:,} steps); they now end at {saved['timesteps']:,}")
    apply_flags(config, args)
    config.reporting(progress=False)  # the command line shows its own
    if args.stop_on is not None or args.eval_freq is not None:
        saved["stop_on"] = stop_on(config, args.stop_on, saved.get("algo", "ppo"))
    algo = algorithm_class.from_checkpoint(run_dir / CHECKPOINT_DIR, config=config,
                                           allow_import=args.allow_import)
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
    add_accel_flags(train)


def _report(run: TrainingRun, result: dict[str, Any] | None) -> None:
    if result is None:
        return
    saved = run.saved
    value = run.stop_value(result)
    label = "evaluation return" if saved["stop_on"] == "eval" else "mean return"
    if value is None:  # the last iteration did not evaluate: its training return
        value, label = result.get("episode_return_mean"), "mean return"
    what = f"{label} {value:.1f}" if value is not None and value > float("-inf") \
        else "no episode finished"
    print(f"{'solved' if run.solved else 'finished'} {saved['env']}: {what} after "
          f"{result.get('num_env_steps_sampled_lifetime', run.algo.timesteps):,} steps in "
          f"{result['time_total_s']:.1f}s; checkpoint: {run.run_dir / CHECKPOINT_DIR}")
    best = saved.get("best_evaluation")
    if best is not None:
        print(f"best evaluation: return {best['episode_return_mean']:.1f} at "
              f"{best['timesteps']:,} steps; checkpoint: {run.run_dir / BEST_DIR}")


def _module_name(config: Any, default: str) -> str:
    from rlmodules.registry import import_path_of

    spec = config.rl_module_spec
    module_class = getattr(spec, "module_class", None)
    if module_class is None or isinstance(module_class, str):
        return module_class or default
    return import_path_of(module_class) or default


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


def checkpoint_dir(path: Path) -> Path:
    """The checkpoint in ``path``: itself, or that of a `rlmodules train` run directory."""
    return path / CHECKPOINT_DIR if (path / CHECKPOINT_DIR).is_dir() else path


# --- eval ----------------------------------------------------------------------------------
def run_eval(args: argparse.Namespace) -> int:
    import torch
    from rlmodules.algorithms.algorithm import Algorithm
    from rlmodules.algorithms.checkpoint import STATE_FILE, saved_config
    from rlmodules.algorithms.config import AlgorithmConfig
    from rlmodules.algorithms.env_creation import env_name
    from rlmodules.hub import is_hub_path
    from rlmodules.policy_package import is_policy_package

    torch.set_num_threads(positive("--num-threads", args.num_threads))
    episodes = positive("--episodes", args.episodes)
    if args.gif is not None and not args.gif.parent.is_dir():
        raise ConfigError(
            f"--gif {args.gif}: the directory {args.gif.parent} does not exist; create it or "
            f"pick a path in an existing directory"
        )
    if is_hub_path(args.checkpoint) or is_policy_package(args.checkpoint):
        from .package import evaluate_package

        return evaluate_package(args)
    path = checkpoint_dir(Path(args.checkpoint))
    if not (path / STATE_FILE).is_file() and path.is_dir():
        return eval_module(args, path, episodes)
    parts = ("config", "module") if args.env is not None else ("env", "config", "module")
    allow_import.check_checkpoint(path, args.allow_import, parts=parts)
    config: AlgorithmConfig = saved_config(path, allow_import=args.allow_import, env=args.env)
    config.learners(**evaluation_device(args.device))
    if args.env is not None or args.seed is not None:
        if args.env is not None:
            # The saved vectorisation may be the trained env's own (vector_entry_point),
            # which another env need not have: separate copies work for any env.
            config.env_runners(gym_env_vectorize_mode="sync")
        if args.seed is not None:
            config.debugging(seed=args.seed)
    algo = Algorithm.from_checkpoint(path, config=config, allow_import=args.allow_import)
    try:
        result = algo.evaluate(num_episodes=episodes, explore=args.explore)
        if args.gif is not None:
            normalizer = algo.obs_normalizer  # the policy acts on what it was trained on
            record_gif(algo.module, algo.config.env, algo.config.env_config, args.gif,
                       seed=args.seed,
                       preprocess=None if normalizer is None else normalizer.normalize)
    finally:
        algo.stop()
    print_evaluation(env_name(algo.config.env), result, args.explore)
    return 0
