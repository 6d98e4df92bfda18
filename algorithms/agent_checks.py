"""What a multi-agent env returns, checked against what it declares, cheaply.

An agent id outside ``possible_agents`` is caught when the agent first appears (a set
membership on a path taken once per agent and episode). An observation is checked against
the agent's ``observation_space(agent)`` when the agent first appears, and every step as one
vectorised bounds-and-shape check per module id against the Box space of the first agent
that acted with it (NaN fails it too); only when that fails are the agents' observations
checked one by one against their own spaces, to name the culprit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rlmodules.errors import ConfigError

__all__ = ["BoxBounds", "check_new_agent", "check_observations", "check_reporting_agent"]


def _env_name(env: Any) -> str:
    return type(getattr(env, "unwrapped", env)).__name__


def check_new_agent(env: Any, possible: frozenset[Any], agent_id: Any, obs: Any) -> None:
    """Raise ``ConfigError`` unless ``agent_id`` is one of ``possible`` and ``obs`` lies in
    its observation space."""
    check_reporting_agent(env, possible, agent_id, "an observation")
    space = env.observation_space(agent_id)
    if not _contains(space, obs):
        raise _outside(env, agent_id, obs, space)


def check_reporting_agent(env: Any, possible: frozenset[Any], agent_id: Any, what: str
                          ) -> None:
    """Raise ``ConfigError`` if ``agent_id``, for which ``env`` returned ``what``, is not one
    of its ``possible_agents``."""
    if agent_id not in possible:
        shown = sorted(map(repr, possible))
        raise ConfigError(
            f"{_env_name(env)} returned {what} for agent {agent_id!r}, which is not in its "
            f"possible_agents ({', '.join(shown[:10])}{', ...' if len(shown) > 10 else ''}); "
            f"list every agent the env can return in possible_agents"
        )


class BoxBounds:
    """The shape and bounds of a Box space, for a check of a whole batch. Unlike
    ``Box.contains`` it accepts any numeric dtype (a float64 observation of a float32
    space is what many envs return, and casts fine): shape, bounds and NaN matter."""

    def __init__(self, space: Any) -> None:
        self.shape = tuple(space.shape)
        self.low, self.high = space.low, space.high

    @classmethod
    def of(cls, space: Any) -> BoxBounds | None:
        """The bounds of ``space`` if it is a Box, else ``None``."""
        import gymnasium as gym

        return cls(space) if isinstance(space, gym.spaces.Box) else None

    def holds(self, batch: np.ndarray) -> bool:
        """Whether every row of ``batch`` (``[n, *shape]``) lies inside the bounds."""
        return bool(batch.dtype.kind in "biuf" and batch.shape[1:] == self.shape
                    and ((batch >= self.low) & (batch <= self.high)).all())


def check_observations(members: list[tuple[Any, Any, Any]]) -> None:
    """Raise ``ConfigError`` for the first ``(env, agent id, observation)`` whose
    observation lies outside the agent's observation space (after a batch check failed)."""
    for env, agent_id, obs in members:
        space = env.observation_space(agent_id)
        if not _contains(space, obs):
            raise _outside(env, agent_id, obs, space)


def _contains(space: Any, obs: Any) -> bool:
    bounds = BoxBounds.of(space)
    try:
        if bounds is not None:
            return bounds.holds(np.asarray(obs)[None])
        return bool(space.contains(obs))
    except (TypeError, ValueError):  # e.g. a ragged list where a Box expects an array
        return False


def _outside(env: Any, agent_id: Any, obs: Any, space: Any) -> ConfigError:
    shape = getattr(obs, "shape", None)
    got = f"{type(obs).__name__}" + (f" of shape {shape}" if shape is not None else "")
    text = np.array2string(obs, threshold=8) if isinstance(obs, np.ndarray) else repr(obs)
    return ConfigError(
        f"{_env_name(env)} returned an observation for agent {agent_id!r} outside its "
        f"observation space {space}: {got} {text[:200]}; return observations inside "
        f"observation_space({agent_id!r})"
    )
