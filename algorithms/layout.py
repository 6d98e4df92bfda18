"""Training layouts: how a time-major rollout grid becomes rows a learner trains on.

* :class:`FlatLayout` (memoryless modules): one row per ``[T + 1, N]`` grid cell for the
  value pass, one row per unmasked step for training.
* :class:`SequenceLayout` (stateful modules): each slot's steps are cut into episode
  segments, each segment into chunks of at most ``max_seq_len`` steps, zero-padded to
  ``[C, max_seq_len]`` with ``seq_lens``, a ``loss_mask`` and the state recorded at each
  chunk's first step. A finished episode's segment keeps its final observation (masked) so
  a truncated episode can bootstrap from it with the episode's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from rlmodules.columns import Columns

from .rollout import tree_map

__all__ = ["FlatLayout", "SequenceLayout", "sequence_chunks"]


def _grid_flat(x: torch.Tensor) -> torch.Tensor:
    """``[T, N, ...]`` → ``[T * N, ...]``."""
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


class FlatLayout:
    """Rows are single steps (no time axis)."""

    def __init__(self, rollout: Mapping[str, Any]) -> None:
        mask = rollout["loss_mask"]
        self.grid_shape = (mask.shape[0] + 1, mask.shape[1])
        # Training rows: unmasked steps, as indices into the flattened [T + 1, N] grid.
        self.train_index = torch.nonzero(_grid_flat(mask), as_tuple=False).squeeze(-1)

    def value_batch(self, rollout: Mapping[str, Any]) -> dict[str, Any]:
        """Every grid cell, for the value pass."""
        return {Columns.OBS: tree_map(_grid_flat, rollout["obs"])}

    def values_to_grid(self, values: torch.Tensor) -> np.ndarray:
        return values.float().cpu().reshape(self.grid_shape).numpy()

    def train_rows(self, batch: Mapping[str, Any], columns: Mapping[str, Any]) -> dict[str, Any]:
        """``batch`` (from :meth:`value_batch`) and ``columns`` (``[T, N]`` grids) at the
        unmasked steps."""
        index = self.train_index
        rows = {key: tree_map(lambda x: x[index], value) for key, value in batch.items()}
        for key, grid in columns.items():
            rows[key] = tree_map(lambda x: _grid_flat(x)[index], grid)
        return rows

    @staticmethod
    def steps_per_row() -> int:
        return 1


def sequence_chunks(loss_mask: np.ndarray, max_seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunks of the ``[T + 1, N]`` grid as ``(index [C, L], seq_lens [C])``.

    ``index`` holds flat grid indices ``t * N + n`` (-1 in padding). A new segment starts
    at row 0 and after every masked row (a reset step ends its episode's segment).

    Example: one slot with mask ``[1, 0, 1]`` (T = 3) and max_seq_len 2 gives segments
    rows ``[0, 1]`` and ``[2, 3]``.
    """
    steps, slots = loss_mask.shape
    chunks: list[list[int]] = []
    for n in range(slots):
        start = 0
        for t in range(steps + 1):
            segment_ends = t == steps or not loss_mask[t, n]
            if segment_ends:
                rows = list(range(start, t + 1))
                for i in range(0, len(rows), max_seq_len):
                    chunks.append([r * slots + n for r in rows[i:i + max_seq_len]])
                start = t + 1
    index = np.full((len(chunks), max_seq_len), -1, dtype=np.int64)
    seq_lens = np.zeros(len(chunks), dtype=np.int32)
    for c, chunk in enumerate(chunks):
        index[c, :len(chunk)] = chunk
        seq_lens[c] = len(chunk)
    return index, seq_lens


class SequenceLayout:
    """Rows are zero-padded ``[max_seq_len]`` chunks carrying the state at their start."""

    def __init__(self, rollout: Mapping[str, Any], max_seq_len: int) -> None:
        mask = rollout["loss_mask"]
        steps, slots = mask.shape
        self.grid_shape = (steps + 1, slots)
        index, seq_lens = sequence_chunks(mask.numpy(), max_seq_len)
        self.max_seq_len = max_seq_len
        self.index = torch.from_numpy(index)
        self.padding = self.index < 0
        self.safe_index = self.index.clamp_min(0)
        self.seq_lens = torch.from_numpy(seq_lens)
        # The last grid row (t = T) never trains; it only bootstraps.
        grid_mask = torch.cat([mask, torch.zeros(1, slots, dtype=torch.bool)])
        self.loss_mask = _grid_flat(grid_mask)[self.safe_index] & ~self.padding
        self.has_loss = self.loss_mask.any(dim=1)

    def _gather(self, grid: torch.Tensor) -> torch.Tensor:
        rows = _grid_flat(grid)[self.safe_index]  # [C, L, ...]
        pad = self.padding.view(*self.padding.shape, *([1] * (rows.dim() - 2)))
        return rows.masked_fill(pad, 0)

    def _batch(self, rollout: Mapping[str, Any]) -> dict[str, Any]:
        first = self.safe_index[:, 0]
        return {
            Columns.OBS: tree_map(self._gather, rollout["obs"]),
            Columns.STATE_IN: tree_map(lambda s: _grid_flat(s)[first], rollout["state_in"]),
            Columns.SEQ_LENS: self.seq_lens,
        }

    def value_batch(self, rollout: Mapping[str, Any]) -> dict[str, Any]:
        return self._batch(rollout)

    def values_to_grid(self, values: torch.Tensor) -> np.ndarray:
        values = values.float().cpu()
        grid = torch.zeros(self.grid_shape[0] * self.grid_shape[1], dtype=values.dtype)
        keep = ~self.padding
        grid[self.index[keep]] = values[keep]
        return grid.reshape(self.grid_shape).numpy()

    def train_rows(self, batch: Mapping[str, Any], columns: Mapping[str, Any]) -> dict[str, Any]:
        """Chunks of ``batch`` (from :meth:`value_batch`) and of ``columns`` (``[T, N]``
        grids) with at least one unmasked step."""
        keep = self.has_loss
        rows = {k: tree_map(lambda x: x[keep], v) for k, v in batch.items()}
        for key, grid in columns.items():
            padded = tree_map(lambda g: torch.cat([g, torch.zeros_like(g[:1])]), grid)
            rows[key] = tree_map(lambda g: self._gather(g)[keep], padded)
        rows[Columns.LOSS_MASK] = self.loss_mask[keep]
        return rows

    def steps_per_row(self) -> int:
        return self.max_seq_len
