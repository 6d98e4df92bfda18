"""MetricsLogger: where callbacks put custom metrics (RLlib's ``metrics_logger``).

A callback logs numbers under string keys; once per ``train()`` the algorithm reduces
them and puts each key's value into that iteration's result, so custom metrics reach every
place results go (``metrics.jsonl``, ``metrics.csv``, TensorBoard, W&B, MLflow, the
progress line). Reductions: ``"mean"``, ``"min"``, ``"max"`` over the values logged since
the last iteration (or, with ``window=N``, over the last ``N`` values), and ``"sum"``: the
running total over the whole run (or over the last ``N`` values). A key that got no value
this iteration is left out of the result, unless it has a window or sums.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping
from typing import Any

from rlmodules.errors import ConfigError, did_you_mean

__all__ = ["MetricsLogger", "REDUCTIONS"]

REDUCTIONS = ("mean", "min", "max", "sum")
_REDUCE = {"mean": lambda v: math.fsum(v) / len(v), "min": min, "max": max, "sum": math.fsum}


class _Series:
    """One key's values and how they reduce."""

    def __init__(self, reduce: str, window: int | None) -> None:
        self.reduce = reduce
        self.window = window
        self.values: collections.deque[float] = collections.deque(maxlen=window)
        self.total = 0.0  # "sum" without a window: the run's running total
        self.fresh = False

    def add(self, value: float) -> None:
        if self.reduce == "sum" and self.window is None:
            self.total += value
        else:
            self.values.append(value)
        self.fresh = True

    def value(self) -> float | None:
        if self.reduce == "sum" and self.window is None:
            return self.total
        return _REDUCE[self.reduce](self.values) if self.values else None


class MetricsLogger:
    """Custom metrics of a training run, reduced once per iteration.

    Example (in a callback)::

        def on_episode_end(self, *, episode, metrics_logger, **kwargs):
            metrics_logger.log_value("long_episodes", float(len(episode) > 200), reduce="sum")
            metrics_logger.log_value("return_per_step", episode.get_return() / len(episode))
    """

    def __init__(self) -> None:
        self._series: dict[str, _Series] = {}

    def log_value(self, key: str, value: Any, *, reduce: str = "mean",
                  window: int | None = None) -> None:
        """Log one number under ``key`` (see the module docstring for ``reduce`` and
        ``window``; a key keeps the ``reduce`` and ``window`` it was first logged with)."""
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(*self._checked(key, reduce, window))
        elif (reduce, window) != (series.reduce, series.window):
            raise ConfigError(
                f"metrics_logger.log_value({key!r}, ...) with reduce={reduce!r}, "
                f"window={window!r}; the key was first logged with reduce={series.reduce!r}, "
                f"window={series.window!r}: use the same, or another key"
            )
        series.add(_number(key, value))

    def log_dict(self, values: Mapping[str, Any], *, reduce: str = "mean",
                 window: int | None = None) -> None:
        """:meth:`log_value` for each item of ``values``."""
        for key, value in values.items():
            self.log_value(key, value, reduce=reduce, window=window)

    def peek(self, key: str, default: Any = None) -> Any:
        """The value ``key`` would reduce to now (``default`` if it has none)."""
        series = self._series.get(key)
        value = None if series is None else series.value()
        return default if value is None else value

    def keys(self) -> list[str]:
        """The keys logged so far, in the order they first appeared."""
        return list(self._series)

    def __bool__(self) -> bool:
        return bool(self._series)

    def reduce(self) -> dict[str, float]:
        """``{key: value}`` for this iteration; starts the next iteration's values."""
        out: dict[str, float] = {}
        for key, series in self._series.items():
            if series.fresh or series.window is not None or series.reduce == "sum":
                value = series.value()
                if value is not None:
                    out[key] = value
            if series.window is None and series.reduce != "sum":
                series.values.clear()
            series.fresh = False
        return out

    def _checked(self, key: Any, reduce: Any, window: Any) -> tuple[str, int | None]:
        if not isinstance(key, str) or not key:
            raise ConfigError(f"metrics_logger keys are non-empty strings, got {key!r}")
        if reduce not in REDUCTIONS:
            raise ConfigError(
                f"metrics_logger.log_value({key!r}, ...): unknown reduce={reduce!r}."
                f"{did_you_mean(str(reduce), REDUCTIONS)} Use one of {', '.join(REDUCTIONS)}"
            )
        if window is not None and (not isinstance(window, int) or isinstance(window, bool)
                                   or window < 1):
            raise ConfigError(
                f"metrics_logger.log_value({key!r}, ...): window must be None or an int >= 1, "
                f"got {window!r}"
            )
        return reduce, window


def _number(key: str, value: Any) -> float:
    """``value`` as a float: a Python, numpy or 0-d torch number."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(
            f"metrics_logger.log_value({key!r}, {value!r:.60}): the value must be a number "
            f"(int, float, or a 0-d numpy/torch value)"
        )
    return float(value)
