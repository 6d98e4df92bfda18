"""TensorBoard event files of a training run, written when ``tensorboard`` is installed.

Every numeric metric of an iteration (the same ones ``metrics.jsonl`` holds) becomes a
scalar at the run's step count (``num_env_steps_sampled_lifetime``; for BC the recorded
steps trained on); nested metrics get ``/``-joined tags
(``evaluation/episode_return_mean``, ``module_episode_returns_mean/p0``). NaN values (no
episode finished yet) are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .results import scalars, timesteps_of

__all__ = ["TensorBoardWriter", "scalars"]


class TensorBoardWriter:
    """Writes iteration results as TensorBoard scalars into ``log_dir``.

    Example::

        writer = TensorBoardWriter.open(run_dir)     # None without tensorboard
        if writer is not None:
            writer.write(result)
            writer.close()
    """

    def __init__(self, log_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(log_dir)
        self._writer = SummaryWriter(log_dir=str(self.log_dir))

    @classmethod
    def open(cls, log_dir: Path) -> TensorBoardWriter | None:
        """A writer, or ``None`` when the ``tensorboard`` package is not installed."""
        try:
            import tensorboard  # noqa: F401  (torch's SummaryWriter needs it)
        except ImportError:
            return None
        return cls(log_dir)

    def write(self, result: Mapping[str, Any]) -> None:
        step = timesteps_of(result)
        for tag, value in scalars(result):
            self._writer.add_scalar(tag, value, global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
