"""The learning-curve PNG of a training run, drawn from its ``metrics.jsonl``.

x: env steps (for behaviour cloning: recorded steps trained on). The training curve is the
mean return of the last 100 episodes, in a band of plus or minus their standard deviation;
greedy evaluations are points with their standard deviation as error bars, the best one
(the ``best/`` checkpoint) starred; the solved threshold is a dashed line. Iterations before
the first finished episode have no point.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

from rlmodules.checkpoint import atomic_write_file

from .results import timesteps_of

__all__ = ["plot_learning_curve"]


def plot_learning_curve(metrics_jsonl: Path, png: Path, *, title: str,
                        threshold: float | None = None) -> bool:
    """Draw the curve of ``metrics_jsonl`` into ``png``; False if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [row for row in map(_row, metrics_jsonl.read_bytes().splitlines()) if row]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = _training_curve(ax, rows) + _evaluations(ax, rows)
    if threshold is not None:
        ax.axhline(threshold, color="tab:green", linestyle="--", linewidth=1,
                   label=f"solved: {threshold:g}")
    if not drawn:
        ax.text(0.5, 0.5, "no episode finished yet", transform=ax.transAxes,
                ha="center", va="center", color="gray")
    offline = bool(rows) and "num_env_steps_sampled_lifetime" not in rows[-1]
    ax.set_xlabel("recorded steps trained on" if offline else "env steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
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


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _training_curve(ax: Any, rows: list[dict[str, Any]]) -> int:
    points = [(timesteps_of(r), r["episode_return_mean"], r.get("episode_return_std"))
              for r in rows if _finite(r.get("episode_return_mean"))]
    if not points:
        return 0
    steps, means, stds = zip(*points)
    ax.plot(steps, means, color="tab:blue", label="training: mean of last 100 episodes")
    if all(_finite(s) for s in stds):
        ax.fill_between(steps, [m - s for m, s in zip(means, stds)],
                        [m + s for m, s in zip(means, stds)], color="tab:blue", alpha=0.2,
                        linewidth=0, label="± std of those episodes")
    return len(points)


def _evaluations(ax: Any, rows: list[dict[str, Any]]) -> int:
    points = []
    for row in rows:
        evaluation = row.get("evaluation")
        if isinstance(evaluation, dict) and _finite(evaluation.get("episode_return_mean")):
            points.append((timesteps_of(row), evaluation["episode_return_mean"],
                           evaluation.get("episode_return_std", 0.0),
                           evaluation.get("num_episodes")))
    if not points:
        return 0
    steps, means, stds, counts = zip(*points)
    episodes = f"{counts[-1]} episodes each" if counts[-1] else "episodes"
    ax.errorbar(steps, means, yerr=stds, fmt="o", color="tab:orange", markersize=4,
                capsize=2, label=f"evaluation ({episodes})")
    best = max(range(len(means)), key=lambda i: means[i])
    ax.plot([steps[best]], [means[best]], marker="*", markersize=14, color="tab:red",
            linestyle="none", label=f"best evaluation: {means[best]:.1f}")
    return len(points)
