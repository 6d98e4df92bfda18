"""Input checks shared by the built-in distributions: spaces, action batches, ``kl`` partners."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.distribution import Distribution
from rlmodules.errors import BatchError, SpaceError

__all__ = ["check_partner", "checked_actions", "is_box_1d", "unsupported"]


def unsupported(name: str, space: Any, wanted: str) -> SpaceError:
    return SpaceError(f"{name} needs {wanted} action space, got {space!r}")


def is_box_1d(space: Any) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1


def checked_actions(value: Any, like: torch.Tensor, batch_shape: Any, name: str) -> torch.Tensor:
    """``value`` as a tensor on ``like``'s device, checked against the expected shape."""
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(np.asarray(value), device=like.device)
    if value.shape != batch_shape:
        raise BatchError(
            f"{name}.logp needs actions of shape {tuple(batch_shape)} (the batch shape of "
            f"the distribution's inputs), got {tuple(value.shape)}"
        )
    return value


def check_partner(self: Distribution, other: Any, kind: type, size_attr: str) -> None:
    """Raise SpaceError unless ``other`` is a ``kind`` of the same size (for ``kl``)."""
    if not isinstance(other, kind):
        raise SpaceError(
            f"{kind.__name__}.kl needs another {kind.__name__}, got {type(other).__name__}"
        )
    mine, theirs = _size(getattr(self, size_attr)), _size(getattr(other, size_attr))
    if mine != theirs:
        raise SpaceError(
            f"{kind.__name__}.kl needs distributions of the same size, got {mine} and {theirs}"
        )


def _size(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else tuple(value)
