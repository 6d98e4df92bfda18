"""The checks of config values every algorithm config shares (numbers, ints, schedules,
known keys, scaling settings), each raising a ``ConfigError`` that says what is right."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rlmodules.errors import ConfigError, did_you_mean


def _update(target: dict[str, Any], settings: Mapping[str, Any], method: str) -> None:
    for key, value in settings.items():
        if key not in target:
            raise ConfigError(
                f"{method}() got an unknown setting {key!r}.{did_you_mean(key, target)} "
                f"Known settings: {', '.join(sorted(target))}"
            )
        target[key] = value


def _no_extra(section: str, values: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in values:
        if key not in known:
            raise ConfigError(
                f"unknown key {key!r} in config file section [{section}]."
                f"{did_you_mean(str(key), known)} Known keys: {', '.join(known)}"
            )


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_scaling(runners: Mapping[str, Any], learners: Mapping[str, Any]) -> None:
    """The env-runner and learner counts and resources of ``env_runners()`` / ``learners()``."""
    _check_int("num_env_runners", runners["num_env_runners"], minimum=0)
    _check_int("max_num_env_runner_restarts", runners["max_num_env_runner_restarts"], minimum=0)
    _check_int("num_learners", learners["num_learners"], minimum=0)
    for name, value in (("num_cpus_per_env_runner", runners["num_cpus_per_env_runner"]),
                        ("num_cpus_per_learner", learners["num_cpus_per_learner"]),
                        ("num_gpus_per_learner", learners["num_gpus_per_learner"])):
        _check_number(name, value, 0.0, math.inf)
    _check_number("sample_timeout_s", runners["sample_timeout_s"], 0.0, math.inf, open_low=True)
    if not isinstance(runners["restart_failed_env_runners"], bool):
        raise ConfigError("restart_failed_env_runners must be True or False, got "
                          f"{runners['restart_failed_env_runners']!r}")
    address = runners["ray_address"]
    if address is not None and not (isinstance(address, str) and address):
        raise ConfigError(
            f"ray_address must be a Ray cluster address such as 'auto' or "
            f"'ray://head:10001', or None to start Ray locally; got {address!r}"
        )


def _check_number(name: str, value: Any, low: float, high: float, *, open_low: bool = False
                  ) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = (value > low if open_low else value >= low) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise ConfigError(
            f"{name} must be a number in {bracket}{low}, {high}], got {value!r}"
        )


def _check_schedule(name: str, value: Any, *, positive: bool) -> None:
    """A number, or ``[[timestep, value], ...]`` with increasing timesteps starting at 0."""
    low = 0.0
    if isinstance(value, (list, tuple)):
        points = value
        good = bool(points) and all(
            isinstance(p, (list, tuple)) and len(p) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in p)
            for p in points
        )
        if good:
            steps = [p[0] for p in points]
            good = steps[0] == 0 and all(a < b for a, b in zip(steps, steps[1:]))
            good = good and all(p[1] >= low for p in points)
        if not good:
            raise ConfigError(
                f"{name} schedule must be [[0, value], [timestep, value], ...] with increasing "
                f"timesteps and non-negative values, got {value!r}"
            )
        return
    if positive:
        _check_number(name, value, low, math.inf, open_low=True)
    else:
        _check_number(name, value, low, math.inf)


def _check_evaluation(settings: Mapping[str, Any]) -> None:
    """The ``evaluation()`` settings: duration, at most one interval, explore, overrides."""
    _check_int("evaluation_duration", settings["evaluation_duration"], minimum=1)
    interval = settings["evaluation_interval"]
    if interval is not None:
        _check_int("evaluation_interval", interval, minimum=1)
    every = settings["evaluation_interval_timesteps"]
    if every is not None:
        _check_int("evaluation_interval_timesteps", every, minimum=1)
        if interval is not None:
            raise ConfigError(
                f"evaluation_interval={interval} (iterations) and "
                f"evaluation_interval_timesteps={every} (env steps) are both set; set one "
                f"and leave the other None"
            )
    if not isinstance(settings["evaluation_explore"], bool):
        raise ConfigError(f"evaluation_explore must be True (sample actions) or False "
                          f"(greedy), got {settings['evaluation_explore']!r}")
    overrides = settings["evaluation_config"]
    if overrides is not None and (
            not isinstance(overrides, Mapping) or set(overrides) - {"env_config"}
            or not isinstance(overrides.get("env_config", {}), Mapping)):
        raise ConfigError(
            f"evaluation_config must be None or {{'env_config': {{...}}}} (settings merged "
            f"over env_config for the evaluation envs), got {overrides!r}"
        )
