"""Why a batch of observations does not fit a space: the diagnosis behind clear errors.

The action step never pays for these checks: ``compute_actions`` runs them only after a
forward failed, to replace a framework error (``one_hot``'s "Class values must be smaller
than num_classes", a ``KeyError`` of a Dict observation, a Gaussian's "std >= 0.0") with
one that names the observation and what its space needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

__all__ = ["observation_problem"]


def observation_problem(
    obs: Any, space: gym.Space | None, where: str = "observations"
) -> str | None:
    """What is wrong with the batch ``obs`` for ``space``, or ``None`` when nothing is found.

    Example::

        observation_problem(torch.tensor([5]), gym.spaces.Discrete(3))
        # "observations must be integers in [0, 2] for Discrete(3); got 5"
    """
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(obs, Mapping):
            return (f"{where} must be a dict with keys {list(space.spaces)}, got "
                    f"{type(obs).__name__}")
        missing = [key for key in space.spaces if key not in obs]
        if missing:
            return (f"{where} lack the keys {missing} of the Dict observation space (they have "
                    f"{list(obs)}; it needs {list(space.spaces)})")
        return _first(observation_problem(obs[k], s, f"{where}[{k!r}]")
                      for k, s in space.spaces.items())
    if isinstance(space, gym.spaces.Tuple):
        if not isinstance(obs, (tuple, list)) or len(obs) != len(space.spaces):
            return (f"{where} must be a tuple of {len(space.spaces)} batches for {space}, "
                    f"got {type(obs).__name__}")
        return _first(observation_problem(o, s, f"{where}[{i}]")
                      for i, (o, s) in enumerate(zip(obs, space.spaces)))
    if not isinstance(obs, torch.Tensor):
        return None
    if isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        low = np.asarray(space.start)
        high = low + np.asarray(space.nvec if isinstance(space, gym.spaces.MultiDiscrete)
                                else space.n) - 1
        values = obs.detach().cpu().numpy()
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < low) | (values > high)
        if bad.any():
            bounds = f"[{low}, {high}]" if low.ndim == 0 else f"[{low.tolist()}, {high.tolist()}]"
            return (f"{where} must be integers in {bounds} for {space}; got "
                    f"{values[bad].reshape(-1)[0].item()!r}")
    elif obs.is_floating_point() and torch.isnan(obs).any():
        return (f"{where} contain NaN ({int(torch.isnan(obs).sum())} of {obs.numel()} values), "
                f"which no observation of {space} is (check the env, or the wrapper that "
                f"normalises it)")
    return None


def _first(problems: Any) -> str | None:
    return next((p for p in problems if p is not None), None)
