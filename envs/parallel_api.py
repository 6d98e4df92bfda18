"""The multi-agent environment protocol: PettingZoo's parallel API, without PettingZoo.

``reset(seed=None, options=None)`` returns ``(observations, infos)``; ``step(actions)``
returns ``(observations, rewards, terminations, truncations, infos)``, each a dict keyed by
agent id. ``possible_agents`` lists every agent that can appear; ``observation_space(agent)``
and ``action_space(agent)`` are methods. ``agents`` lists the live agents and, as in
PettingZoo, exists once ``reset`` ran; an agent whose termination or truncation is
True leaves ``agents`` and gets no further observation. The agents that must act next are
the keys of the latest observation dict that are still live, so agents may act at different
times (turn-based envs) and finish at different times.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from rlmodules.errors import ConfigError

__all__ = ["ParallelEnv", "is_parallel_env", "check_parallel_env", "is_aec_env"]

#: Members a parallel env has before its first ``reset`` (``agents`` comes with ``reset``).
_REQUIRED = ("reset", "step", "possible_agents", "observation_space", "action_space")
#: Members only a turn-based (AEC) PettingZoo env has.
_AEC_ONLY = ("observe", "last")


@runtime_checkable
class ParallelEnv(Protocol):
    """Structural type of a parallel multi-agent env (``pettingzoo.ParallelEnv`` fits)."""

    possible_agents: list[Any]
    agents: list[Any]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[Any, Any], dict[Any, Any]]: ...

    def step(
        self, actions: dict[Any, Any]
    ) -> tuple[
        dict[Any, Any], dict[Any, float], dict[Any, bool], dict[Any, bool], dict[Any, Any]
    ]: ...

    def observation_space(self, agent: Any) -> Any: ...

    def action_space(self, agent: Any) -> Any: ...


def is_parallel_env(obj: Any) -> bool:
    """True if ``obj`` (an env instance or class) has the parallel API's members (and is
    not a turn-based AEC env, see :func:`is_aec_env`)."""
    return (
        all(hasattr(obj, name) for name in _REQUIRED)
        and callable(getattr(obj, "observation_space", None))
        and not is_aec_env(obj)
    )


def is_aec_env(obj: Any) -> bool:
    """True if ``obj`` has PettingZoo's AEC (agent-environment-cycle) API: ``observe``,
    ``last`` and ``possible_agents``."""
    return hasattr(obj, "possible_agents") and all(
        callable(getattr(obj, name, None)) for name in _AEC_ONLY)


def check_parallel_env(env: Any) -> None:
    """Raise ``ConfigError`` naming what is missing if ``env`` is not a parallel env.

    Example::

        check_parallel_env(MultiAgentCartPole(config={"num_agents": 2}))
    """
    missing = [name for name in _REQUIRED if not hasattr(env, name)]
    if missing:
        raise ConfigError(
            f"{type(env).__name__} is not a parallel multi-agent env: it lacks {missing}. "
            f"A multi-agent env needs PettingZoo's parallel API: {', '.join(_REQUIRED)} "
            f"(and agents after reset)"
        )
    for name in ("observation_space", "action_space"):
        if not callable(getattr(env, name)):
            raise ConfigError(
                f"{type(env).__name__}.{name} must be a method taking an agent id (PettingZoo's "
                f"parallel API), got {type(getattr(env, name)).__name__}; a single-agent "
                f"gymnasium env is configured by its id or class without .multi_agent()"
            )
    if not list(env.possible_agents):
        raise ConfigError(f"{type(env).__name__}.possible_agents is empty; list the agent ids")
