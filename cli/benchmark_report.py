"""The report of ``rlmodules benchmark``: ``report.md`` and one learning-curve PNG per task.

Per task and library: the final greedy return as mean ± std over seeds (each seed's value is
the mean of its final evaluation's episodes), every seed's value, env steps, training wall
time per run, env steps/s, rl-zoo's published score and the verdict (the mean over seeds
against the task's threshold). The PNG shows every seed's evaluation curve and the mean ±
std band over seeds, per library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_report", "task_summary", "verdict"]

_COLORS = {"rlmodules": "tab:blue", "sb3": "tab:orange"}


def task_summary(results: Sequence[Mapping[str, Any]], *, timesteps: int,
                 threshold: float | None) -> dict[str, Any]:
    """Mean and std over seeds of the final return, the means of the costs, and how many
    evaluations of the last fifth of the budget (the final ones included) reach the
    threshold: a final return that the curve only touched shows there."""
    returns = np.array([r["return_mean"] for r in results], dtype=np.float64)
    late = [p["return_mean"] for r in results for p in r["curve"] if p["at"] >= 0.8 * timesteps]
    late += list(returns)
    return {"mean": float(returns.mean()), "std": float(returns.std()),
            "late": "—" if threshold is None else
            f"{sum(value >= threshold for value in late)}/{len(late)}",
            "per_seed": [float(x) for x in returns], "seeds": [r["seed"] for r in results],
            "timesteps": int(np.mean([r["timesteps"] for r in results])),
            "train_time_s": float(np.mean([r["train_time_s"] for r in results])),
            "env_steps_per_s": float(np.mean([r["env_steps_per_s"] for r in results]))}


def verdict(mean: float, threshold: float | None) -> str:
    """``pass`` when the mean over seeds reaches the threshold, ``below`` otherwise."""
    if threshold is None:
        return "—"
    return "pass" if mean >= threshold else "below"


def write_report(out: Path, suite: Any, runs: Mapping[tuple[str, str], list[dict[str, Any]]],
                 *, libraries: Sequence[str], skipped: Mapping[tuple[str, str], str],
                 notes: Mapping[tuple[str, str], list[str]], command: str) -> Path:
    """Write ``out/report.md`` (and ``out/<task>.png`` with matplotlib); returns its path.

    ``runs[(task, library)]`` holds the finished runs' results, each with its ``curve``
    (the evaluations); ``skipped[(task, library)]`` why a library did not run a task;
    ``notes[(task, library)]`` where a library runs it differently.
    """
    lines = [f"# Benchmark: {suite.path.stem}", ""]
    if suite.description:
        lines += [suite.description.strip(), ""]
    lines += [f"Made by `{command}`.", "",
              "Final greedy return: the mean return of each run's final evaluation (greedy "
              "actions, separate evaluation envs), then mean ± std over seeds. Time: training "
              "wall time per run (evaluations excluded), steps/s over that time. Late evals: "
              "how many of the evaluations in the last fifth of the budget (every seed's, the "
              "final ones included) reach the threshold; a final return the curve only "
              "touched shows there.", ""]
    header = "| task | library | final return | per seed | env steps | time per run | " \
             "steps/s | rl-zoo | threshold | verdict | late evals >= threshold |"
    lines += [header, "|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|"]
    total_time = 0.0
    for task in suite.tasks:
        for library in libraries:
            key = (task.name, library)
            if key in skipped:
                lines.append(f"| {task.name} | {library} | — | {skipped[key]} | | | | | | | |")
                continue
            results = runs.get(key, [])
            if not results:
                lines.append(f"| {task.name} | {library} | — | no finished run | | | | | | | |")
                continue
            s = task_summary(results, timesteps=task.timesteps, threshold=task.threshold)
            total_time += s["train_time_s"] * len(results)
            seeds = ", ".join(f"{v:.1f}" for v in s["per_seed"])
            lines.append(
                f"| {task.name} | {library} | {s['mean']:.1f} ± {s['std']:.1f} | {seeds} | "
                f"{s['timesteps']:,} | {_duration(s['train_time_s'])} | "
                f"{s['env_steps_per_s']:,.0f} | {_reference(task)} | "
                f"{_number(task.threshold)} | {verdict(s['mean'], task.threshold)} | "
                f"{s['late']} |")
    lines += ["", f"Training time of every run together: {_duration(total_time)}.", ""]
    differences = [f"- {task} ({library}): {note}" for (task, library), items in notes.items()
                   for note in items]
    if differences:
        lines += ["Where a library runs a task differently:", "", *differences, ""]
    lines += ["rl-zoo: the score (± std over its evaluation episodes; one training run) and "
              "the budget published in rl-baselines3-zoo's benchmark.md, as cited in each "
              "preset.", ""]
    plotted = [task for task in suite.tasks if _plot(out, task, runs, libraries)]
    lines += [f"![{task.name}]({_png_name(task.name)})" for task in plotted]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plot(out: Path, task: Any, runs: Mapping[tuple[str, str], list[dict[str, Any]]],
          libraries: Sequence[str]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    drawn = False
    for library in libraries:
        results = runs.get((task.name, library), [])
        curves = [[(p["at"], p["return_mean"]) for p in r["curve"]]
                  + [(task.timesteps, r["return_mean"])] for r in results]
        if not curves:
            continue
        drawn = True
        color = _COLORS.get(library)
        for curve in curves:
            ax.plot(*zip(*curve), color=color, alpha=0.35, linewidth=0.8)
        steps = sorted(set.intersection(*(set(x for x, _ in c) for c in curves)))
        values = np.array([[dict(c)[x] for x in steps] for c in curves])
        mean, std = values.mean(0), values.std(0)
        ax.plot(steps, mean, color=color, linewidth=2, label=f"{library} (mean of "
                f"{len(curves)} seeds)")
        ax.fill_between(steps, mean - std, mean + std, color=color, alpha=0.2)
    if not drawn:
        plt.close(fig)
        return False
    if task.threshold is not None:
        ax.axhline(task.threshold, color="gray", linestyle="--", linewidth=1, label="threshold")
    if task.reference is not None and task.reference_timesteps == task.timesteps:
        ax.plot([task.timesteps], [task.reference], marker="*", markersize=12, color="black",
                linestyle="none", label="rl-zoo")
    ax.set(title=task.name, xlabel="env steps", ylabel="greedy evaluation return")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(out / _png_name(task.name), dpi=90)
    plt.close(fig)
    return True


def _png_name(task: str) -> str:
    return task.replace("/", "_") + ".png"


def _reference(task: Any) -> str:
    if task.reference is None:
        return "—"
    std = "" if task.reference_std is None else f" ± {task.reference_std:.1f}"
    at = "" if task.reference_timesteps is None else f" @ {_steps(task.reference_timesteps)}"
    return f"{task.reference:.1f}{std}{at}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _steps(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
