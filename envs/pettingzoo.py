"""PettingZoo's turn-based (AEC) envs under the parallel API the trainer speaks.

An AEC env whose metadata says ``is_parallelizable`` goes through PettingZoo's own
``aec_to_parallel``; any other (board and card games: every agent waits for its turn) is
stepped by :class:`TurnBasedParallelEnv`, whose observation dict holds only the agent
whose turn it is. Importing this module does not import PettingZoo.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlmodules.errors import BatchError

from .parallel_api import is_aec_env

__all__ = ["TurnBasedParallelEnv", "as_parallel_env"]


def as_parallel_env(env: Any) -> Any:
    """``env`` under the parallel API: an AEC env is converted (see the module docstring);
    anything else is returned as is.

    Example::

        from pettingzoo.classic import tictactoe_v3

        env = as_parallel_env(tictactoe_v3.env())     # a TurnBasedParallelEnv
    """
    if not is_aec_env(env):
        return env
    if getattr(env, "metadata", {}).get("is_parallelizable", False):
        from pettingzoo.utils.conversions import aec_to_parallel

        return aec_to_parallel(env)
    return TurnBasedParallelEnv(env)


class TurnBasedParallelEnv:
    """An AEC env seen through the parallel API, one agent acting per step.

    ``reset`` and ``step`` return the observation of the agent whose turn it is (its
    ``env.last()``), plus the final observation of every agent that just finished. Each
    agent's reward is what ``env.last()`` reports when its turn (or its end) comes: the
    rewards it got since it last acted, which the trainer adds to that last action.
    Finished agents are stepped with ``None`` for the caller, as the AEC API requires.

    Example::

        env = TurnBasedParallelEnv(tictactoe_v3.env())
        obs, infos = env.reset(seed=0)            # {"player_1": {...}}
        obs, rewards, terms, truncs, infos = env.step({"player_1": 4})
    """

    def __init__(self, env: Any) -> None:
        self.aec_env = env
        self.possible_agents = list(env.possible_agents)
        self.agents: list[Any] = []
        self.metadata = dict(getattr(env, "metadata", {}))

    def observation_space(self, agent: Any) -> Any:
        return self.aec_env.observation_space(agent)

    def action_space(self, agent: Any) -> Any:
        return self.aec_env.action_space(agent)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[Any, Any], dict[Any, Any]]:
        self.aec_env.reset(seed=seed, options=options)
        observations, _, _, _, infos = self._advance()
        return observations, infos

    def step(self, actions: Mapping[Any, Any]) -> tuple[dict, dict, dict, dict, dict]:
        agent = self.aec_env.agent_selection
        if list(actions) != [agent]:
            raise BatchError(
                f"{self._name()} is turn-based: step() takes the action of {agent!r} only, "
                f"whose turn it is; got actions for {list(actions)}"
            )
        self.aec_env.step(actions[agent])
        return self._advance()

    def _advance(self) -> tuple[dict, dict, dict, dict, dict]:
        """Step finished agents with ``None`` until a live agent's turn (or the end)."""
        observations: dict[Any, Any] = {}
        rewards: dict[Any, float] = {}
        terminations: dict[Any, bool] = {}
        truncations: dict[Any, bool] = {}
        infos: dict[Any, Any] = {}
        while self.aec_env.agents:
            current = self.aec_env.agent_selection
            obs, reward, terminated, truncated, info = self.aec_env.last()
            observations[current], infos[current] = obs, info
            rewards[current] = rewards.get(current, 0.0) + float(reward)
            if not (terminated or truncated):
                break
            terminations[current], truncations[current] = bool(terminated), bool(truncated)
            self.aec_env.step(None)
        self.agents = list(self.aec_env.agents)
        return observations, rewards, terminations, truncations, infos

    def render(self) -> Any:
        return self.aec_env.render()

    def close(self) -> None:
        self.aec_env.close()

    def _name(self) -> str:
        return str(self.metadata.get("name", type(self.aec_env).__name__))
