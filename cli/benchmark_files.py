"""The files of a ``rlmodules benchmark`` run directory and their schemas.

``spec.json`` (what the run is asked to do, written by the benchmark command),
``evals.jsonl`` (one evaluation per line, appended during training) and ``result.json``
(written last: its presence for the same spec digest marks the run finished). Each is read
through :mod:`rlmodules.textdata` and checked whole against its schema, so a damaged or
hand-edited file is one ``ConfigError`` line naming it, never a ``KeyError`` mid-report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import attrs
from rlmodules.checkpoint import Finite, JSONObject, atomic_write_file, requires, structure
from rlmodules.errors import ConfigError
from rlmodules.textdata import loads_json

__all__ = ["EVALS_FILE", "RESULT_FILE", "SPEC_FILE", "append_eval", "read_curve",
           "read_result", "read_spec", "write_json"]

SPEC_FILE, RESULT_FILE, EVALS_FILE = "spec.json", "result.json", "evals.jsonl"

_positive = requires(lambda v: v >= 1, "an integer >= 1")
_not_negative = requires(lambda v: v >= 0, "a number >= 0")


@attrs.frozen
class SpecFile:
    """``spec.json``: the library, task, algorithm, env, config sections, budget,
    evaluation settings and seed of one run, the digest of all of them, and for SB3 the
    arguments its constructor gets."""

    library: Literal["rlmodules", "sb3"]
    task: str
    algo: Literal["ppo", "dqn", "sac"]
    env: str
    settings: JSONObject
    timesteps: int = attrs.field(validator=_positive)
    eval_interval: int = attrs.field(validator=_positive)
    eval_episodes: int = attrs.field(validator=_positive)
    seed: int = attrs.field(validator=requires(lambda v: v >= 0, "an integer >= 0"))
    digest: str
    sb3: JSONObject | None = None


@attrs.frozen
class EvalLine:
    """One line of ``evals.jsonl``: the evaluation due at ``at`` env steps, made after
    ``timesteps``, its mean and std greedy return."""

    at: int = attrs.field(validator=_positive)
    timesteps: int = attrs.field(validator=_positive)
    return_mean: Finite
    return_std: Finite = attrs.field(validator=_not_negative)


@attrs.frozen
class ResultFile:
    """``result.json``: the final greedy return over ``episodes`` episodes, the env steps
    trained, the training time (evaluations excluded) and the spec it belongs to."""

    return_mean: Finite
    return_std: Finite = attrs.field(validator=_not_negative)
    episodes: int = attrs.field(validator=_positive)
    timesteps: int = attrs.field(validator=_positive)
    train_time_s: Finite = attrs.field(validator=_not_negative)
    env_steps_per_s: Finite = attrs.field(validator=_not_negative)
    spec_digest: str
    library: Literal["rlmodules", "sb3"]
    seed: int = attrs.field(validator=requires(lambda v: v >= 0, "an integer >= 0"))


def read_spec(run_dir: Path) -> dict[str, Any]:
    """The checked ``spec.json`` of ``run_dir``."""
    return _read(run_dir / SPEC_FILE, SpecFile)


def read_result(run_dir: Path) -> dict[str, Any] | None:
    """The checked ``result.json`` of ``run_dir``, None when the run has not finished."""
    if not (run_dir / RESULT_FILE).is_file():
        return None
    return _read(run_dir / RESULT_FILE, ResultFile)


def read_curve(run_dir: Path) -> list[dict[str, Any]]:
    """The checked evaluations of ``run_dir``'s ``evals.jsonl`` ([] if there is none)."""
    path = run_dir / EVALS_FILE
    if not path.is_file():
        return []
    lines = []
    for number, line in enumerate(_bytes(path).splitlines(), start=1):
        if line.strip():
            source = f"{path} line {number}"
            data = loads_json(line, source=source, error=ConfigError)
            structure(data, EvalLine, source=source, error=ConfigError)
            lines.append(data)
    return lines


def append_eval(run_dir: Path, line: dict[str, Any]) -> None:
    """Add one evaluation to ``run_dir``'s ``evals.jsonl``."""
    with (run_dir / EVALS_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, allow_nan=False) + "\n")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically."""
    atomic_write_file(path, json.dumps(data, indent=1, allow_nan=False))


def _read(path: Path, schema: type) -> dict[str, Any]:
    data = loads_json(_bytes(path), source=path, error=ConfigError)
    structure(data, schema, source=path, error=ConfigError)
    return dict(data)


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read benchmark file {path} ({exc.strerror})") from None
