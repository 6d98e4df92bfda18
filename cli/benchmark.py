"""``rlmodules benchmark SUITE``: every (task, library, seed) of a suite as its own process,
then a report against rl-zoo's published scores.

Runs go to ``OUT/runs/<task>/<library>/seed<N>/`` (see :mod:`rlmodules.cli.benchmark_run`);
at most ``--jobs`` run at once. A run whose ``result.json`` belongs to the same spec (preset
settings, budget, seed, evaluation) is finished and skipped, so an interrupted benchmark
continues where it stopped, and a changed preset reruns only its own task.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

from .benchmark_files import EVALS_FILE, RESULT_FILE, SPEC_FILE, read_curve, read_result, write_json

__all__ = ["register"]

LIBRARIES = ("rlmodules", "sb3")
#: Files and folders a run writes (removed before it starts again).
_RUN_OUTPUTS = (SPEC_FILE, RESULT_FILE, EVALS_FILE, "log.txt", "module")


def register(subparsers: Any) -> None:
    bench = subparsers.add_parser(
        "benchmark", help="run a suite of presets on several seeds; report against rl-zoo",
        description="Train every task of a suite (a TOML file, or a bundled suite such as "
        "'reference') on each seed, each run in its own process, evaluate the greedy policy "
        "on separate envs, and write OUT/report.md with one learning-curve PNG per task. "
        "Finished runs are kept: rerunning the command continues an interrupted benchmark.",
    )
    bench.add_argument("suite", help="suite file, or the name of a bundled suite (reference)")
    bench.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                       help="seeds of every task (default 0 1 2)")
    bench.add_argument("--jobs", type=int, default=1,
                       help="runs at once, one CPU thread each (default 1)")
    bench.add_argument("--out", type=Path, default=None,
                       help="output directory (default runs/benchmark-<suite>)")
    bench.add_argument("--compare", choices=["sb3"], default=None,
                       help="also run Stable-Baselines3 with the same hyper-parameters where "
                            "it has the algorithm (pip install 'rlmodules[benchmark]')")
    bench.add_argument("--tasks", nargs="+", default=None, metavar="TASK",
                       help="only these tasks of the suite (e.g. dqn/CartPole-v1)")
    bench.add_argument("--report-only", action="store_true",
                       help="run nothing: write the report of the runs finished so far")
    bench.set_defaults(func=run_benchmark)


def run_benchmark(args: argparse.Namespace) -> int:
    from .benchmark_report import write_report
    from .benchmark_suite import read_suite

    suite = read_suite(args.suite)
    tasks = _selected(suite, args.tasks)
    if args.jobs < 1:
        raise ConfigError(f"--jobs must be a positive integer, got {args.jobs}")
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        raise ConfigError(f"--seeds must be distinct integers >= 0, got {args.seeds}")
    libraries = ["rlmodules"] + ([args.compare] if args.compare else [])
    if args.compare == "sb3":
        _require_sb3()
    out = args.out or Path("runs") / f"benchmark-{suite.path.stem}"
    runs, skipped, notes = _plan(tasks, libraries, args.seeds, out)
    pending = [run for run in runs if not _finished(run)]
    print(f"{suite.path.stem}: {len(tasks)} tasks x {len(libraries)} libraries x "
          f"{len(args.seeds)} seeds -> {out} ({len(runs) - len(pending)} runs already done, "
          f"{len(pending)} to run, {args.jobs} at a time)", flush=True)
    failed = [] if args.report_only else _execute(pending, args.jobs)
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        if _finished(run):
            result = dict(read_result(run["dir"]) or {}, curve=read_curve(run["dir"]))
            results.setdefault((run["task"], run["spec"]["library"]), []).append(result)
    command = " ".join(["rlmodules benchmark", args.suite, "--seeds", *map(str, args.seeds),
                        "--jobs", str(args.jobs), "--out", str(out)]
                       + (["--compare", args.compare] if args.compare else [])
                       + (["--tasks", *args.tasks] if args.tasks else []))
    selected = type(suite)(path=suite.path, description=suite.description, tasks=tasks)
    report = write_report(out, selected, results, libraries=libraries, skipped=skipped,
                          notes=notes, command=command)
    print(f"report: {report}")
    if failed:
        print(f"{len(failed)} runs failed; their logs: "
              + ", ".join(str(run["dir"] / "log.txt") for run in failed), file=sys.stderr)
        return 1
    return 0


def _selected(suite: Any, names: list[str] | None) -> tuple[Any, ...]:
    if names is None:
        return suite.tasks
    known = [task.name for task in suite.tasks]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(f"--tasks {', '.join(unknown)}: not in suite {suite.path}; its tasks "
                          f"are {', '.join(known)}")
    return tuple(task for task in suite.tasks if task.name in names)


def _require_sb3() -> None:
    import importlib.util

    from .benchmark_sb3 import SB3_EXTRA

    if importlib.util.find_spec("stable_baselines3") is None:
        raise ConfigError(f"--compare sb3 needs Stable-Baselines3, which is not installed: "
                          f"{SB3_EXTRA}")


def _plan(tasks: tuple[Any, ...], libraries: list[str], seeds: list[int], out: Path
          ) -> tuple[list[dict[str, Any]], dict[tuple[str, str], str],
                     dict[tuple[str, str], list[str]]]:
    """Every run's spec and directory; why a library skips a task; how it differs."""
    from .benchmark_sb3 import NotInSB3, sb3_arguments

    runs, skipped, notes = [], {}, {}
    for task in tasks:
        _check_settings(task)
        for library in libraries:
            spec: dict[str, Any] = {
                "library": library, "task": task.name, "algo": task.algo, "env": task.env,
                "settings": task.settings, "timesteps": task.timesteps,
                "eval_interval": task.eval_interval, "eval_episodes": task.eval_episodes}
            if library == "sb3":
                try:
                    spec["sb3"] = sb3_arguments(task.algo, task.settings, task.timesteps)
                except NotInSB3 as reason:
                    skipped[(task.name, library)] = str(reason)
                    continue
                notes[(task.name, library)] = spec["sb3"]["notes"]
            for seed in seeds:
                seeded = dict(spec, seed=seed)
                seeded["digest"] = hashlib.sha256(
                    json.dumps(seeded, sort_keys=True).encode()).hexdigest()
                runs.append({"task": task.name, "spec": seeded, "dir": out / "runs" /
                             task.name.replace("/", "_") / library / f"seed{seed}"})
    return runs, skipped, notes


