"""Hyper-parameter schedules: a constant, or piecewise-linear in the env timestep."""

from __future__ import annotations

from typing import Any

__all__ = ["schedule_value"]


def schedule_value(schedule: Any, timestep: int) -> float:
    """The value of ``schedule`` at ``timestep``.

    ``schedule`` is a number (constant) or ``[[t0, v0], [t1, v1], ...]`` with increasing
    ``t``: linear between points, the last value after the last point (RLlib's format).

    Example::

        schedule_value([[0, 1e-3], [100_000, 0.0]], 50_000)  # 5e-4
    """
    if not isinstance(schedule, (list, tuple)):
        return float(schedule)
    t_prev, v_prev = schedule[0]
    if timestep <= t_prev:
        return float(v_prev)
    for t_next, v_next in schedule[1:]:
        if timestep < t_next:
            fraction = (timestep - t_prev) / (t_next - t_prev)
            return float(v_prev + fraction * (v_next - v_prev))
        t_prev, v_prev = t_next, v_next
    return float(v_prev)
