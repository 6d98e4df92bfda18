"""MultiAgentCartPole: N independent CartPole-v1 poles, one per agent (ids 0..N-1).

Each agent balances its own pole and leaves the episode when its pole falls (or after
500 steps); the episode ends when every agent is done, so agents finish at different times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from rlmodules.errors import BatchError, ConfigError

__all__ = ["MultiAgentCartPole"]


class MultiAgentCartPole:
    """N CartPole-v1 agents under PettingZoo's parallel API.

    ``config={"num_agents": N}`` (default 2). ``reset(seed=s)`` seeds agent ``i`` with
    ``s + i``. Rewards, terminations and truncations are those of each agent's CartPole.

    Example::

        env = MultiAgentCartPole(config={"num_agents": 2})
        obs, infos = env.reset(seed=0)
        while env.agents:
            obs, rewards, terms, truncs, infos = env.step({a: 1 for a in env.agents})
    """

    metadata: dict[str, Any] = {"name": "multi_agent_cartpole_v0", "render_modes": []}

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or {})
        unknown = sorted(set(config) - {"num_agents"})
        if unknown:
            raise ConfigError(
                f"MultiAgentCartPole got unknown config keys {unknown}; it takes only "
                f"'num_agents' (a positive int)"
            )
        num_agents = config.get("num_agents", 2)
        if not isinstance(num_agents, int) or isinstance(num_agents, bool) or num_agents < 1:
            raise ConfigError(
                f"MultiAgentCartPole config 'num_agents' must be a positive int, got "
                f"{num_agents!r}"
            )
        self.possible_agents: list[int] = list(range(num_agents))
        self.agents: list[int] = []
        self._envs = {agent: gym.make("CartPole-v1") for agent in self.possible_agents}

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @property
    def max_num_agents(self) -> int:
        return len(self.possible_agents)

    @property
    def unwrapped(self) -> MultiAgentCartPole:
        return self

    def observation_space(self, agent: int) -> gym.Space:
        return self._env(agent).observation_space

    def action_space(self, agent: int) -> gym.Space:
        return self._env(agent).action_space

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[int, Any], dict[int, dict[str, Any]]]:
        self.agents = list(self.possible_agents)
        observations, infos = {}, {}
        for agent, env in self._envs.items():
            observations[agent], infos[agent] = env.reset(
                seed=None if seed is None else seed + agent, options=options
            )
        return observations, infos

    def step(self, actions: Mapping[int, Any]) -> tuple[dict, dict, dict, dict, dict]:
        live = set(self.agents)
        missing = [a for a in self.agents if a not in actions]
        extra = [a for a in actions if a not in live]
        if missing or extra:
            raise BatchError(
                f"MultiAgentCartPole.step needs one action per live agent {self.agents}; "
                f"got actions for {list(actions)} (missing {missing}, not live {extra})"
            )
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for agent in self.agents:
            (
                observations[agent],
                rewards[agent],
                terminations[agent],
                truncations[agent],
                infos[agent],
            ) = self._envs[agent].step(actions[agent])
        self.agents = [a for a in self.agents if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def close(self) -> None:
        for env in self._envs.values():
            env.close()

    def _env(self, agent: Any) -> gym.Env:
        try:
            return self._envs[agent]
        except (KeyError, TypeError):
            raise BatchError(
                f"MultiAgentCartPole has no agent {agent!r}; its agents are "
                f"{self.possible_agents}"
            ) from None
