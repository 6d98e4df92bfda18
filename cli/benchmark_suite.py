"""Suite files of ``rlmodules benchmark``: which presets to run, read and checked as data.

A suite is a TOML file (or the name of one the package ships, such as ``reference``)::

    [suite]
    description = "what it shows"   # optional
    eval_episodes = 50               # greedy episodes of each run's final evaluation

    [[task]]
    preset = "dqn/CartPole-v1"       # a bundled preset (see `rlmodules.algorithms.presets`)
    timesteps = 50_000               # optional: the preset's budget otherwise
    eval_interval = 5_000            # optional: env steps between the curves' evaluations
    eval_episodes = 50               # optional: this task's final evaluation
    threshold = 475.0                # optional: the mean return that passes
    settings = { training = { lr = 1e-3 } }   # optional: config sections over the preset's

Nothing in a suite is imported: presets resolve among the bundled ones, ``settings`` may
change a preset's training, env-runner, evaluation and module settings (modules by
registered name) but not its env, and the algorithm's config checks every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from rlmodules.errors import ConfigError, did_you_mean

__all__ = ["Suite", "Task", "read_suite", "suite_path"]

_SUITE_KEYS = {"description": str, "eval_episodes": int}
_TASK_KEYS = {"preset": str, "timesteps": int, "eval_interval": int, "eval_episodes": int,
              "threshold": (int, float), "settings": dict}
DEFAULT_EVAL_EPISODES = 50
_SETTINGS_SECTIONS = ("training", "env_runners", "evaluation", "rl_module")


@attrs.frozen
class Task:
    """One (preset, budget) of a suite, with everything a run needs but its seed."""

    name: str
    algo: str
    env: str
    timesteps: int
    eval_interval: int
    eval_episodes: int
    settings: dict[str, Any]
    threshold: float | None
    reference: float | None
    reference_std: float | None
    reference_timesteps: int | None
    reference_source: str | None


@attrs.frozen
class Suite:
    """A checked suite file: its description and tasks, in file order."""

    path: Path
    description: str
    tasks: tuple[Task, ...]


def suite_path(name: str | Path) -> Path:
    """``name`` if it is a file, else the bundled suite of that name (``reference``)."""
    path = Path(name)
    if path.is_file():
        return path
    from importlib.resources import files

    bundled_dir = Path(str(files("rlmodules.examples"))) / "suites"
    bundled = sorted(p.stem for p in bundled_dir.glob("*.toml"))
    if path.parent == Path(".") and path.stem in bundled and path.suffix in ("", ".toml"):
        return bundled_dir / f"{path.stem}.toml"
    raise ConfigError(
        f"suite {str(name)!r}: no such file, nor a bundled suite (bundled: {', '.join(bundled)})"
    )


def read_suite(name: str | Path) -> Suite:
    """Read and check a suite file (see the module docstring)."""
    from rlmodules.algorithms.presets import load_preset, read_toml

    path = suite_path(name)
    data = read_toml(path, what="suite")
    _no_unknown(path, "the file", data, {"suite": dict, "task": list})
    header = data.get("suite", {})
    _no_unknown(path, "[suite]", header, _SUITE_KEYS)
    episodes = _positive(path, "[suite] eval_episodes",
                         header.get("eval_episodes", DEFAULT_EVAL_EPISODES))
    entries = data.get("task", [])
    if not entries:
        raise ConfigError(f"suite {path} has no [[task]] entries; add one per preset to run")
    tasks: list[Task] = []
    for number, entry in enumerate(entries, start=1):
        where = f"[[task]] {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"suite {path}: {where} must be a table, got {entry!r}")
        _no_unknown(path, where, entry, _TASK_KEYS)
        if "preset" not in entry:
            raise ConfigError(f"suite {path}: {where} lacks its preset (e.g. preset = "
                              f"\"dqn/CartPole-v1\")")
        _check_overrides(path, where, entry.get("settings", {}))
        preset = load_preset(entry["preset"])
        threshold = entry.get("threshold", preset.threshold)
        timesteps = _positive(path, f"{where} timesteps", entry.get("timesteps",
                                                                    preset.timesteps))
        settings = _merged(preset.settings(timesteps), entry.get("settings", {}))
        tasks.append(Task(
            name=preset.name, algo=preset.algo, env=preset.env, timesteps=timesteps,
            eval_interval=_positive(path, f"{where} eval_interval",
                                    entry.get("eval_interval", preset.eval_interval)),
            eval_episodes=_positive(path, f"{where} eval_episodes",
                                    entry.get("eval_episodes", episodes)),
            settings=settings, threshold=None if threshold is None else float(threshold),
            reference=preset.reference, reference_std=preset.reference_std,
            reference_timesteps=preset.reference_timesteps,
            reference_source=preset.reference_source,
        ))
    names = [t.name for t in tasks]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"suite {path} lists {', '.join(twice)} more than once; one "
                          f"[[task]] per preset")
    return Suite(path=path, description=header.get("description", ""), tasks=tuple(tasks))


def _no_unknown(path: Path, where: str, table: dict[str, Any],
                known: dict[str, Any]) -> None:
    for key, value in table.items():
        if key not in known:
            raise ConfigError(
                f"suite {path}: {where} has an unknown key {key!r}.{did_you_mean(key, known)} "
                f"It takes {', '.join(known)}"
            )
        if isinstance(value, bool) or not isinstance(value, known[key]):
            types = known[key] if isinstance(known[key], tuple) else (known[key],)
            expected = " or ".join("a table" if t is dict else "a list" if t is list
                                   else t.__name__ for t in types)
            raise ConfigError(f"suite {path}: {where} {key} must be {expected}, got {value!r}")


def _check_overrides(path: Path, where: str, settings: dict[str, Any]) -> None:
    """A task changes its preset's settings, never its env, and names modules only by
    registered name (an import path would import code a data file names)."""
    for section in settings:
        if section not in _SETTINGS_SECTIONS:
            raise ConfigError(
                f"suite {path}: {where} settings has a section {section!r}; a task may change "
                f"{', '.join(_SETTINGS_SECTIONS)} (its env is its preset's)"
            )
    module = settings.get("rl_module", {}).get("module_class") \
        if isinstance(settings.get("rl_module"), dict) else None
    if isinstance(module, str) and (":" in module or "." in module):
        raise ConfigError(
            f"suite {path}: {where} settings names the module {module!r} by import path; a "
            f"suite names modules by registered name (see `rlmodules list module`)"
        )


def _positive(path: Path, what: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"suite {path}: {what} must be >= 1, got {value}")
    return value


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base`` table by table (values of ``over`` win)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out
