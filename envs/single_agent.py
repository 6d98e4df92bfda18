"""A single-agent gymnasium env seen through the parallel API, as one agent.

It lets one rollout loop serve single- and multi-agent envs; the agent id is
``"default_agent"`` (RLlib's), which maps to the module id ``"default_policy"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from rlmodules.errors import BatchError

__all__ = ["SingleAgentParallelEnv", "DEFAULT_AGENT_ID"]

#: Agent id of the only agent of a single-agent env (RLlib's value).
DEFAULT_AGENT_ID = "default_agent"


class SingleAgentParallelEnv:
    """Wraps ``env`` (a ``gymnasium.Env``) as a parallel env with one agent.

    Example::

        env = SingleAgentParallelEnv(gym.make("CartPole-v1"))
        obs, infos = env.reset(seed=0)          # {"default_agent": array([...])}
    """

    def __init__(self, env: gym.Env) -> None:
        self.env = env
        self.possible_agents: list[str] = [DEFAULT_AGENT_ID]
        self.agents: list[str] = []

    def observation_space(self, agent: Any) -> gym.Space:
        self._check_agent(agent)
        return self.env.observation_space

    def action_space(self, agent: Any) -> gym.Space:
        self._check_agent(agent)
        return self.env.action_space

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        self.agents = [DEFAULT_AGENT_ID]
        obs, info = self.env.reset(seed=seed, options=options)
        return {DEFAULT_AGENT_ID: obs}, {DEFAULT_AGENT_ID: info}

    def step(self, actions: Mapping[Any, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if list(actions) != [DEFAULT_AGENT_ID]:
            raise BatchError(
                f"a single-agent env takes exactly one action under {DEFAULT_AGENT_ID!r}, "
                f"got actions for {list(actions)}"
            )
        obs, reward, terminated, truncated, info = self.env.step(actions[DEFAULT_AGENT_ID])
        if terminated or truncated:
            self.agents = []
        a = DEFAULT_AGENT_ID
        return {a: obs}, {a: float(reward)}, {a: terminated}, {a: truncated}, {a: info}

    def close(self) -> None:
        self.env.close()

    def _check_agent(self, agent: Any) -> None:
        if agent != DEFAULT_AGENT_ID:
            raise BatchError(
                f"a single-agent env has only the agent {DEFAULT_AGENT_ID!r}, got {agent!r}"
            )
