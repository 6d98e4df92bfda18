"""The point mass: the greedy counterpart every built-in distribution's
``to_deterministic`` returns (registered as ``"deterministic"``)."""

from __future__ import annotations

import math
from typing import Any

import torch
from rlmodules.distribution import Distribution

from ._dist_checks import check_partner, checked_actions, is_box_1d, unsupported

__all__ = ["Deterministic"]


class Deterministic(Distribution):
    """A point mass at ``loc`` (the greedy counterpart of the other distributions).

    ``event_dims`` is the number of trailing axes of ``loc`` that make one action (1 for a
    vector action, 0 for a Discrete index); ``logp`` and ``entropy`` reduce them.

    Example::

        dist = Deterministic.from_logits(torch.zeros(8, 2))   # a 1-D Box action of width 2
        dist.sample().shape              # (8, 2)
    """

    def __init__(self, loc: torch.Tensor, *, event_dims: int = 1) -> None:
        self.loc = loc
        self.event_dims = event_dims

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> Deterministic:
        return cls(logits, event_dims=1)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not is_box_1d(space):
            raise unsupported("Deterministic", space, "a 1-D Box")
        return int(space.shape[0])

    @property
    def _batch_shape(self) -> torch.Size:
        return self.loc.shape[: self.loc.dim() - self.event_dims]

    def sample(self) -> torch.Tensor:
        return self.loc.detach()

    def rsample(self) -> torch.Tensor:
        return self.loc

    def _equal(self, value: torch.Tensor) -> torch.Tensor:
        equal = value == self.loc
        return equal.flatten(-self.event_dims).all(-1) if self.event_dims else equal

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        value = checked_actions(value, self.loc, self.loc.shape, "Deterministic")
        return torch.where(self._equal(value), 0.0, -math.inf)

    def entropy(self) -> torch.Tensor:
        return torch.zeros(self._batch_shape, device=self.loc.device)

    def kl(self, other: Distribution) -> torch.Tensor:
        check_partner(self, other, Deterministic, "loc")
        assert isinstance(other, Deterministic)
        return torch.where(self._equal(other.loc), 0.0, math.inf)

    def to_deterministic(self) -> Deterministic:
        return self
