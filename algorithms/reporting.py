"""The live progress line of a training run (the CLI's, and ``reporting(progress=True)``).

The metrics files, TensorBoard and the tracking services are sinks
(:mod:`~rlmodules.algorithms.sinks`); the learning-curve plot is
:mod:`~rlmodules.algorithms.learning_curve`. Both are importable from here as before.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from .learning_curve import plot_learning_curve
from .results import timesteps_of
from .sinks import CSV_COLUMNS, MetricsWriter

__all__ = ["ProgressLine", "MetricsWriter", "plot_learning_curve", "CSV_COLUMNS",
           "timesteps_of"]

#: Custom metrics (logged by callbacks) shown on the progress line at most.
_SHOWN_CUSTOM = 3


class ProgressLine:
    """One status line: rewritten in place on a terminal, else printed every few seconds
    (and the last one once, by :meth:`close`).

    Steps/s and the ETA count the steps made since the line started (``start_timesteps``:
    where a resumed run was), so they describe this process's speed.

    Example::

        progress = ProgressLine(total_timesteps=100_000)
        progress.update(result)
        progress.close()
    """

    def __init__(self, *, total_timesteps: int | None, start_timesteps: int = 0,
                 stream: TextIO | None = None, every_s: float = 5.0) -> None:
        self.total = total_timesteps
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.restart(start_timesteps)
        self._last_print = -math.inf
        self._compile_shown = False
        self._latest: str | None = None  # the line of the latest update
        self._printed: str | None = None  # the latest line printed (off a terminal)
        self._last_eval: float | None = None

    def restart(self, timesteps: int) -> None:
        """Measure speed from here, at ``timesteps`` (e.g. after restoring a checkpoint)."""
        self.start = time.perf_counter()
        self.start_timesteps = timesteps

    def format(self, result: Mapping[str, Any], extra_keys: Iterable[str] = ()) -> str:
        elapsed = time.perf_counter() - self.start
        steps = timesteps_of(result)
        rate = (steps - self.start_timesteps) / elapsed if elapsed > 0 else 0.0
        parts = [f"iter {result.get('training_iteration', 0):>5}", f"steps {steps:>9,}"]
        if "episode_return_mean" in result:
            parts.append(f"return {_number(result['episode_return_mean'])}")
        evaluation = result.get("evaluation")
        if isinstance(evaluation, Mapping):
            self._last_eval = evaluation.get("episode_return_mean")
        if self._last_eval is not None:
            parts.append(f"eval {_number(self._last_eval)}")
        parts.extend(f"{key} {_number(result[key]).strip()}"
                     for key in list(extra_keys)[:_SHOWN_CUSTOM] if key in result)
        parts.append(f"{rate:>7,.0f} steps/s")
        if "num_env_runners_alive" in result:
            runners = f"runners {result['num_env_runners_alive']}"
            if result.get("num_env_runner_restarts"):
                runners += f" ({result['num_env_runner_restarts']} restarts)"
            parts.append(runners)
        if self.total is not None:
            eta = (self.total - steps) / rate if rate > 0 else math.inf
            parts.append(f"ETA {_duration(eta)}")
        return "  ".join(parts)

    def update(self, result: Mapping[str, Any], extra_keys: Iterable[str] = ()) -> None:
        if result.get("time_compile_s") and not self._compile_shown:  # once, on its own line
            self._compile_shown = True
            compiled = f"compiled in {result['time_compile_s']:.1f} s (torch.compile)"
            self.stream.write(f"\r{compiled}\x1b[K\n" if self.tty else f"{compiled}\n")
        line = self._latest = self.format(result, extra_keys)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            return
        now = time.perf_counter()
        if now - self._last_print >= self.every_s:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last_print = now
            self._printed = line

    def close(self) -> None:
        """End the line; off a terminal, print the latest line unless it was printed."""
        if self._latest is not None and (self.tty or self._latest is not self._printed):
            self.stream.write(("" if self.tty else self._latest) + "\n")
            self.stream.flush()
        self._printed = self._latest


def _number(value: Any) -> str:
    """A metric for the line: 8 wide, ``--`` while there is none (no episode yet)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{'--':>8}"
    return f"{number:>8.2f}" if math.isfinite(number) else f"{'--':>8}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"
