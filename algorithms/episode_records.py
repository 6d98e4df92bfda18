"""What samplers report about the episodes they finish, and what a ``policy_mapping_fn`` is
told about the episode an agent appears in.

These records sit below both the samplers and the recorded-episodes files: a multi-agent
sampler yields :class:`FinishedEpisode` s made of :class:`AgentEpisode` s, which
:class:`~rlmodules.algorithms.episodes.EpisodeWriter` writes as they are.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

__all__ = ["EpisodeResult", "AgentEpisode", "FinishedEpisode", "EpisodeInfo"]


@attrs.frozen
class EpisodeResult:
    """Return and length of one finished single-agent episode."""

    episode_return: float
    length: int


@attrs.frozen
class AgentEpisode:
    """One agent's part of an episode: ``obs[t]`` acted on with ``actions[t]``, then
    ``rewards[t]``; ``terminated`` / ``truncated`` say how the agent's episode ended."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool
    truncated: bool

    @property
    def length(self) -> int:
        return int(len(self.rewards))

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards, dtype=np.float64))


@attrs.frozen
class FinishedEpisode:
    """A finished multi-agent env episode: each agent's steps, and the env steps it took."""

    agents: dict[Any, AgentEpisode]
    module_ids: dict[Any, str]
    length: int

    @property
    def episode_return(self) -> float:
        """The sum over agents (RLlib's multi-agent episode return)."""
        return float(sum(ep.episode_return for ep in self.agents.values()))


@attrs.frozen
class EpisodeInfo:
    """What ``policy_mapping_fn(agent_id, episode)`` gets as ``episode``."""

    id_: int
    env_index: int
