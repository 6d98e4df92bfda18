"""A third party's Beta distribution plugin, written only against public names.

It declares the config key ``use_beta``; when a default module's ``model_config`` sets it,
its decision hook serves bounded 1-D Box action spaces with a Beta distribution scaled to
the space's bounds, which it reads from the class ``for_space`` configured for the space.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import rlmodules
import torch
from rlmodules import Distribution, SpaceError
from rlmodules.registry import ConfigKey


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


class BetaPlugin:
    """The plugin object: what a package would name in its entry point."""

    @rlmodules.hookimpl
    def rlmodules_distributions(self):
        return {"scaled_beta": ScaledBeta}

    @rlmodules.hookimpl
    def rlmodules_config_keys(self):
        return {"use_beta": ConfigKey(type=bool, default=False,
                                      doc="Beta distribution for bounded Box actions")}

    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_action_dist_cls(self, action_space, model_config):
        box = isinstance(action_space, gym.spaces.Box) and action_space.is_bounded()
        if box and model_config.get("rlm_beta.use_beta"):
            return "scaled_beta"  # this plugin's own name
        return None
