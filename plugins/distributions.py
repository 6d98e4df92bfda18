"""Built-in action distributions (registered by the built-in plugin).

Written directly on tensors rather than wrapping ``torch.distributions``: argument
validation and lazy-property machinery there cost more than the network at batch 1.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import torch

from rlmodules.distribution import Distribution
from rlmodules.errors import SpaceError

__all__ = ["Categorical", "DiagGaussian", "Deterministic", "default_distribution_name"]


def default_distribution_name(space: gym.Space) -> str | None:
    """The built-in choice for an action space, or None if none fits."""
    if isinstance(space, gym.spaces.Discrete):
        return "categorical"
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        return "diag_gaussian"
    return None


def _width(logits: torch.Tensor, expected: int, name: str, space: Any) -> None:
    if logits.shape[-1] != expected:
        raise SpaceError(
            f"{name} for {space} needs action_dist_inputs of width {expected}, "
            f"got shape {tuple(logits.shape)}"
        )


class Categorical(Distribution):
    """Categorical over ``n`` actions from unnormalised logits ``[..., n]``."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits
        self._log_probs: torch.Tensor | None = None

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> Categorical:
        return cls(logits)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not isinstance(space, gym.spaces.Discrete):
            raise SpaceError(f"Categorical needs a Discrete action space, got {space}")
        return int(space.n)

    @property
    def log_probs(self) -> torch.Tensor:
        if self._log_probs is None:
            self._log_probs = self.logits.log_softmax(-1)
        return self._log_probs

    def sample(self) -> torch.Tensor:
        probs = self.log_probs.detach().exp()
        n = probs.shape[-1]
        return torch.multinomial(probs.reshape(-1, n), 1).view(probs.shape[:-1])

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        return self.log_probs.gather(-1, value.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        log_probs = self.log_probs
        return -(log_probs.exp() * log_probs).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        assert isinstance(other, Categorical)
        log_p, log_q = self.log_probs, other.log_probs
        return (log_p.exp() * (log_p - log_q)).sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self.logits.argmax(-1))


class DiagGaussian(Distribution):
    """Diagonal Gaussian from ``[..., 2 * D]`` inputs: means then log standard deviations."""

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        self.mean = mean
        self.log_std = log_std
        self.std = log_std.exp()

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> DiagGaussian:
        mean, log_std = logits.chunk(2, dim=-1)
        return cls(mean, log_std)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 1):
            raise SpaceError(f"DiagGaussian needs a 1-D Box action space, got {space}")
        return 2 * int(space.shape[0])

    def sample(self) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample()

    def rsample(self) -> torch.Tensor:
        return self.mean + self.std * torch.randn_like(self.mean)

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        z = (value - self.mean) / self.std
        return (-0.5 * z.pow(2) - self.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def entropy(self) -> torch.Tensor:
        return (self.log_std + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)

    def kl(self, other: Distribution) -> torch.Tensor:
        assert isinstance(other, DiagGaussian)
        var_ratio = (self.std / other.std).pow(2)
        t1 = ((self.mean - other.mean) / other.std).pow(2)
        return (0.5 * (var_ratio + t1 - 1 - var_ratio.log())).sum(-1)

    def to_deterministic(self) -> Deterministic:
        return Deterministic(self.mean)


class Deterministic(Distribution):
    """A point mass at ``loc`` (the greedy counterpart of the other distributions)."""

    def __init__(self, loc: torch.Tensor) -> None:
        self.loc = loc

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> Deterministic:
        return cls(logits)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 1):
            raise SpaceError(f"Deterministic needs a 1-D Box action space, got {space}")
        return int(space.shape[0])

    def sample(self) -> torch.Tensor:
        return self.loc.detach()

    def rsample(self) -> torch.Tensor:
        return self.loc

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        equal = (value == self.loc)
        if equal.dim() > self.loc.dim() - 1 and self.loc.is_floating_point():
            equal = equal.all(-1)
        return torch.where(equal, 0.0, -math.inf).to(torch.float32)

    def entropy(self) -> torch.Tensor:
        batch_shape = self.loc.shape[:-1] if self.loc.is_floating_point() else self.loc.shape
        return torch.zeros(batch_shape, device=self.loc.device)

    def kl(self, other: Distribution) -> torch.Tensor:
        raise NotImplementedError("KL divergence from a point mass is undefined")

    def to_deterministic(self) -> Deterministic:
        return self
