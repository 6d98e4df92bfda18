"""Built-in action distributions (registered by the built-in plugin).

Written directly on tensors rather than wrapping ``torch.distributions``: argument
validation and lazy-property machinery there cost more than the network at batch 1.
Categorical draws use the Gumbel-max trick (``argmax(log p + G)`` with Gumbel noise ``G`` is
distributed as ``p``), which skips ``torch.multinomial``'s validation pass and its slower
exponential noise. Nothing here checks logits for NaN (that would cost a device sync per step).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
    "DiagGaussian",
    "Deterministic",
    "MultiCategorical",
    "MultiDistribution",
    "SquashedGaussian",
    "default_distribution_name",
]

_LOG_2PI = math.log(2 * math.pi)
_LOG_2 = math.log(2.0)


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


def _normal_log_density(
    value: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """Elementwise log N(value; mean, std²) = -z²/2 - log σ - log(2π)/2."""
    z = (value - mean) / std
    return -0.5 * z * z - log_std - 0.5 * _LOG_2PI


def _gaussian_kl(
    mean_p: torch.Tensor, log_std_p: torch.Tensor, std_p: torch.Tensor,
    mean_q: torch.Tensor, log_std_q: torch.Tensor, std_q: torch.Tensor,
) -> torch.Tensor:
    """KL(N_p || N_q) of diagonal Gaussians, summed over the last axis:
    Σ log σq/σp + (σp² + (μp - μq)²) / (2 σq²) - 1/2."""
    var_ratio = (std_p / std_q).pow(2)
    mahalanobis = ((mean_p - mean_q) / std_q).pow(2)
    return (0.5 * (var_ratio + mahalanobis - 1.0) - (log_std_p - log_std_q)).sum(-1)


def _same_bounds(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b))


# --- categorical ----------------------------------------------------------------------------------
class Categorical(Distribution):
    """Categorical over ``n`` actions from unnormalised logits ``[..., n]``.

    Configured for ``Discrete(n, start=s)`` (see ``for_space``) its actions are
    ``s .. s + n - 1`` and ``logp`` takes them in that range.

    Example::

        dist = Categorical.for_space(gym.spaces.Discrete(3)).from_logits(torch.zeros(8, 3))
        actions = dist.sample()          # [8], int64
        logp = dist.logp(actions)        # [8]
    """

    #: First action (``Discrete.start``).
    start: ClassVar[int] = 0

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits
        self._log_probs: torch.Tensor | None = None

    @classmethod
    def from_logits(cls, logits: torch.Tensor) -> Categorical:
        return cls(logits)

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
        self, logits: torch.Tensor, nvec: Sequence[int], start: Sequence[int] | None = None
    ) -> None:
        self.logits = logits
        self.nvec = tuple(int(n) for n in nvec)
        self.start = tuple(start) if start is not None and any(start) else None
        self.log_probs = _padded(logits, self.nvec).log_softmax(-1)  # [..., K, max(nvec)]

    @classmethod
    def from_logits(
        cls, logits: torch.Tensor, input_lens: Sequence[int] | None = None
    ) -> MultiCategorical:
        if input_lens is None:
            if cls.nvec is None:
                raise SpaceError(
                    "MultiCategorical.from_logits needs input_lens (the MultiDiscrete sizes, "
                    "e.g. input_lens=[3, 2]) unless the class was configured with "
                    "MultiCategorical.for_space(space)"
                )
            return cls(logits, cls.nvec, cls.start)
        if logits.shape[-1:] != (sum(input_lens),):
            raise SpaceError(
                f"MultiCategorical with input_lens {list(input_lens)} needs action_dist_inputs "
                f"of width {sum(input_lens)} on the last axis, got shape {tuple(logits.shape)}"
            )
        return cls(logits, input_lens)

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
    def from_logits(cls, logits: torch.Tensor) -> Bernoulli:
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


# --- continuous ---------------------------------------------------------------------------------
class _Gaussian(Distribution):
    """Inputs ``[..., 2 * D]`` as means then log standard deviations, the latter clamped to
    ``[LOG_STD_MIN, LOG_STD_MAX]`` (the shared constructor of the Gaussians below)."""

    LOG_STD_MIN: ClassVar[float]
    LOG_STD_MAX: ClassVar[float]
    inputs_are_mean_and_log_std = True

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        self.mean = mean
        self.log_std = log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)
        self.std = self.log_std.exp()

    @classmethod
    def from_logits(cls, logits: torch.Tensor) -> Any:
        mean, log_std = logits.chunk(2, dim=-1)
        return cls(mean, log_std)


class DiagGaussian(_Gaussian):
    """Diagonal Gaussian from ``[..., 2 * D]`` inputs: means then log standard deviations.

    ``log_std`` is clamped to ``[LOG_STD_MIN, LOG_STD_MAX]`` so that a diverging head cannot
    produce a zero or infinite scale.

    Example::

        dist = DiagGaussian.for_space(gym.spaces.Box(-1, 1, (2,))).from_logits(torch.zeros(8, 4))
        dist.rsample().shape             # (8, 2), differentiable
    """

    LOG_STD_MIN: ClassVar[float] = -20.0
    LOG_STD_MAX: ClassVar[float] = 10.0

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not _is_box_1d(space):
            raise _unsupported("DiagGaussian", space, "a 1-D Box")
        return 2 * int(space.shape[0])

    def sample(self) -> torch.Tensor:
        return torch.normal(self.mean, self.std).detach()

    def rsample(self) -> torch.Tensor:
        return self.mean + self.std * torch.randn_like(self.mean)

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        value = _actions(value, self.mean, self.mean.shape, "DiagGaussian")
        return _normal_log_density(value, self.mean, self.log_std, self.std).sum(-1)

    def entropy(self) -> torch.Tensor:
        # H = Σ log σ + D/2 (1 + log 2π)
        return (self.log_std + 0.5 * (1.0 + _LOG_2PI)).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        _check_partner(self, other, DiagGaussian, "mean")
        assert isinstance(other, DiagGaussian)
        return _gaussian_kl(self.mean, self.log_std, self.std, other.mean, other.log_std, other.std)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self.mean, event_dims=1)


class SquashedGaussian(_Gaussian):
    """A Gaussian squashed by tanh and rescaled to the Box bounds (``[-1, 1]`` unconfigured).

    Inputs ``[..., 2 * D]`` (means then log standard deviations of the pre-squash Gaussian).
    ``logp`` is stable for saturated actions: it uses ``log(1 - tanh²u) = 2 (log 2 - u -
    softplus(-2u))``, clamps the inverse away from ±1, and reuses the exact pre-squash draw
    for the tensor the last ``sample()``/``rsample()`` returned. ``kl`` is exact (that of the
    pre-squash Gaussians); ``entropy`` is a one-draw estimate (no closed form exists).

    Example::

        space = gym.spaces.Box(-2.0, 2.0, (1,))
        dist = SquashedGaussian.for_space(space).from_logits(torch.zeros(8, 2))
        actions = dist.sample()          # within [-2, 2]
        logp = dist.logp(actions)
    """

    LOG_STD_MIN: ClassVar[float] = -20.0
    LOG_STD_MAX: ClassVar[float] = 2.0
    #: Box bounds of the configured space (float64 arrays), or None for [-1, 1].
    low: ClassVar[np.ndarray | None] = None
    high: ClassVar[np.ndarray | None] = None
    _affine_cache: ClassVar[dict[Any, tuple[torch.Tensor, torch.Tensor]]] = {}

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        super().__init__(mean, log_std)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # (action, pre-squash)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not (_is_box_1d(space) and np.isfinite(space.low).all()
                and np.isfinite(space.high).all()):
            raise _unsupported("SquashedGaussian", space, "a bounded 1-D Box")
        return 2 * int(space.shape[0])

    @classmethod
    def _configured_attributes(cls, space: Any) -> dict[str, Any]:
        return {
            **super()._configured_attributes(space),
            "low": np.asarray(space.low, dtype=np.float64),
            "high": np.asarray(space.high, dtype=np.float64),
            "_affine_cache": {},
        }

    def _affine(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(centre, half-width) of the bounds on the inputs' device and dtype (cached)."""
        if self.low is None or self.high is None:
            return None
        key = (self.mean.device, self.mean.dtype)
        affine = self._affine_cache.get(key)
        if affine is None:
            centre = torch.as_tensor((self.high + self.low) / 2, dtype=self.mean.dtype)
            half = torch.as_tensor((self.high - self.low) / 2, dtype=self.mean.dtype)
            affine = self._affine_cache[key] = (centre.to(key[0]), half.to(key[0]))
        return affine

    def _squash(self, pre: torch.Tensor) -> torch.Tensor:
        affine = self._affine()
        return pre.tanh() if affine is None else affine[0] + affine[1] * pre.tanh()

    def _unsquash(self, value: torch.Tensor) -> torch.Tensor:
        affine = self._affine()
        unit = value if affine is None else (value - affine[0]) / affine[1]
        bound = 1.0 - torch.finfo(unit.dtype).eps
        return unit.clamp(-bound, bound).atanh()

    def sample(self) -> torch.Tensor:
        pre = torch.normal(self.mean, self.std).detach()
        action = self._squash(pre)
        self._last = (action, pre)
        return action

    def rsample(self) -> torch.Tensor:
        pre = self.mean + self.std * torch.randn_like(self.mean)
        action = self._squash(pre)
        self._last = (action, pre)
        return action

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        if self._last is not None and value is self._last[0]:
            pre = self._last[1]
        else:
            value = _actions(value, self.mean, self.mean.shape, "SquashedGaussian")
            pre = self._unsquash(value)
        # log p(a) = log N(u) - log|da/du|
        density = _normal_log_density(pre, self.mean, self.log_std, self.std) - self._log_det(pre)
        return density.sum(-1)

    def _log_det(self, pre: torch.Tensor) -> torch.Tensor:
        """Elementwise log|da/du| = log(half_width) + log(1 - tanh²u), the latter in the stable
        form 2 (log 2 - u - softplus(-2u))."""
        log_det = 2.0 * (_LOG_2 - pre - F.softplus(-2.0 * pre))
        affine = self._affine()
        return log_det if affine is None else log_det + affine[1].log()

    def entropy(self) -> torch.Tensor:
        """H = H(pre-squash Gaussian) + E[log|da/du|]; there is no closed form for the
        expectation, so it is a one-draw reparameterised (differentiable) estimate."""
        pre = self.mean + self.std * torch.randn_like(self.mean)
        return (self.log_std + 0.5 * (1.0 + _LOG_2PI) + self._log_det(pre)).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        """Closed form: KL is invariant under the shared invertible squash, so it is the KL
        of the pre-squash Gaussians (both must be for the same bounds)."""
        _check_partner(self, other, SquashedGaussian, "mean")
        assert isinstance(other, SquashedGaussian)
        if not (_same_bounds(self.low, other.low) and _same_bounds(self.high, other.high)):
            raise SpaceError(
                f"SquashedGaussian.kl needs both distributions for the same action space, got "
                f"{type(self).space} and {type(other).space}"
            )
        return _gaussian_kl(self.mean, self.log_std, self.std, other.mean, other.log_std, other.std)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self._squash(self.mean), event_dims=1)


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
    def from_logits(cls, logits: torch.Tensor) -> Deterministic:
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