def _check_settings(task: Any) -> None:
    """The task's config sections, checked by its algorithm's config before any run."""
    from rlmodules.algorithms import DQNConfig, PPOConfig, SACConfig

    config = {"ppo": PPOConfig, "dqn": DQNConfig, "sac": SACConfig}[task.algo]()
    try:
        config.environment(task.env).update_from_dict(task.settings)
    except ConfigError as exc:
        raise ConfigError(f"task {task.name}: {exc}") from None


def _finished(run: dict[str, Any]) -> bool:
    """Whether ``run`` has a checked ``result.json`` of the same spec (a damaged one is a
    ``ConfigError`` naming it, so nothing is deleted unasked)."""
    result = read_result(run["dir"])
    return result is not None and result["spec_digest"] == run["spec"]["digest"]


def _execute(runs: list[dict[str, Any]], jobs: int) -> list[dict[str, Any]]:
    """Run each in its own process, ``jobs`` at a time; returns the failed ones."""
    failed = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_run_one, run): run for run in runs}
        for done, future in enumerate(as_completed(futures), start=1):
            run, (code, elapsed) = futures[future], future.result()
            spec = run["spec"]
            what = f"[{done}/{len(runs)}] {run['task']} {spec['library']} seed {spec['seed']}"
            if code == 0:
                result = read_result(run["dir"]) or {}
                print(f"{what}: return {result['return_mean']:.1f} after "
                      f"{result['timesteps']:,} steps ({elapsed:.0f} s)", flush=True)
            else:
                failed.append(run)
                print(f"{what}: failed with exit code {code}; see {run['dir'] / 'log.txt'}",
                      flush=True)
    return failed


def _run_one(run: dict[str, Any]) -> tuple[int, float]:
    directory: Path = run["dir"]
    directory.mkdir(parents=True, exist_ok=True)
    for name in _RUN_OUTPUTS:
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    write_json(directory / SPEC_FILE, run["spec"])
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    with (directory / "log.txt").open("w") as log:
        code = subprocess.run(
            [sys.executable, "-m", "rlmodules.cli.benchmark_run", str(directory)],
            stdout=log, stderr=subprocess.STDOUT, env=env, check=False).returncode
    return code, time.perf_counter() - start
