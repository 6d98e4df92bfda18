"""ScaledBeta: Beta(alpha, beta) per action dimension, scaled to a bounded Box's bounds.

The class a module uses is ``ScaledBeta.for_space(action_space)``: ``from_logits`` reads the
bounds from ``cls.space``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import rlmodules
import torch
from rlmodules import Distribution, SpaceError


class ScaledBeta(Distribution):
    """Beta(alpha, beta) per action dimension, scaled from [0, 1] to the Box's [low, high]."""

    def __init__(self, alpha: torch.Tensor, beta: torch.Tensor, low: torch.Tensor,
                 high: torch.Tensor) -> None:
        self.beta = torch.distributions.Beta(alpha, beta)
        self.low, self.scale = low, high - low

    @classmethod
    def required_input_dim(cls, space, **kwargs):
        bounded = isinstance(space, gym.spaces.Box) and len(space.shape) == 1 and bool(
            np.isfinite(space.low).all() and np.isfinite(space.high).all())
        if not bounded:
            raise SpaceError(f"ScaledBeta needs a bounded 1-D Box action space, got {space}")
        return 2 * space.shape[0]

    @classmethod
    def from_logits(cls, logits, **kwargs):
        space = cls.space  # the action space: this class is ScaledBeta.for_space(space)
        low = torch.as_tensor(space.low, dtype=logits.dtype, device=logits.device)
        high = torch.as_tensor(space.high, dtype=logits.dtype, device=logits.device)
        a, b = logits.chunk(2, dim=-1)
        return cls(1 + torch.nn.functional.softplus(a), 1 + torch.nn.functional.softplus(b),
                   low, high)

    def sample(self):
        return self.low + self.scale * self.beta.sample()

    def rsample(self):
        return self.low + self.scale * self.beta.rsample()

    def logp(self, value):
        unit = ((value - self.low) / self.scale).clamp(1e-6, 1 - 1e-6)
        return (self.beta.log_prob(unit) - self.scale.log()).sum(-1)

    def entropy(self):
        return (self.beta.entropy() + self.scale.log()).sum(-1)

    def kl(self, other):
        return torch.distributions.kl_divergence(self.beta, other.beta).sum(-1)

    def to_deterministic(self):
        mean = self.low + self.scale * self.beta.mean
        return rlmodules.registry.get("distribution", "deterministic").from_logits(mean)
