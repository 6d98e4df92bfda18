"""Space cases: the (observation space, action space) pairs a module is checked on.

A module class declares what it supports with a ``conformance_spaces`` class attribute: a
sequence of :class:`SpaceCase` (or ``(obs_space, action_space[, model_config])`` tuples), or
a classmethod returning one. Without it the kit uses :func:`default_space_grid`, and a case
the module rejects at build time with a ``SpaceError`` is skipped with the reason.

Example::

    class MyImagePolicy(TorchRLModule):
        conformance_spaces = [
            (Box(0, 255, (64, 64, 3), np.uint8), Discrete(6)),
            (Box(0, 255, (84, 84, 4), np.uint8), Discrete(4), {"conv_filters": None}),
        ]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import gymnasium as gym
import numpy as np
from rlmodules.errors import SpecError

__all__ = ["SpaceCase", "default_space_grid", "space_cases_for", "describe_space"]


@attrs.frozen
class SpaceCase:
    """One (observation space, action space, model_config) combination to check.

    ``optional`` cases (the default grid's) are skipped when the module rejects them with a
    ``SpaceError``; a case the module declares, or that a caller passes, fails instead.
    """

    observation_space: gym.Space
    action_space: gym.Space
    model_config: Mapping[str, Any] | None = None
    optional: bool = False

    @property
    def id(self) -> str:
        """A short readable label, e.g. ``"Box(4,)->Discrete(3)"``."""
        label = f"{describe_space(self.observation_space)}->{describe_space(self.action_space)}"
        return f"{label}+config" if self.model_config else label


def describe_space(space: gym.Space) -> str:
    """A compact label for a space (used in test ids and report lines)."""
    if isinstance(space, gym.spaces.Box):
        dtype = "" if space.dtype == np.float32 else f",{space.dtype}"
        return f"Box{tuple(space.shape)}{dtype}"
    if isinstance(space, gym.spaces.Discrete):
        return f"Discrete({int(space.n)})"
    if isinstance(space, gym.spaces.MultiDiscrete):
        return f"MultiDiscrete({space.nvec.tolist()})"
    if isinstance(space, gym.spaces.MultiBinary):
        return f"MultiBinary({space.n})"
    if isinstance(space, gym.spaces.Dict):
        inner = ",".join(f"{k}:{describe_space(s)}" for k, s in space.spaces.items())
        return f"Dict({inner})"
    if isinstance(space, gym.spaces.Tuple):
        return f"Tuple({','.join(describe_space(s) for s in space.spaces)})"
    return type(space).__name__


def default_space_grid() -> list[SpaceCase]:
    """Common spaces: vector, discrete and structured observations x the usual action spaces.

    Cases a module cannot build (e.g. images without a CNN plugin) are skipped, not failed.
    """
    box4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    pairs = [
        (box4, gym.spaces.Discrete(3)),
        (gym.spaces.Box(-np.inf, np.inf, (5,), np.float32),
         gym.spaces.Box(-2.0, 2.0, (2,), np.float32)),
        (gym.spaces.Discrete(6), gym.spaces.Discrete(2)),
        (gym.spaces.MultiDiscrete([3, 4]), gym.spaces.Box(-1.0, 1.0, (3,), np.float32)),
        (gym.spaces.MultiBinary(5), gym.spaces.Discrete(4)),
        (
            gym.spaces.Dict({"pos": gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
                             "mode": gym.spaces.Discrete(3)}),
            gym.spaces.Discrete(2),
        ),
        (gym.spaces.Tuple((box4, gym.spaces.Discrete(2))), gym.spaces.Discrete(3)),
        (box4, gym.spaces.MultiDiscrete([2, 3])),
        (gym.spaces.Box(0, 255, (42, 42, 3), np.uint8), gym.spaces.Discrete(4)),
    ]
    return [SpaceCase(obs, act, optional=True) for obs, act in pairs]


def _as_case(item: Any, owner: str) -> SpaceCase:
    if isinstance(item, SpaceCase):
        return item
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        obs, act = item[0], item[1]
        config = item[2] if len(item) == 3 else None
        if isinstance(obs, gym.Space) and isinstance(act, gym.Space):
            return SpaceCase(obs, act, config)
    raise SpecError(
        f"{owner}.conformance_spaces has an invalid entry {item!r}; each entry must be a "
        f"SpaceCase or an (observation_space, action_space[, model_config]) tuple of "
        f"gymnasium spaces"
    )


def space_cases_for(module_class: Any) -> list[SpaceCase]:
    """The cases ``module_class`` declares (``conformance_spaces``), else the default grid."""
    declared = getattr(module_class, "conformance_spaces", None)
    if declared is None:
        return default_space_grid()
    owner = getattr(module_class, "__name__", repr(module_class))
    if callable(declared):
        declared = declared()
    if isinstance(declared, (str, bytes)) or not hasattr(declared, "__iter__"):
        raise SpecError(
            f"{owner}.conformance_spaces must be a list of (observation_space, action_space) "
            f"pairs or a classmethod returning one, got {type(declared).__name__}"
        )
    cases = [_as_case(item, owner) for item in declared]
    if not cases:
        raise SpecError(
            f"{owner}.conformance_spaces is empty; list at least one (observation_space, "
            f"action_space) pair the module supports, or remove it to use the default grid"
        )
    return cases
