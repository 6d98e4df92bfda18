"""Training run output: a live progress line, metrics files and a learning-curve plot."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from rlmodules.checkpoint import atomic_write_file

__all__ = ["ProgressLine", "MetricsWriter", "plot_learning_curve", "CSV_COLUMNS"]

#: Columns of ``metrics.csv`` (``metrics.jsonl`` has every metric).
CSV_COLUMNS = (
    "training_iteration", "num_env_steps_sampled_lifetime", "num_episodes_lifetime",
    "episode_return_mean", "episode_len_mean", "env_steps_per_s", "time_total_s",
)


class ProgressLine:
    """One status line: rewritten in place on a terminal, else printed every few seconds.

    Example::

        progress = ProgressLine(total_timesteps=100_000)
        progress.update(result)
        progress.close(result)
    """

    def __init__(self, *, total_timesteps: int, stream: TextIO | None = None,
                 every_s: float = 5.0) -> None:
        self.total = total_timesteps
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.start = time.perf_counter()
        self._last_print = -math.inf

    def format(self, result: dict[str, Any]) -> str:
        elapsed = time.perf_counter() - self.start
        steps = result["num_env_steps_sampled_lifetime"]
        rate = steps / elapsed if elapsed > 0 else 0.0
        eta = (self.total - steps) / rate if rate > 0 else math.inf
        ret = result["episode_return_mean"]
        runners = ""
        if "num_env_runners_alive" in result:
            runners = f"  runners {result['num_env_runners_alive']}"
            if result["num_env_runner_restarts"]:
                runners += f" ({result['num_env_runner_restarts']} restarts)"
        return (
            f"iter {result['training_iteration']:>5}  steps {steps:>9,}  "
            f"return {ret:>8.2f}  {rate:>7,.0f} steps/s{runners}  "
            f"ETA {_duration(eta)}"
        )

    def update(self, result: dict[str, Any]) -> None:
        now = time.perf_counter()
        if self.tty:
            self.stream.write("\r" + self.format(result) + "\x1b[K")
            self.stream.flush()
        elif now - self._last_print >= self.every_s:
            self.stream.write(self.format(result) + "\n")
            self.stream.flush()
            self._last_print = now

    def close(self, result: dict[str, Any] | None) -> None:
        if result is not None:
            self.stream.write(("\r" if self.tty else "") + self.format(result) + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"


class MetricsWriter:
    """Writes each iteration's metrics to ``metrics.jsonl`` (all) and ``metrics.csv``.

    A fresh run starts both files anew; a resumed run (``resume=True``) appends to them.
    With ``tensorboard`` installed, TensorBoard event files of the same metrics go next to
    them (:mod:`rlmodules.algorithms.tensorboard`).
    """

    def __init__(self, run_dir: Path, *, resume: bool = False) -> None:
        self.jsonl_path = run_dir / "metrics.jsonl"
        self.csv_path = run_dir / "metrics.csv"
        new_csv = not (resume and self.csv_path.exists())
        mode = "a" if resume else "w"
        self._jsonl = self.jsonl_path.open(mode)
        self._csv_file = self.csv_path.open(mode, newline="")
        self._csv = csv.DictWriter(self._csv_file, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        if new_csv:
            self._csv.writeheader()
        from .tensorboard import TensorBoardWriter

        self.tensorboard = TensorBoardWriter.open(run_dir)

    def write(self, result: dict[str, Any]) -> None:
        self._jsonl.write(json.dumps(result, default=float) + "\n")
        self._csv.writerow(result)
        self._jsonl.flush()
        self._csv_file.flush()
        if self.tensorboard is not None:
            self.tensorboard.write(result)

    def close(self) -> None:
        self._jsonl.close()
        self._csv_file.close()
        if self.tensorboard is not None:
            self.tensorboard.close()


def plot_learning_curve(metrics_jsonl: Path, png: Path, *, title: str) -> bool:
    """Plot mean return against env steps into ``png``; False if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [row for row in map(_row, metrics_jsonl.read_bytes().splitlines())
            if "num_env_steps_sampled_lifetime" in row and "episode_return_mean" in row]
    steps = [r["num_env_steps_sampled_lifetime"] for r in rows]
    returns = [r["episode_return_mean"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, returns)
    ax.set_xlabel("env steps")
    ax.set_ylabel("mean episode return (last 100)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=100)
    plt.close(fig)
    atomic_write_file(png, image.getvalue())
    return True


def _row(line: bytes) -> dict[str, Any]:
    """A metrics row, or ``{}`` for a line a crash cut short (or any other damage)."""
    try:
        row = json.loads(line)
    except ValueError:
        return {}
    return row if isinstance(row, dict) else {}
