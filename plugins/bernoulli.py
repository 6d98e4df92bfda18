"""Independent Bernoullis over a ``MultiBinary`` action space."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from rlmodules.distribution import Distribution
from torch.nn import functional as F

from ._dist_checks import check_partner, checked_actions, unsupported
from .deterministic import Deterministic

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """Independent Bernoullis for ``MultiBinary(n)`` from logits ``[..., n]``; actions are
    ``0.``/``1.`` floats ``[..., n]``.

    Example::

        dist = Bernoulli.for_space(gym.spaces.MultiBinary(4)).from_logits(torch.zeros(8, 4))
        dist.logp(dist.sample())         # [8], each log(0.5**4)
    """

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> Bernoulli:
        return cls(logits)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not (isinstance(space, gym.spaces.MultiBinary) and len(space.shape) == 1):
            raise unsupported("Bernoulli", space, "a 1-D MultiBinary")
        return int(space.shape[0])

    def sample(self) -> torch.Tensor:
        logits = self.logits.detach()
        return (torch.rand_like(logits) < logits.sigmoid()).to(logits.dtype)

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        # log σ(l) for 1, log σ(-l) = log σ(l) - l for 0: value * l - softplus(l).
        value = checked_actions(value, self.logits, self.logits.shape, "Bernoulli")
        return (value.to(self.logits.dtype) * self.logits - F.softplus(self.logits)).sum(-1)

    def entropy(self) -> torch.Tensor:
        # H = softplus(l) - σ(l) * l
        logits = self.logits
        return (F.softplus(logits) - logits.sigmoid() * logits).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        check_partner(self, other, Bernoulli, "logits")
        assert isinstance(other, Bernoulli)
        p, q = self.logits, other.logits
        prob = p.sigmoid()
        kl = prob * (F.logsigmoid(p) - F.logsigmoid(q)) + (1 - prob) * (
            F.logsigmoid(-p) - F.logsigmoid(-q)
        )
        return kl.sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic((self.logits > 0).to(self.logits.dtype), event_dims=1)
