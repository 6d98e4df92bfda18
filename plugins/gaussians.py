"""Built-in continuous action distributions: diagonal and squashed (tanh) Gaussians.

Written on tensors (see ``distributions``); RLlib's constructors ``(loc, scale)``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from rlmodules.distribution import Distribution
from rlmodules.errors import SpaceError
from torch.nn import functional as F

from ._dist_checks import check_partner, checked_actions, is_box_1d, unsupported
from .deterministic import Deterministic

__all__ = ["DiagGaussian", "SquashedGaussian"]

_LOG_2PI = math.log(2 * math.pi)
_LOG_2 = math.log(2.0)


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


class _Gaussian(Distribution):
    """RLlib's constructor ``(loc, scale)``; with ``scale=None``, ``loc`` holds the inputs
    ``[..., 2 * D]``: means then log standard deviations, the latter clamped to
    ``[LOG_STD_MIN, LOG_STD_MAX]`` (what ``from_logits`` passes)."""

    LOG_STD_MIN: ClassVar[float]
    LOG_STD_MAX: ClassVar[float]
    inputs_are_mean_and_log_std = True

    def __init__(self, loc: torch.Tensor, scale: torch.Tensor | float | None = None) -> None:
        if scale is None:
            mean, log_std = loc.chunk(2, dim=-1)
            self.log_std = log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)
            self.std = self.log_std.exp()
        else:
            mean = loc
            self.std = torch.as_tensor(scale, dtype=loc.dtype, device=loc.device).expand_as(loc)
            self.log_std = self.std.log()
        self.mean = self.loc = mean
        self.scale = self.std

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> Any:
        return cls(logits, **kwargs)


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
        if not is_box_1d(space):
            raise unsupported("DiagGaussian", space, "a 1-D Box")
        return 2 * int(space.shape[0])

    def sample(self) -> torch.Tensor:
        return torch.normal(self.mean, self.std).detach()

    def rsample(self) -> torch.Tensor:
        return self.mean + self.std * torch.randn_like(self.mean)

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        value = checked_actions(value, self.mean, self.mean.shape, "DiagGaussian")
        return _normal_log_density(value, self.mean, self.log_std, self.std).sum(-1)

    def entropy(self) -> torch.Tensor:
        # H = Σ log σ + D/2 (1 + log 2π)
        return (self.log_std + 0.5 * (1.0 + _LOG_2PI)).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        check_partner(self, other, DiagGaussian, "mean")
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

    def __init__(self, loc: torch.Tensor, scale: torch.Tensor | float | None = None,
                 low: Any = None, high: Any = None) -> None:
        super().__init__(loc, scale)
        if low is not None or high is not None:  # RLlib's explicit bounds
            self.low = np.broadcast_to(np.asarray(-1.0 if low is None else low, np.float64),
                                       self.mean.shape[-1:])
            self.high = np.broadcast_to(np.asarray(1.0 if high is None else high, np.float64),
                                        self.mean.shape[-1:])
            self._affine_cache = {}
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # (action, pre-squash)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not (is_box_1d(space) and np.isfinite(space.low).all()
                and np.isfinite(space.high).all()):
            raise unsupported("SquashedGaussian", space, "a bounded 1-D Box")
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
            value = checked_actions(value, self.mean, self.mean.shape, "SquashedGaussian")
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
        check_partner(self, other, SquashedGaussian, "mean")
        assert isinstance(other, SquashedGaussian)
        if not (_same_bounds(self.low, other.low) and _same_bounds(self.high, other.high)):
            raise SpaceError(
                f"SquashedGaussian.kl needs both distributions for the same action space, got "
                f"{type(self).space} and {type(other).space}"
            )
        return _gaussian_kl(self.mean, self.log_std, self.std, other.mean, other.log_std, other.std)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self._squash(self.mean), event_dims=1)
