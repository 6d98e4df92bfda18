"""Categorical distributions over ``Discrete`` and ``MultiDiscrete`` action spaces.

Written directly on tensors rather than wrapping ``torch.distributions``: argument
validation and lazy-property machinery there cost more than the network at batch 1.
Draws use the Gumbel-max trick (``argmax(log p + G)`` with Gumbel noise ``G`` is
distributed as ``p``), which skips ``torch.multinomial``'s validation pass and its slower
exponential noise. Nothing here checks logits for NaN (that would cost a device sync per step).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import torch
from rlmodules.distribution import Distribution
from rlmodules.errors import BatchError, SpaceError
from torch.nn import functional as F

from ._dist_checks import check_partner, checked_actions, unsupported
from .deterministic import Deterministic

__all__ = ["Categorical", "MultiCategorical"]


def _finite(log_probs: torch.Tensor) -> torch.Tensor:
    """``log_probs`` with -inf clamped to the lowest finite value (so 0 * log 0 is 0, not NaN,
    in values and gradients alike)."""
    return log_probs.clamp(min=torch.finfo(log_probs.dtype).min)


def _gumbel_max(log_probs: torch.Tensor) -> torch.Tensor:
    """Index drawn from ``exp(log_probs)`` over the last axis: argmax(log p + G) with Gumbel
    noise G = -log(-log U). U = 0 gives G = -inf (never a NaN), and a masked action
    (log p = -inf) is never drawn."""
    gumbel = torch.rand_like(log_probs).log_().neg_().log_()  # -G
    return (log_probs - gumbel).argmax(-1)


class Categorical(Distribution):
    """Categorical over ``n`` actions from unnormalised logits ``[..., n]``.

    Configured for ``Discrete(n, start=s)`` (see ``for_space``) its actions are
    ``s .. s + n - 1`` and ``logp`` takes them in that range. RLlib's constructor: exactly
    one of ``logits`` and ``probs``; ``from_logits`` builds through ``cls``, so a subclass
    that overrides ``__init__`` (e.g. to apply a temperature) is honoured. ``rsample()`` is
    RLlib's straight-through one-hot sample ``[..., n]``: one-hot forward, softmax gradient.

    Example::

        dist = Categorical.for_space(gym.spaces.Discrete(3)).from_logits(torch.zeros(8, 3))
        actions = dist.sample()          # [8], int64
        logp = dist.logp(actions)        # [8]
    """

    #: First action (``Discrete.start``).
    start: ClassVar[int] = 0

    def __init__(self, logits: torch.Tensor | None = None,
                 probs: torch.Tensor | None = None) -> None:
        if (logits is None) == (probs is None):
            raise BatchError(
                f"{type(self).__name__} needs exactly one of logits and probs, got "
                f"{'both' if logits is not None else 'neither'}"
            )
        self.probs = probs
        self.logits = logits if logits is not None else _finite(probs.log())  # type: ignore[union-attr]
        self._log_probs: torch.Tensor | None = None

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> Categorical:
        return cls(logits=logits, **kwargs)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not isinstance(space, gym.spaces.Discrete):
            raise unsupported("Categorical", space, "a Discrete")
        return int(space.n)

    @classmethod
    def _configured_attributes(cls, space: Any) -> dict[str, Any]:
        return {**super()._configured_attributes(space), "start": int(space.start)}

    @property
    def log_probs(self) -> torch.Tensor:
        """Normalised log-probabilities ``[..., n]``."""
        if self._log_probs is None:
            self._log_probs = self.logits.log_softmax(-1)
        return self._log_probs

    def sample(self) -> torch.Tensor:
        actions = _gumbel_max(self.log_probs)
        return actions + self.start if self.start else actions

    def rsample(self) -> torch.Tensor:
        probs = self.log_probs.exp()
        one_hot = F.one_hot(_gumbel_max(self.log_probs.detach()), probs.shape[-1])
        return (one_hot.to(probs.dtype) - probs).detach() + probs

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        value = checked_actions(value, self.logits, self.logits.shape[:-1], "Categorical")
        index = value - self.start if self.start else value
        if index.dtype != torch.int64:
            index = index.long()
        return self.log_probs.gather(-1, index.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        log_probs = _finite(self.log_probs)
        return -(log_probs.exp() * log_probs).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        check_partner(self, other, Categorical, "logits")
        assert isinstance(other, Categorical)
        log_p, log_q = _finite(self.log_probs), _finite(other.log_probs)
        return (log_p.exp() * (log_p - log_q)).sum(-1)

    def to_deterministic(self) -> Deterministic:
        greedy = self.logits.argmax(-1)
        return Deterministic(greedy + self.start if self.start else greedy, event_dims=0)


class MultiCategorical(Distribution):
    """Independent categoricals for a 1-D ``MultiDiscrete(nvec)``: logits ``[..., sum(nvec)]``,
    actions ``[..., len(nvec)]``.

    Unconfigured, ``from_logits`` needs ``input_lens`` (the sizes ``nvec``).

    Example::

        dist_cls = MultiCategorical.for_space(gym.spaces.MultiDiscrete([3, 2]))
        dist = dist_cls.from_logits(torch.zeros(8, 5))
        dist.sample().shape              # (8, 2)
    """

    nvec: ClassVar[tuple[int, ...] | None] = None
    #: Per-dimension first action, or None when every dimension starts at 0.
    start: ClassVar[tuple[int, ...] | None] = None

    def __init__(
        self,
        categoricals: Sequence[Categorical] | None = None,
        *,
        logits: torch.Tensor | None = None,
        nvec: Sequence[int] | None = None,
        start: Sequence[int] | None = None,
    ) -> None:
        if categoricals is not None:  # RLlib's constructor: one Categorical per dimension
            logits = torch.cat([c.logits for c in categoricals], dim=-1)
            nvec = [c.logits.shape[-1] for c in categoricals]
        if logits is None or nvec is None:
            raise BatchError(
                "MultiCategorical needs categoricals=[Categorical, ...] (RLlib's form) or "
                "logits= with nvec= (the sizes)"
            )
        self.logits = logits
        self.nvec = tuple(int(n) for n in nvec)
        self.start = tuple(start) if start is not None and any(start) else None
        self.log_probs = _padded(logits, self.nvec).log_softmax(-1)  # [..., K, max(nvec)]

    @classmethod
    def from_logits(
        cls, logits: torch.Tensor, input_lens: Sequence[int] | None = None,
        temperatures: Sequence[float] | None = None, **kwargs: Any,
    ) -> MultiCategorical:
        """RLlib's keywords: ``input_lens`` (the sizes) and ``temperatures`` (one per
        dimension, dividing its logits); other keywords RLlib passes are ignored."""
        if input_lens is None:
            if cls.nvec is None:
                raise SpaceError(
                    "MultiCategorical.from_logits needs input_lens (the MultiDiscrete sizes, "
                    "e.g. input_lens=[3, 2]) unless the class was configured with "
                    "MultiCategorical.for_space(space)"
                )
            nvec, start = cls.nvec, cls.start
        else:
            nvec, start = tuple(int(n) for n in input_lens), None
        if logits.shape[-1:] != (sum(nvec),):
            raise SpaceError(
                f"MultiCategorical with input_lens {list(nvec)} needs action_dist_inputs "
                f"of width {sum(nvec)} on the last axis, got shape {tuple(logits.shape)}"
            )
        if temperatures is not None:
            if len(temperatures) != len(nvec) or not all(t > 0 for t in temperatures):
                raise SpaceError(
                    f"MultiCategorical needs one positive temperature per dimension "
                    f"({len(nvec)}), got {list(temperatures)}"
                )
            logits = torch.cat(
                [part / t for part, t in zip(logits.split(nvec, dim=-1), temperatures)], dim=-1)
        return cls(logits=logits, nvec=nvec, start=start)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not (isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1):
            raise unsupported("MultiCategorical", space, "a 1-D MultiDiscrete")
        return int(space.nvec.sum())

    @classmethod
    def _configured_attributes(cls, space: Any) -> dict[str, Any]:
        return {
            **super()._configured_attributes(space),
            "nvec": tuple(int(n) for n in space.nvec),
            "start": tuple(int(s) for s in space.start) if space.start.any() else None,
        }

    def _shift(self, actions: torch.Tensor, sign: int) -> torch.Tensor:
        if self.start is None:
            return actions
        return actions + sign * actions.new_tensor(self.start)

    def sample(self) -> torch.Tensor:
        return self._shift(_gumbel_max(self.log_probs), +1)

    def rsample(self) -> torch.Tensor:
        """Straight-through one-hot samples of every dimension, concatenated
        ``[..., sum(nvec)]`` (RLlib's form)."""
        probs = self.log_probs.exp()
        one_hot = F.one_hot(_gumbel_max(self.log_probs.detach()), probs.shape[-1])
        sample = (one_hot.to(probs.dtype) - probs).detach() + probs
        return torch.cat([part[..., :n] for part, n in zip(sample.unbind(-2), self.nvec)], -1)

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        value = checked_actions(value, self.logits, self.log_probs.shape[:-1], "MultiCategorical")
        index = self._shift(value, -1).long()
        return self.log_probs.gather(-1, index.unsqueeze(-1)).squeeze(-1).sum(-1)

    def entropy(self) -> torch.Tensor:
        log_probs = _finite(self.log_probs)
        return -(log_probs.exp() * log_probs).sum((-2, -1))

    def kl(self, other: Distribution) -> torch.Tensor:
        check_partner(self, other, MultiCategorical, "nvec")
        assert isinstance(other, MultiCategorical)
        log_p, log_q = _finite(self.log_probs), _finite(other.log_probs)
        return (log_p.exp() * (log_p - log_q)).sum((-2, -1))

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self._shift(self.log_probs.argmax(-1), +1), event_dims=1)


def _padded(logits: torch.Tensor, nvec: tuple[int, ...]) -> torch.Tensor:
    """``[..., sum(nvec)]`` → ``[..., K, max(nvec)]``, short rows padded with -inf."""
    width = max(nvec)
    if all(n == width for n in nvec):
        return logits.unflatten(-1, (len(nvec), width))
    parts = [
        F.pad(part, (0, width - n), value=-math.inf)
        for part, n in zip(logits.split(nvec, dim=-1), nvec)
    ]
    return torch.stack(parts, dim=-2)
