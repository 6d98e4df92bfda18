"""The loop of ``rlmodules train`` around ``algo.train()``: results to the sinks and the
progress line, checkpoints, the ``best/`` checkpoint, and when to stop.

A run stops at its step budget, or when its stop metric reaches the stop return:
``--stop-on train`` is the mean return of the last 100 training episodes,
``--stop-on eval`` the mean return of the latest evaluation (greedy unless the config
says ``evaluation_explore``). Each evaluation better than every earlier one is saved as
``best/`` (SB3's ``best_model``), which ``rlmodules eval RUN/best`` reads.
``run.json`` keeps what the run was asked to do, so ``--resume`` goes on the same way.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

from .run_files import write_run_file

__all__ = ["TrainingRun", "CHECKPOINT_DIR", "BEST_DIR"]

CHECKPOINT_DIR = "checkpoint"
#: The checkpoint of the best evaluation so far.
BEST_DIR = "best"


class TrainingRun:
    """One run of ``algo`` into ``run_dir`` as ``saved`` (``run.json``) describes it."""

    def __init__(self, algo: Any, run_dir: Path, saved: dict[str, Any], *, resume: bool,
                 loggers: list[str], checkpoint_every: int) -> None:
        from rlmodules.algorithms.reporting import MetricsWriter, ProgressLine

        self.algo = algo
        self.run_dir = run_dir
        self.saved = saved
        self.checkpoint_every = checkpoint_every
        try:
            self.writer = MetricsWriter(
                run_dir, resume=resume, loggers=loggers, run_name=run_dir.name,
                run_config=algo.config.to_dict(), tracking_ids=saved.setdefault("tracking", {}))
        except OSError as exc:  # e.g. metrics.jsonl is a directory
            algo.stop()
            raise ConfigError(f"{'--resume' if resume else '--out'} {run_dir}: cannot write "
                              f"{exc.filename} ({exc.strerror})") from None
        except BaseException:
            algo.stop()
            raise
        self.progress = ProgressLine(total_timesteps=saved["timesteps"],
                                     start_timesteps=algo.timesteps)
        self.result: dict[str, Any] | None = None
        self.solved = False

    def run(self) -> dict[str, Any] | None:
        """Train until the budget or the stop return; always ends with a checkpoint."""
        algo, saved = self.algo, self.saved
        start = time.perf_counter() - saved.get("time_total_s", 0.0)
        try:
            while algo.timesteps < saved["timesteps"]:
                result = self.result = algo.train()
                result["time_total_s"] = time.perf_counter() - start
                self.writer.write(result)
                self.progress.update(result, extra_keys=algo.metrics_logger.keys())
                self._keep_best(result)
                if self._reached(result):
                    self.solved = True
                    break
                if self.checkpoint_every and algo.iteration % self.checkpoint_every == 0:
                    self.checkpoint(result["time_total_s"])
        finally:
            self.progress.close()
            self.writer.close()
            self.checkpoint(time.perf_counter() - start)
            algo.stop()
        return self.result

    def stop_value(self, result: dict[str, Any]) -> float | None:
        """The metric ``--stop-on`` watches in ``result`` (None: not in this result)."""
        if self.saved["stop_on"] == "eval":
            evaluation = result.get("evaluation")
            return None if evaluation is None else evaluation["episode_return_mean"]
        return result.get("episode_return_mean")

    def _reached(self, result: dict[str, Any]) -> bool:
        value, target = self.stop_value(result), self.saved["stop_return"]
        return value is not None and target is not None and value >= target

    def _keep_best(self, result: dict[str, Any]) -> None:
        evaluation = result.get("evaluation")
        if evaluation is None:
            return
        value = evaluation["episode_return_mean"]
        best = self.saved.get("best_evaluation")
        if math.isfinite(value) and (best is None or value > best["episode_return_mean"]):
            self.algo.save_to_path(self.run_dir / BEST_DIR)
            self.saved["best_evaluation"] = {
                "episode_return_mean": value, "training_iteration": self.algo.iteration,
                "timesteps": self.algo.timesteps}
            self._write_run_file()

    def checkpoint(self, time_total_s: float) -> None:
        self.saved["time_total_s"] = time_total_s
        self.algo.save_to_path(self.run_dir / CHECKPOINT_DIR)
        self._write_run_file()

    def _write_run_file(self) -> None:
        from rlmodules.policy_package import PACKAGE_FILE

        write_run_file(self.run_dir, self.saved)
        # A resumed packaged run (`hf download` + --resume) is a run again: its file list is
        # stale.
        (self.run_dir / PACKAGE_FILE).unlink(missing_ok=True)
