"""The built-in action distributions (registered by the built-in plugin) and which one
serves an action space.

Each family lives in a module of its own (``categorical``, ``bernoulli``, ``gaussians``,
``deterministic``, ``multi_distribution``); this module is where they are imported from.
They are written directly on tensors rather than wrapping ``torch.distributions``: argument
validation and lazy-property machinery there cost more than the network at batch 1.
"""

from __future__ import annotations

import gymnasium as gym

from .bernoulli import Bernoulli
from .categorical import Categorical, MultiCategorical
from .deterministic import Deterministic
from .gaussians import DiagGaussian, SquashedGaussian
from .multi_distribution import MultiDistribution

__all__ = [
    "Bernoulli",
    "Categorical",
    "Deterministic",
    "DiagGaussian",
    "MultiCategorical",
    "MultiDistribution",
    "SquashedGaussian",
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
