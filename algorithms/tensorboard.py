"""TensorBoard event files of a training run, written when ``tensorboard`` is installed.

Every numeric metric of an iteration (the same ones ``metrics.jsonl`` holds) becomes a
scalar at step ``num_env_steps_sampled_lifetime``; nested metrics get ``/``-joined tags
(``evaluation/episode_return_mean``, ``module_episode_returns_mean/p0``). NaN values (no
episode finished yet) are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

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
        step = int(result["num_env_steps_sampled_lifetime"])
        for tag, value in scalars(result):
            self._writer.add_scalar(tag, value, global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def scalars(result: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """``(tag, value)`` for every finite number in ``result``, nested dicts flattened."""
    for key, value in result.items():
        tag = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from scalars(value, f"{tag}/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                yield tag, float(value)
        elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy / torch scalar
            number = float(value.item())
            if math.isfinite(number):
                yield tag, number
