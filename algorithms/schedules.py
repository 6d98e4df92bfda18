"""Hyper-parameter schedules: a constant, or piecewise-linear in the env timestep."""

from __future__ import annotations

from typing import Any

__all__ = ["schedule_value", "stretch_schedules"]


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


def stretch_schedules(settings: dict[str, Any], old_end: int, new_end: int) -> list[str]:
    """Stretch, in place, every schedule in ``settings`` whose last point is at ``old_end``
    (a run's step budget, as the presets' ``"TIMESTEPS"`` schedules are) so it ends at
    ``new_end``, every point scaled alike; returns the keys changed. A resumed run with a
    larger budget so keeps decaying over the whole of it, instead of training on past
    the old end with the schedule's last value (e.g. a learning rate of 0).

    Example::

        settings = {"lr": [[0, 1e-3], [100_000, 0.0]]}
        stretch_schedules(settings, 100_000, 200_000)  # ["lr"]: [[0, 1e-3], [200_000, 0.0]]
    """
    changed = []
    if old_end == new_end or old_end <= 0:
        return changed
    for key, value in settings.items():
        if _is_schedule(value) and value[-1][0] == old_end:
            settings[key] = [[_scaled(t, old_end, new_end), v] for t, v in value]
            changed.append(key)
    return changed


def _is_schedule(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 1 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 for p in value)


def _scaled(t: Any, old_end: int, new_end: int) -> int:
    return int(round(t * new_end / old_end))
