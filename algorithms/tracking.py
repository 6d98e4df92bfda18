"""Experiment trackers as result sinks: Weights & Biases and MLflow (optional extras).

``rlmodules train --logger wandb`` (``pip install "rlmodules[wandb]"``) logs every number
of every result to a W&B run named after the run directory, in the project
``WANDB_PROJECT`` (default ``rlmodules``); W&B's own settings apply (``WANDB_MODE=offline``
writes under the run directory without a network). ``--logger mlflow``
(``pip install "rlmodules[mlflow]"``) logs them to an MLflow run in the experiment
``MLFLOW_EXPERIMENT_NAME`` (default ``rlmodules``) at ``MLFLOW_TRACKING_URI`` (MLflow's
default otherwise), with the config as parameters. A resumed run goes on in the same
tracked run: the tracker's run id is kept in the run directory's ``run.json``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

from .results import scalars, timesteps_of

__all__ = ["open_tracker", "WandbSink", "MlflowSink"]

_PROJECT = "rlmodules"


def open_tracker(logger: str, run_dir: Path, *, name: str, config: Mapping[str, Any],
                 ids: dict[str, str]) -> Any:
    """The sink ``logger`` ("wandb" or "mlflow") for the run in ``run_dir``; ``ids`` holds
    the tracked run's id to continue (and gets the new one)."""
    sink = {"wandb": WandbSink, "mlflow": MlflowSink}[logger]
    return sink(run_dir, name=name, config=config, ids=ids)


def _missing(package: str, extra: str) -> ConfigError:
    return ConfigError(
        f"--logger {extra} needs the {package} package; install it with "
        f"`pip install \"rlmodules[{extra}]\"`"
    )


def _flat_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The config's leaves as ``section.key -> text`` (tracker parameters)."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            out.update(_flat_config(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)[:500]
    return out


class WandbSink:
    """Results to a Weights & Biases run (see the module docstring); ``run`` is the W&B
    run, to log more to it."""

    def __init__(self, run_dir: Path, *, name: str, config: Mapping[str, Any],
                 ids: dict[str, str]) -> None:
        try:
            import wandb
        except ImportError:
            raise _missing("wandb", "wandb") from None
        try:
            self.run = wandb.init(
                project=os.environ.get("WANDB_PROJECT", _PROJECT), name=name,
                dir=str(run_dir), config=dict(config), id=ids.get("wandb"),
                resume="allow" if "wandb" in ids else None, reinit="create_new",
                settings=wandb.Settings(quiet=True, console="off"))
        except Exception as exc:  # wandb's own errors: no API key, no network, ...
            raise ConfigError(
                f"--logger wandb: W&B could not start a run ({type(exc).__name__}: {exc}); "
                f"log in with `wandb login`, or set WANDB_MODE=offline to log without a "
                f"network"
            ) from None
        ids["wandb"] = self.run.id

    def write(self, result: Mapping[str, Any]) -> None:
        self.run.log(dict(scalars(result)), step=timesteps_of(result))

    def close(self) -> None:
        self.run.finish()


#: MLflow metric names: letters, digits, ``_ - . /`` and spaces.
_MLFLOW_UNSAFE = re.compile(r"[^\w\-./ ]")


class MlflowSink:
    """Results to an MLflow run (see the module docstring)."""

    def __init__(self, run_dir: Path, *, name: str, config: Mapping[str, Any],
                 ids: dict[str, str]) -> None:
        try:
            from mlflow.entities import Metric, Param
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise _missing("mlflow", "mlflow") from None
        self._metric = Metric
        try:
            self._client = MlflowClient()
            self._run_id = self._start(name, config, ids, Param)
        except Exception as exc:  # MLflow's own errors: the store, the server, ...
            raise ConfigError(
                f"--logger mlflow: MLflow could not start a run ({type(exc).__name__}: "
                f"{exc}); check MLFLOW_TRACKING_URI (now {self._uri()!r})"
            ) from None

    def _start(self, name: str, config: Mapping[str, Any], ids: dict[str, str],
               param: Any) -> str:
        if "mlflow" in ids:
            self._client.update_run(ids["mlflow"], status="RUNNING")
            return ids["mlflow"]
        experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME", _PROJECT)
        experiment = self._client.get_experiment_by_name(experiment_name)
        experiment_id = experiment.experiment_id if experiment is not None \
            else self._client.create_experiment(experiment_name)
        run_id = ids["mlflow"] = self._client.create_run(experiment_id, run_name=name).info.run_id
        params = [param(key, value) for key, value in _flat_config(config).items()]
        for start in range(0, len(params), 100):  # MLflow takes 100 per batch
            self._client.log_batch(run_id, params=params[start:start + 100])
        return run_id

    @staticmethod
    def _uri() -> str:
        from mlflow.tracking import get_tracking_uri

        return str(get_tracking_uri())

    def write(self, result: Mapping[str, Any]) -> None:
        step, now = timesteps_of(result), int(time.time() * 1000)
        metrics = [self._metric(_MLFLOW_UNSAFE.sub("_", key), value, now, step)
                   for key, value in scalars(result)]
        for start in range(0, len(metrics), 1000):  # MLflow takes 1000 per batch
            self._client.log_batch(self._run_id, metrics=metrics[start:start + 1000])

    def close(self) -> None:
        self._client.set_terminated(self._run_id)
