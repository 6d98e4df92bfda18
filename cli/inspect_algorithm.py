"""``rlmodules inspect`` of an algorithm checkpoint or of a ``rlmodules train`` run directory.

Reads JSON only: the algorithm's config, counters and tensor-file entries, the run's
``run.json`` and last metrics row, and the module checkpoint inside (described as
``rlmodules inspect`` describes any module checkpoint). Nothing named in them is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlmodules.checkpoint import read_json_file, verify_tensor_file
from rlmodules.errors import CheckpointError

from .run_files import RUN_FILE
from .train import CHECKPOINT_DIR

__all__ = [
    "RUN_FILE", "checksum_ok", "describe_algorithm", "describe_run", "is_algorithm",
    "print_algorithm", "print_run",
]


Describe = Callable[[Path], dict[str, Any]]


def is_algorithm(path: Path) -> bool:
    """Whether ``path`` holds an algorithm checkpoint (the trainer's layout imports torch)."""
    from rlmodules.algorithms.checkpoint import STATE_FILE

    return (path / STATE_FILE).is_file()


def describe_run(path: Path, describe_module: Describe, *, verify: bool) -> dict[str, Any]:
    """A run directory: its ``run.json``, the last metrics row and its checkpoint."""
    run = read_json_file(path / RUN_FILE, verify=False)  # written by `train`, unsigned
    last = _last_metrics(path / "metrics.jsonl")
    return {
        "kind": "run",
        "path": str(path.expanduser().absolute()),
        "run": run,
        "last_metrics": last,
        "checkpoint": describe_algorithm(path / CHECKPOINT_DIR, describe_module, verify=verify),
    }


def describe_algorithm(path: Path, describe_module: Describe, *, verify: bool) -> dict[str, Any]:
    """An algorithm checkpoint: class, env, counters, config and the module inside."""
    from rlmodules.algorithms.algorithm import MODULE_COMPONENT
    from rlmodules.algorithms.checkpoint import read_algorithm_state

    state = read_algorithm_state(path)  # the checks a restore makes: format, checksum, fields
    config = state["config"]
    returns = state.get("recent_returns")
    if not (isinstance(returns, list) and all(isinstance(r, (int, float)) for r in returns)):
        returns = []
    return {
        "kind": "algorithm",
        "path": str(path.expanduser().absolute()),
        "algorithm_class": state.get("algorithm_class"),
        "env": config.get("env"),
        "env_config": config.get("env_config"),
        "iteration": state.get("iteration"),
        "timesteps": state.get("timesteps"),
        "episodes": state.get("episodes"),
        "recent_return_mean": sum(returns) / len(returns) if returns else None,
        "config": config,
        "tensor_files": _tensor_files(path, state.get("tensor_files"), verify),
        "rl_module": describe_module(path / MODULE_COMPONENT),
    }


def _tensor_files(root: Path, entries: Any, verify: bool) -> dict[str, Any]:
    if not isinstance(entries, dict):
        return {}
    files = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise CheckpointError(f"{root}: tensor file entry {name!r} is malformed: {entry!r}")
        info = {"file": entry["file"], "bytes": entry.get("bytes"),
                "num_tensors": entry.get("num_tensors")}
        if verify:
            info["checksum_ok"] = checksum_ok(root, entry)
        files[name] = info
    return files


def checksum_ok(root: Path, entry: dict[str, Any]) -> bool:
    """The check loading makes of a tensor file: path inside the checkpoint, size, checksum."""
    try:
        verify_tensor_file(root, entry)
    except CheckpointError:
        return False
    return True


def _last_metrics(path: Path) -> dict[str, Any] | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        row = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(row, dict):
        return None
    keys = ("training_iteration", "num_env_steps_sampled_lifetime", "episode_return_mean",
            "episode_len_mean", "time_total_s")
    return {k: row[k] for k in keys if k in row}


# --- text ------------------------------------------------------------------------------------
def print_run(info: dict[str, Any], print_module: Callable[[dict[str, Any]], None]) -> None:
    run = info["run"]
    print(f"run          {info['path']}")
    print(f"trained      {run.get('module')} on {run.get('env')} (up to {run.get('timesteps')} "
          f"steps, stop at return {run.get('stop_return')})")
    last = info["last_metrics"]
    if last:
        print(f"last         iteration {last.get('training_iteration')}, "
              f"{last.get('num_env_steps_sampled_lifetime')} steps, mean return "
              f"{_number(last.get('episode_return_mean'))}")
    print_algorithm(info["checkpoint"], print_module)


def print_algorithm(info: dict[str, Any], print_module: Callable[[dict[str, Any]], None]) -> None:
    print(f"algorithm    {info['path']}")
    print(f"class        {info['algorithm_class']}")
    env_config = f" {json.dumps(info['env_config'])}" if info["env_config"] else ""
    print(f"env          {info['env']}{env_config}")
    print(f"progress     iteration {info['iteration']}, {info['timesteps']} steps, "
          f"{info['episodes']} episodes, recent mean return "
          f"{_number(info['recent_return_mean'])}")
    for section, settings in info["config"].items():
        if isinstance(settings, dict) and settings:
            print(f"  {section:<12} {json.dumps(settings, sort_keys=True)}")
    for name, entry in info["tensor_files"].items():
        check = {True: ", checksum ok", False: ", CHECKSUM FAILED", None: ""}[
            entry.get("checksum_ok")]
        print(f"  {name:<12} {entry['file']} ({entry['bytes']} B){check}")
    print("modules inside:")
    print_module(info["rl_module"])


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "-"
