"""The files of a ``rlmodules train`` run that are not checkpoints: ``run.json`` (what the
run was asked to do, read back by ``--resume`` and ``inspect``) and ``--config`` files.

Both are read through :mod:`rlmodules.textdata` (UTF-8, bounded size and depth) and checked
against a schema (:class:`RunFile`, :class:`ConfigFile`) before anything is built, so a
damaged file is one ``ConfigError`` line. ``run.json`` is written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from rlmodules.checkpoint import Finite, JSONObject, atomic_write_file, requires, structure
from rlmodules.errors import ConfigError
from rlmodules.textdata import loads_json, loads_toml

__all__ = ["RUN_FILE", "ConfigFile", "RunFile", "read_config_file", "read_run_file",
           "write_run_file"]

#: The file a ``rlmodules train`` run directory keeps its settings in.
RUN_FILE = "run.json"


@attrs.frozen
class RunFile:
    """``run.json``: the env and module shown, the step budget, the return that stops the
    run, the algorithm, and the training time so far."""

    env: str
    module: str
    timesteps: int = attrs.field(validator=requires(lambda v: v >= 1, "an integer >= 1"))
    stop_return: Finite | None
    algo: str = "ppo"
    time_total_s: Finite = attrs.field(default=0.0, validator=requires(
        lambda v: v >= 0, "a number >= 0"))


@attrs.frozen
class ConfigFile:
    """A ``--config`` file: builder sections, each a table of settings (their values are
    checked by the builder methods, as when set in Python)."""

    environment: JSONObject | None = None
    env_runners: JSONObject | None = None
    training: JSONObject | None = None
    evaluation: JSONObject | None = None
    rl_module: JSONObject | None = None
    debugging: JSONObject | None = None
    learners: JSONObject | None = None


def read_run_file(run_dir: Path) -> dict[str, Any]:
    """The checked ``run.json`` of ``run_dir``; a missing, unreadable or malformed file is
    a ``ConfigError`` naming it."""
    path = run_dir / RUN_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"--resume {run_dir}: cannot read {RUN_FILE} ({exc.strerror}); pass the --out "
            f"directory of an earlier `rlmodules train` run") from None
    data = loads_json(raw, source=path, error=ConfigError)
    structure(data, RunFile, source=path, error=ConfigError)
    return dict(data)


def write_run_file(run_dir: Path, saved: dict[str, Any]) -> None:
    """Replace ``run.json`` atomically (a crash leaves the previous one)."""
    import json

    atomic_write_file(run_dir / RUN_FILE, json.dumps(saved, indent=1, allow_nan=False))


def read_config_file(path: Path) -> dict[str, Any]:
    """The sections of a TOML or JSON ``--config`` file, checked."""
    loads = {".toml": loads_toml, ".json": loads_json}.get(path.suffix)
    if loads is None:
        raise ConfigError(
            f"--config {path}: unknown file type {path.suffix!r}; use a .toml or .json file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror})") from None
    data = loads(raw, source=f"--config {path}", error=ConfigError)
    structure(data, ConfigFile, source=f"--config {path}", error=ConfigError)
    return data  # type: ignore[no-any-return]