# --- structured ---------------------------------------------------------------------------------
class MultiDistribution(Distribution):
    """One distribution per component of a Tuple or Dict action space.

    Configured with ``for_space``, each component gets the distribution the installed
    plugins choose for it (configured recursively); the logits are split in the space's
    order. Actions, and the values ``logp`` takes, have the space's structure (a tuple or
    dict of tensors); ``logp``, ``entropy`` and ``kl`` sum over the components.

    Example::

        space = gym.spaces.Dict({"move": gym.spaces.Discrete(3),
                                 "aim": gym.spaces.Box(-1, 1, (2,))})
        dist = MultiDistribution.for_space(space).from_logits(torch.zeros(8, 7))
        actions = dist.sample()          # {"aim": [8, 2], "move": [8]}
    """

    #: Component classes (a dict for Dict spaces, a tuple for Tuple spaces), or None.
    children: ClassVar[Mapping[str, type[Distribution]] | tuple[type[Distribution], ...] | None]
    children = None
    #: Width of each component's inputs, in the space's order.
    input_lens: ClassVar[tuple[int, ...] | None] = None

    def __init__(self, components: Mapping[str, Distribution] | Sequence[Distribution]) -> None:
        self.components = components

    @classmethod
    def from_logits(
        cls,
        logits: torch.Tensor,
        child_distribution_cls_struct: Any = None,
        input_lens: Sequence[int] | None = None,
    ) -> MultiDistribution:
        children = cls.children if child_distribution_cls_struct is None else (
            child_distribution_cls_struct
        )
        if children is None:
            raise SpaceError(
                "MultiDistribution.from_logits needs child_distribution_cls_struct (a dict or "
                "tuple of Distribution classes) unless the class was configured with "
                "MultiDistribution.for_space(space)"
            )
        classes = list(children.values()) if isinstance(children, Mapping) else list(children)
        lens = _input_lens(classes, cls.input_lens if input_lens is None else input_lens)
        if logits.shape[-1:] != (sum(lens),):
            where = f"action space {cls.space}" if cls.space is not None else f"input_lens {lens}"
            raise SpaceError(
                f"MultiDistribution for {where} needs action_dist_inputs of width {sum(lens)} "
                f"on the last axis, got shape {tuple(logits.shape)}"
            )
        parts = logits.split(lens, dim=-1)
        dists = [c.from_logits(p) for c, p in zip(classes, parts)]
        if isinstance(children, Mapping):
            return cls(dict(zip(children, dists)))
        return cls(tuple(dists))

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        return sum(_input_lens(list(_values(_child_classes(space))), None))

    @classmethod
    def _configured_attributes(cls, space: Any) -> dict[str, Any]:
        children = _child_classes(space)
        lens = tuple(_input_lens(list(_values(children)), None))
        return {"children": children, "input_lens": lens, "input_dim": sum(lens)}

    @classmethod
    def _configuration_key(cls, attributes: dict[str, Any]) -> Any:
        return tuple(_values(attributes["children"]))

    def _map(self, fn: Any) -> Any:
        if isinstance(self.components, Mapping):
            return {k: fn(d) for k, d in self.components.items()}
        return tuple(fn(d) for d in self.components)

    def _pairs(self, value: Any, what: str) -> list[tuple[Distribution, Any]]:
        if isinstance(self.components, Mapping):
            if not isinstance(value, Mapping) or set(value) != set(self.components):
                got = sorted(value) if isinstance(value, Mapping) else type(value).__name__
                raise BatchError(
                    f"MultiDistribution.{what} needs a dict with keys "
                    f"{sorted(self.components)}, got {got}"
                )
            return [(d, value[k]) for k, d in self.components.items()]
        if not isinstance(value, (tuple, list)) or len(value) != len(self.components):
            is_sequence = isinstance(value, (tuple, list))
            got = f"{len(value)} items" if is_sequence else type(value).__name__
            raise BatchError(
                f"MultiDistribution.{what} needs a tuple of {len(self.components)} "
                f"components, got {got}"
            )
        return list(zip(self.components, value))

    def sample(self) -> Any:
        return self._map(lambda d: d.sample())

    def rsample(self) -> Any:
        return self._map(lambda d: d.rsample())

    def logp(self, value: Any) -> torch.Tensor:
        return _total(d.logp(v) for d, v in self._pairs(value, "logp"))

    def entropy(self) -> torch.Tensor:
        return _total(d.entropy() for d in _values(self.components))

    def kl(self, other: Distribution) -> torch.Tensor:
        if not isinstance(other, MultiDistribution):
            raise SpaceError(
                f"MultiDistribution.kl needs another MultiDistribution, got {type(other).__name__}"
            )
        pairs = self._pairs(other.components, "kl")
        return _total(d.kl(o) for d, o in pairs)

    def to_deterministic(self) -> MultiDistribution:
        return MultiDistribution(self._map(lambda d: d.to_deterministic()))


