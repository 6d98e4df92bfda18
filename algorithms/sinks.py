"""Where a training run's results go: ``metrics.jsonl`` (every result as it is),
``metrics.csv`` (every number, nested ones as ``evaluation/episode_return_mean``),
TensorBoard event files (the default, with ``tensorboard`` installed), and optionally
Weights & Biases and MLflow (:mod:`~rlmodules.algorithms.tracking`).

Custom metrics logged by callbacks are part of the results, so they reach every sink.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

from .results import scalars

__all__ = ["MetricsWriter", "CsvMetrics", "CSV_COLUMNS", "LOGGERS"]

#: The first columns of ``metrics.csv``; the others follow in the order they first appear.
CSV_COLUMNS = (
    "training_iteration", "num_env_steps_sampled_lifetime", "num_episodes_lifetime",
    "episode_return_mean", "episode_len_mean", "env_steps_per_s", "time_total_s",
)
#: Sinks besides the JSONL and CSV files, by the name ``--logger`` takes.
LOGGERS = ("tensorboard", "wandb", "mlflow")


class CsvMetrics:
    """``metrics.csv`` with a column for every number any result had. A metric that first
    appears later (an evaluation, a loss once learning starts, a custom metric) adds a
    column: the file is rewritten once with the wider header (atomically); rows that
    lacked it have an empty cell, as do non-finite values."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        self.columns: list[str] = []
        if resume and path.exists():
            with path.open(newline="") as f:
                self.columns = next(csv.reader(f), [])
        else:
            path.write_text("")
        self._file = path.open("a", newline="")

    def write(self, result: Mapping[str, Any]) -> None:
        row = {key: value if math.isfinite(value) else ""
               for key, value in scalars(result, finite=False)}
        new = [key for key in row if key not in self.columns]
        if new or not self.columns:
            self._widen(new)
        csv.DictWriter(self._file, fieldnames=self.columns).writerow(row)
        self._file.flush()

    def _widen(self, new: list[str]) -> None:
        self._file.close()
        with self.path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        first = [c for c in CSV_COLUMNS if c in new and c not in self.columns]
        self.columns += first + [c for c in new if c not in first]
        staging = self.path.with_name(self.path.name + ".tmp")
        with staging.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(staging, self.path)
        self._file = self.path.open("a", newline="")

    def close(self) -> None:
        self._file.close()


class MetricsWriter:
    """Writes each iteration's result to ``metrics.jsonl``, ``metrics.csv`` and the
    ``loggers`` (names from :data:`LOGGERS`; default TensorBoard, skipped without the
    ``tensorboard`` package). A fresh run starts the files anew; ``resume=True`` appends.

    Example::

        writer = MetricsWriter(Path("runs/mine"), loggers=("tensorboard", "wandb"),
                               run_name="mine", run_config=algo.config.to_dict())
        for _ in range(10):
            writer.write(algo.train())
        writer.close()
    """

    def __init__(self, run_dir: Path, *, resume: bool = False,
                 loggers: Sequence[str] = ("tensorboard",), run_name: str | None = None,
                 run_config: Mapping[str, Any] | None = None,
                 tracking_ids: dict[str, str] | None = None) -> None:
        unknown = [name for name in loggers if name not in LOGGERS]
        if unknown:
            raise ConfigError(f"unknown logger {unknown[0]!r}; loggers are {', '.join(LOGGERS)}")
        #: Sinks with ``write(result)`` and ``close()``; ``tracking_ids`` (e.g. W&B's run
        #: id) lets a resumed run go on in the same tracked run.
        self.sinks: list[Any] = []
        self.tensorboard = None
        self.tracking_ids = tracking_ids if tracking_ids is not None else {}
        try:
            for logger in loggers:
                self.sinks.append(self._open(logger, run_dir, run_name or run_dir.name,
                                             run_config or {}))
        except BaseException:
            self._close_sinks()
            raise
        self.sinks = [sink for sink in self.sinks if sink is not None]
        self.jsonl_path = run_dir / "metrics.jsonl"
        self.csv_path = run_dir / "metrics.csv"
        self._jsonl = self.jsonl_path.open("a" if resume else "w")
        self._csv = CsvMetrics(self.csv_path, resume=resume)

    def _open(self, logger: str, run_dir: Path, name: str, config: Mapping[str, Any]) -> Any:
        if logger == "tensorboard":  # None without the tensorboard package
            from .tensorboard import TensorBoardWriter

            self.tensorboard = TensorBoardWriter.open(run_dir)
            return self.tensorboard
        from .tracking import open_tracker

        return open_tracker(logger, run_dir, name=name, config=config, ids=self.tracking_ids)

    def _close_sinks(self) -> None:
        for sink in self.sinks:
            if sink is not None:
                sink.close()

    def write(self, result: Mapping[str, Any]) -> None:
        self._jsonl.write(json.dumps(result, default=float) + "\n")
        self._jsonl.flush()
        self._csv.write(result)
        for sink in self.sinks:
            sink.write(result)

    def close(self) -> None:
        self._jsonl.close()
        self._csv.close()
        self._close_sinks()
