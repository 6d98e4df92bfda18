"""The schema of recorded episodes: the ``episodes.json`` index and each episode file's
arrays, checked against the recorded spaces (see :mod:`rlmodules.algorithms.episodes`)."""

from __future__ import annotations

import re
from typing import Any, NewType

import attrs
import gymnasium as gym
import numpy as np
from rlmodules.checkpoint import (
    Count,
    FileName,
    Finite,
    JSONObject,
    SchemaMismatch,
    TensorSpec,
    check_tensors,
    register_hook,
    requires,
    space_problem,
    structure_value,
)
from rlmodules.errors import EpisodeDataError

__all__ = ["EpisodesIndex", "check_episode_arrays", "sample_shape", "storage_dtype"]

FORMAT = "rlmodules.episodes"
VERSION = 2  # 2: the index is checksummed
#: An agent id as JSON: an int or a string.
AgentId = NewType("AgentId", object)
#: One agent's summary in an episode entry (``return`` is a Python keyword, hence a hook).
AgentSummaryData = NewType("AgentSummaryData", object)
_KEY = re.compile(r"^[^/\x00]{1,200}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _agent_id(value: Any, _type: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SchemaMismatch("an int or a string", got=value)
    return value


@attrs.frozen
class RecordedAgent:
    agent_id: AgentId
    key: str = attrs.field(validator=requires(_KEY.match, "1-200 characters without '/'"))
    observation_space: JSONObject
    action_space: JSONObject

    def __attrs_post_init__(self) -> None:
        if self.key != str(self.agent_id):
            raise SchemaMismatch(f"{str(self.agent_id)!r}, the agent id as text", field="key",
                                 got=self.key)


@attrs.frozen
class AgentSummary:
    length: Count
    episode_return: Finite
    terminated: bool
    truncated: bool


def _agent_summary(value: Any, _type: Any) -> AgentSummary:
    if not isinstance(value, dict) or "return" not in value or "episode_return" in value:
        raise SchemaMismatch('{"length", "return", "terminated", "truncated"}', got=value)
    renamed = {("episode_return" if k == "return" else k): v for k, v in value.items()}
    return structure_value(renamed, AgentSummary)  # type: ignore[no-any-return]


register_hook(AgentId, _agent_id)
register_hook(AgentSummaryData, _agent_summary)


@attrs.frozen
class EpisodeEntry:
    file: FileName
    sha256: str = attrs.field(validator=requires(_SHA256.match, "64 hex digits"))
    agents: dict[str, AgentSummaryData]


@attrs.frozen
class EpisodesIndex:
    """``episodes.json``: the env, each agent's spaces, and each episode's file, checksum
    and per-agent summary (agent keys the index declares)."""

    format: str = attrs.field(validator=requires(lambda v: v == FORMAT, repr(FORMAT)))
    version: int = attrs.field(validator=requires(lambda v: 1 <= v <= VERSION,
                                                  f"an integer from 1 to {VERSION}"))
    env: str
    agents: list[RecordedAgent]
    episodes: list[EpisodeEntry]
    metadata_checksum: str | None = None

    def __attrs_post_init__(self) -> None:
        keys = [agent.key for agent in self.agents]
        if len(set(keys)) != len(keys):
            raise SchemaMismatch("agents with distinct keys", field="agents", got=keys)
        for entry in self.episodes:
            unknown = set(entry.agents) - set(keys)
            if unknown:
                raise SchemaMismatch(f"episodes of the declared agents {keys}",
                                     field="episodes", got=sorted(unknown))


def sample_shape(space: gym.Space) -> tuple[int, ...]:
    """The shape one step of ``space`` is recorded with (a Discrete value is a scalar)."""
    return () if isinstance(space, gym.spaces.Discrete) else tuple(space.shape)


def storage_dtype(space: gym.Space) -> np.dtype:
    """The dtype ``space``'s values are recorded as (Discrete as int64)."""
    if isinstance(space, gym.spaces.Discrete):
        return np.dtype(np.int64)
    return np.dtype(space.dtype)


def check_episode_arrays(tensors: dict[str, np.ndarray], entry: EpisodeEntry,
                         spaces: dict[str, tuple[gym.Space, gym.Space]], *,
                         source: object) -> None:
    """An episode file holds exactly ``{key}/obs``, ``{key}/actions`` and ``{key}/rewards``
    for each agent of ``entry``: the recorded length, the spaces' shapes and storage
    dtypes, finite rewards, and actions inside the action space."""
    specs = {}
    for key, summary in entry.agents.items():
        obs_space, act_space = spaces[key]
        length = summary.length
        specs[f"{key}/obs"] = TensorSpec((length, *sample_shape(obs_space)),
                                         storage_dtype(obs_space).name)
        specs[f"{key}/actions"] = TensorSpec((length, *sample_shape(act_space)),
                                             storage_dtype(act_space).name)
        specs[f"{key}/rewards"] = TensorSpec((length,), "float32", finite=True)
    check_tensors(tensors, specs, source=source, error=EpisodeDataError)
    for key in entry.agents:
        problem = space_problem(tensors[f"{key}/actions"], spaces[key][1])
        if problem:
            raise EpisodeDataError(f"{source} is malformed: agent {key!r}'s actions {problem}")