def _values(struct: Any) -> Any:
    return struct.values() if isinstance(struct, Mapping) else struct


def _total(terms: Any) -> torch.Tensor:
    total = None
    for term in terms:
        total = term if total is None else total + term
    assert total is not None  # Tuple/Dict spaces with no components are rejected earlier
    return total


def _input_lens(classes: list[type[Distribution]], given: Sequence[int] | None) -> list[int]:
    if given is not None:
        lens = [int(n) for n in given]
    elif all(c.input_dim is not None for c in classes):
        lens = [int(c.input_dim) for c in classes]  # type: ignore[arg-type]
    else:
        raise SpaceError(
            "MultiDistribution.from_logits needs input_lens (one width per component) when "
            "its component classes are not configured with for_space(space)"
        )
    if len(lens) != len(classes):
        raise SpaceError(
            f"MultiDistribution got {len(lens)} input_lens {lens} for {len(classes)} components"
        )
    return lens


def _child_classes(space: Any) -> Any:
    """The configured distribution class of each component of a Tuple/Dict space."""
    if isinstance(space, gym.spaces.Dict):
        items = list(space.spaces.items())
    elif isinstance(space, gym.spaces.Tuple):
        items = list(enumerate(space.spaces))
    else:
        raise _unsupported("MultiDistribution", space, "a Tuple or Dict")
    if not items:
        raise SpaceError(f"MultiDistribution needs at least one component, got {space!r}")
    from rlmodules.catalog import default_action_dist_cls

    classes = {}
    for key, child in items:
        try:
            classes[key] = default_action_dist_cls(child)
        except SpaceError as exc:
            raise SpaceError(f"component {key!r} of action space {space!r}: {exc}") from None
    if isinstance(space, gym.spaces.Dict):
        return classes
    return tuple(classes.values())
