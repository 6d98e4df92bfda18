"""Built-in discrete action distributions and the point mass (registered by the built-in
plugin); the Gaussians live in ``gaussians``, the structured one in ``multi_distribution``.

Written directly on tensors rather than wrapping ``torch.distributions``: argument
validation and lazy-property machinery there cost more than the network at batch 1.
Categorical draws use the Gumbel-max trick (``argmax(log p + G)`` with Gumbel noise ``G`` is
distributed as ``p``), which skips ``torch.multinomial``'s validation pass and its slower
exponential noise. Nothing here checks logits for NaN (that would cost a device sync per step).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from rlmodules.distribution import Distribution
from rlmodules.errors import BatchError, SpaceError
from torch.nn import functional as F

__all__ = [
    "Bernoulli",
    "Categorical",
    "Deterministic",
    "MultiCategorical",
    "default_distribution_name",
]


def default_distribution_name(space: gym.Space) -> str | None:
    """The built-in choice for an action space, or None if none fits.

    Discrete → ``"categorical"``, MultiDiscrete → ``"multi_categorical"``, 1-D Box →
    ``"diag_gaussian"``, 1-D MultiBinary → ``"bernoulli"``, Tuple/Dict →
    ``"multi_distribution"`` (each component chosen the same way).
    """
    if isinstance(space, gym.spaces.Discrete):
        return "categorical"
    if isinstance(space, gym.spaces.MultiDiscrete):
        return "multi_categorical" if space.nvec.ndim == 1 else None
    if isinstance(space, gym.spaces.MultiBinary):
        return "bernoulli" if len(space.shape) == 1 else None
    if isinstance(space, gym.spaces.Box):
        return "diag_gaussian" if len(space.shape) == 1 else None
    if isinstance(space, (gym.spaces.Tuple, gym.spaces.Dict)):
        return "multi_distribution"
    return None


# --- shared helpers -------------------------------------------------------------------------------
def _unsupported(name: str, space: Any, wanted: str) -> SpaceError:
    return SpaceError(f"{name} needs {wanted} action space, got {space!r}")


def _is_box_1d(space: Any) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1


def _actions(value: Any, like: torch.Tensor, batch_shape: Any, name: str) -> torch.Tensor:
    """``value`` as a tensor on ``like``'s device, checked against the expected shape."""
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(np.asarray(value), device=like.device)
    if value.shape != batch_shape:
        raise BatchError(
            f"{name}.logp needs actions of shape {tuple(batch_shape)} (the batch shape of "
            f"the distribution's inputs), got {tuple(value.shape)}"
        )
    return value


def _check_partner(self: Distribution, other: Any, kind: type, size_attr: str) -> None:
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


# --- categorical ----------------------------------------------------------------------------------
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
            raise _unsupported("Categorical", space, "a Discrete")
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
        value = _actions(value, self.logits, self.logits.shape[:-1], "Categorical")
        index = value - self.start if self.start else value
        if index.dtype != torch.int64:
            index = index.long()
        return self.log_probs.gather(-1, index.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        log_probs = _finite(self.log_probs)
        return -(log_probs.exp() * log_probs).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        _check_partner(self, other, Categorical, "logits")
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
            raise _unsupported("MultiCategorical", space, "a 1-D MultiDiscrete")
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
        value = _actions(value, self.logits, self.log_probs.shape[:-1], "MultiCategorical")
        index = self._shift(value, -1).long()
        return self.log_probs.gather(-1, index.unsqueeze(-1)).squeeze(-1).sum(-1)

    def entropy(self) -> torch.Tensor:
        log_probs = _finite(self.log_probs)
        return -(log_probs.exp() * log_probs).sum((-2, -1))

    def kl(self, other: Distribution) -> torch.Tensor:
        _check_partner(self, other, MultiCategorical, "nvec")
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
            raise _unsupported("Bernoulli", space, "a 1-D MultiBinary")
        return int(space.shape[0])

    def sample(self) -> torch.Tensor:
        logits = self.logits.detach()
        return (torch.rand_like(logits) < logits.sigmoid()).to(logits.dtype)

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        # log σ(l) for 1, log σ(-l) = log σ(l) - l for 0: value * l - softplus(l).
        value = _actions(value, self.logits, self.logits.shape, "Bernoulli")
        return (value.to(self.logits.dtype) * self.logits - F.softplus(self.logits)).sum(-1)

    def entropy(self) -> torch.Tensor:
        # H = softplus(l) - σ(l) * l
        logits = self.logits
        return (F.softplus(logits) - logits.sigmoid() * logits).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        _check_partner(self, other, Bernoulli, "logits")
        assert isinstance(other, Bernoulli)
        p, q = self.logits, other.logits
        prob = p.sigmoid()
        kl = prob * (F.logsigmoid(p) - F.logsigmoid(q)) + (1 - prob) * (
            F.logsigmoid(-p) - F.logsigmoid(-q)
        )
        return kl.sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic((self.logits > 0).to(self.logits.dtype), event_dims=1)


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
        if not _is_box_1d(space):
            raise _unsupported("Deterministic", space, "a 1-D Box")
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
        value = _actions(value, self.loc, self.loc.shape, "Deterministic")
        return torch.where(self._equal(value), 0.0, -math.inf)

    def entropy(self) -> torch.Tensor:
        return torch.zeros(self._batch_shape, device=self.loc.device)

    def kl(self, other: Distribution) -> torch.Tensor:
        _check_partner(self, other, Deterministic, "loc")
        assert isinstance(other, Deterministic)
        return torch.where(self._equal(other.loc), 0.0, math.inf)

    def to_deterministic(self) -> Deterministic:
        return self


#: Classes that moved to their own modules, still importable from here (their old home).
_MOVED = {"DiagGaussian": "gaussians", "SquashedGaussian": "gaussians",
          "MultiDistribution": "multi_distribution"}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"rlmodules.plugins.{_MOVED[name]}"), name)
