"""Recorded episodes on disk: the data behaviour cloning learns from.

(A little over 400 lines: the writer, the reader and :func:`record_episodes`, which feeds
the writer, share the one schema below, and all three are imported from here.)

Format (version 2: the index is checksummed), a directory::

    episodes.json                   the index, written last and replaced atomically
    episode_000000.safetensors      one file per episode
    ...

``episodes.json`` holds ``{"format": "rlmodules.episodes", "version": 1, "env": str,
"agents": [{"agent_id": id, "key": str, "observation_space": space, "action_space": space}],
"episodes": [{"file": name, "sha256": hex, "agents": {key: {"length": L, "return": R,
"terminated": bool, "truncated": bool}}}]}``; spaces are written as by
:func:`rlmodules.space_to_json`, agent ids are JSON ints or strings (``"default_agent"`` for
a single-agent env). Each episode file holds, for every agent key that acted in it, the
tensors ``"{key}/obs"`` ``[L, *obs_shape]`` (the observations the agent acted on),
``"{key}/actions"`` ``[L, *action_shape]`` (as the env received them: Box actions clipped
to the bounds, as ``compute_actions(..., for_env=True)`` clips them) and
``"{key}/rewards"`` ``[L]`` (the reward that followed each action). Nothing is unpickled on
reading; every file is checksummed and its shapes are checked against the index.

Example::

    with EpisodeWriter(out, env="CartPole-v1", observation_spaces={"default_agent": obs_space},
                       action_spaces={"default_agent": act_space}) as writer:
        writer.add_episode({"default_agent": AgentEpisode(obs, actions, rewards, True, False)})
    recorded = read_episodes(out)
    columns = recorded.columns("default_agent")     # {"obs": [N, 4], "actions": [N], ...}
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import gymnasium as gym
import numpy as np
from rlmodules.checkpoint import (
    atomic_write_file,
    read_json_file,
    signed_json,
    structure,
    verify_checksum,
)
from rlmodules.errors import CheckpointError, EpisodeDataError, SpaceError
from rlmodules.spaces import space_from_json, space_to_json
from safetensors import SafetensorError
from safetensors.numpy import load, save

from .episode_records import AgentEpisode
from .episodes_schema import (
    FORMAT,
    VERSION,
    EpisodeEntry,
    EpisodesIndex,
    check_episode_arrays,
    sample_shape,
    storage_dtype,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "INDEX_FILE",
    "AgentEpisode",
    "EpisodeWriter",
    "RecordedEpisodes",
    "EpisodeDataError",
    "read_episodes",
    "record_episodes",
]

INDEX_FILE = "episodes.json"
_COLUMNS = ("obs", "actions", "rewards")
_ARRAY_SPACES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete,
                 gym.spaces.MultiBinary)


def _check_space(agent: Any, space: Any, what: str) -> None:
    if not isinstance(space, _ARRAY_SPACES):
        raise SpaceError(
            f"cannot record agent {agent!r}: its {what} space {space!r} is not an array space; "
            f"recorded episodes support Box, Discrete, MultiDiscrete and MultiBinary"
        )


def _agent_key(agent: Any) -> str:
    if isinstance(agent, bool) or not isinstance(agent, (int, str)):
        raise EpisodeDataError(
            f"agent ids must be ints or strings to be recorded, got {agent!r} "
            f"({type(agent).__name__})"
        )
    key = str(agent)
    if not key or "/" in key:
        raise EpisodeDataError(f"agent id {agent!r} cannot be recorded: use no '/' and no ''")
    return key


class EpisodeWriter:
    """Writes episodes into a new (or empty) directory; usable as a context manager.

    Each :meth:`add_episode` writes the episode file, then replaces the index atomically,
    so a crash leaves every finished episode readable.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        env: str,
        observation_spaces: Mapping[Any, gym.Space],
        action_spaces: Mapping[Any, gym.Space],
    ) -> None:
        self.path = Path(path)
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise EpisodeDataError(
                f"cannot record episodes into {str(self.path)!r}: it exists and is not an empty "
                f"directory; choose a new or empty directory"
            )
        if set(observation_spaces) != set(action_spaces):
            raise EpisodeDataError(
                f"observation_spaces has agents {list(observation_spaces)} but action_spaces "
                f"has {list(action_spaces)}; give both spaces for every agent"
            )
        for agent in observation_spaces:
            _check_space(agent, observation_spaces[agent], "observation")
            _check_space(agent, action_spaces[agent], "action")
        self.path.mkdir(parents=True, exist_ok=True)
        self._spaces = {
            _agent_key(a): (a, observation_spaces[a], action_spaces[a]) for a in observation_spaces
        }
        self._index: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "env": str(env),
            "agents": [
                {"agent_id": a, "key": key, "observation_space": space_to_json(o),
                 "action_space": space_to_json(s)}
                for key, (a, o, s) in self._spaces.items()
            ],
            "episodes": [],
        }

    @property
    def num_episodes(self) -> int:
        return len(self._index["episodes"])

    def add_episode(self, agents: Mapping[Any, AgentEpisode]) -> None:
        """Write one episode given each agent's :class:`AgentEpisode` (agents that acted)."""
        if not agents:
            raise EpisodeDataError("an episode needs at least one agent that acted; got none")
        tensors: dict[str, np.ndarray] = {}
        summary: dict[str, Any] = {}
        for agent, episode in agents.items():
            key = _agent_key(agent)
            if key not in self._spaces:
                raise EpisodeDataError(
                    f"agent {agent!r} is not one of the recorded agents "
                    f"{[a for a, _, _ in self._spaces.values()]}"
                )
            _, obs_space, act_space = self._spaces[key]
            columns = {
                "obs": np.asarray(episode.obs, dtype=storage_dtype(obs_space)),
                "actions": _as_sent(np.asarray(episode.actions, dtype=storage_dtype(act_space)),
                                    act_space),
                "rewards": np.asarray(episode.rewards, dtype=np.float32),
            }
            _check_columns(agent, columns, obs_space, act_space, episode.length)
            for name, values in columns.items():
                tensors[f"{key}/{name}"] = np.ascontiguousarray(values)
            summary[key] = {
                "length": episode.length,
                "return": episode.episode_return,
                "terminated": bool(episode.terminated),
                "truncated": bool(episode.truncated),
            }
        name = f"episode_{self.num_episodes:06d}.safetensors"
        data = save(tensors)
        atomic_write_file(self.path / name, data)
        self._index["episodes"].append(
            {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "agents": summary}
        )
        atomic_write_file(self.path / INDEX_FILE, signed_json(self._index).encode())

    def close(self) -> None:
        """Write the index (also for zero episodes)."""
        atomic_write_file(self.path / INDEX_FILE, signed_json(self._index).encode())

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _check_columns(
    agent: Any, columns: Mapping[str, np.ndarray], obs_space: gym.Space,
    act_space: gym.Space, length: int,
) -> None:
    expected = {
        "obs": (length, *sample_shape(obs_space)),
        "actions": (length, *sample_shape(act_space)),
        "rewards": (length,),
    }
    for name, shape in expected.items():
        if tuple(columns[name].shape) != shape:
            raise EpisodeDataError(
                f"agent {agent!r}: column {name!r} has shape {tuple(columns[name].shape)}, "
                f"expected {shape} (length {length} and the agent's space)"
            )


@attrs.frozen
class RecordedEpisodes:
    """Episodes read from disk: spaces per agent and each episode's per-agent columns."""

    path: Path
    env: str
    observation_spaces: dict[Any, gym.Space]
    action_spaces: dict[Any, gym.Space]
    episodes: list[dict[Any, AgentEpisode]]

    @property
    def agent_ids(self) -> list[Any]:
        return list(self.observation_spaces)

    def columns(self, agent_ids: Any = None) -> dict[str, np.ndarray]:
        """``obs``, ``actions``, ``rewards`` of the given agents (all if None), concatenated."""
        wanted = self.agent_ids if agent_ids is None else list(agent_ids)
        unknown = [a for a in wanted if a not in self.observation_spaces]
        if unknown:
            raise EpisodeDataError(
                f"no agents {unknown} in the recorded episodes at {str(self.path)!r}; they hold "
                f"{self.agent_ids}"
            )
        parts = [ep[a] for ep in self.episodes for a in wanted if a in ep]
        if not parts:
            raise EpisodeDataError(
                f"the recorded episodes at {str(self.path)!r} hold no steps of agents {wanted}"
            )
        return {
            name: np.concatenate([getattr(part, name) for part in parts]) for name in _COLUMNS
        }

    def returns(self, agent_id: Any) -> list[float]:
        """Each episode's return of ``agent_id`` (episodes it acted in)."""
        return [ep[agent_id].episode_return for ep in self.episodes if agent_id in ep]


def read_episodes(path: str | os.PathLike[str]) -> RecordedEpisodes:
    """Read and verify a directory written by :class:`EpisodeWriter`.

    Raises :class:`EpisodeDataError` for a missing index, another format or a newer version,
    an index that does not fit its schema (:class:`~rlmodules.algorithms.episodes_schema.
    EpisodesIndex`), a missing, modified or truncated episode file, or arrays that do not
    fit the spaces (shapes, dtypes, actions outside the action space).
    """
    root = Path(path)
    index = _read_index(root)
    try:
        spaces = {agent.key: (space_from_json(agent.observation_space),
                              space_from_json(agent.action_space)) for agent in index.agents}
    except SpaceError as exc:
        raise EpisodeDataError(f"{root / INDEX_FILE} holds a bad space: {exc}") from None
    for key, (obs_space, act_space) in spaces.items():
        for space, what in ((obs_space, "observation"), (act_space, "action")):
            if not isinstance(space, _ARRAY_SPACES):
                raise EpisodeDataError(f"{root / INDEX_FILE}: agent {key!r} has the {what} "
                                       f"space {space}, which recordings do not hold")
    ids = {agent.key: agent.agent_id for agent in index.agents}
    episodes = []
    for entry in index.episodes:
        tensors = _read_episode_file(root, entry)
        check_episode_arrays(tensors, entry, spaces, source=root / entry.file)
        episodes.append({
            ids[key]: AgentEpisode(
                **{name: tensors[f"{key}/{name}"] for name in _COLUMNS},
                terminated=info.terminated, truncated=info.truncated)
            for key, info in entry.agents.items()})
    return RecordedEpisodes(root, index.env,
                            {ids[k]: obs for k, (obs, _) in spaces.items()},
                            {ids[k]: act for k, (_, act) in spaces.items()}, episodes)


def _read_index(root: Path) -> EpisodesIndex:
    index_path = root / INDEX_FILE
    if not index_path.is_file():
        raise EpisodeDataError(
            f"no recorded episodes at {str(root)!r}: {INDEX_FILE} is missing; record some with "
            f"`rlmodules record CHECKPOINT --env ENV --episodes N --out DIR`"
        )
    try:
        index = read_json_file(index_path, verify=False)
    except CheckpointError as exc:
        raise EpisodeDataError(str(exc)) from None
    if index.get("format") != FORMAT:
        got = index.get("format")
        raise EpisodeDataError(
            f"{index_path} is not a recorded-episodes index: format is {got!r}, "
            f"expected {FORMAT!r}"
        )
    version = index.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise EpisodeDataError(
            f"{index_path} has format version {version!r}; this rlmodules reads versions "
            f"up to {VERSION}. Upgrade rlmodules to read it"
        )
    if version >= 2:
        try:
            verify_checksum(index, index_path)  # checksummed since version 2
        except CheckpointError as exc:
            raise EpisodeDataError(str(exc)) from None
    return structure(index, EpisodesIndex, source=index_path, error=EpisodeDataError)


def _read_episode_file(root: Path, entry: EpisodeEntry) -> dict[str, np.ndarray]:
    file = root / entry.file
    if not file.is_file():
        raise EpisodeDataError(
            f"episode file {entry.file!r} listed in {INDEX_FILE} is missing from {str(root)!r}"
        )
    data = file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise EpisodeDataError(
            f"episode file {str(file)!r} is corrupted or was modified: its sha256 is "
            f"{digest[:16]}..., the index expects {entry.sha256[:16]}..."
        )
    try:
        return load(data)
    except (SafetensorError, ValueError) as exc:
        raise EpisodeDataError(f"episode file {str(file)!r} cannot be read: {exc}") from None


def record_episodes(
    module: Any,
    env_creator: Callable[[], Any],
    out: str | os.PathLike[str],
    *,
    num_episodes: int,
    env: str,
    policy_mapping_fn: Callable[..., str] | None = None,
    explore: bool = False,
    seed: int | None = None,
) -> RecordedEpisodes:
    """Play ``num_episodes`` episodes with ``module`` and write them to ``out``.

    ``module`` is an RLModule (single-agent env, or every agent of a multi-agent env) or a
    MultiRLModule with ``policy_mapping_fn(agent_id, episode)`` choosing its module id per
    agent. Actions are greedy unless ``explore``. ``env`` names the env in the index.

    Example::

        record_episodes(expert, lambda: gym.make("CartPole-v1"), "expert_episodes",
                        num_episodes=50, env="CartPole-v1", seed=0)
    """
    from rlmodules.envs import SingleAgentParallelEnv, is_parallel_env

    from .multi_agent import MultiAgentSampler

    if not isinstance(num_episodes, int) or isinstance(num_episodes, bool) or num_episodes < 1:
        raise EpisodeDataError(f"num_episodes must be a positive int, got {num_episodes!r}")
    multi = module.as_multi_rl_module()
    probe = env_creator()
    multi_agent = is_parallel_env(probe)
    parallel = probe if multi_agent else SingleAgentParallelEnv(probe)
    if policy_mapping_fn is None:
        if len(multi) != 1:
            raise EpisodeDataError(
                f"the module has module ids {multi.keys()}; pass policy_mapping_fn to say "
                f"which one each agent uses"
            )
        only = multi.keys()[0]
        policy_mapping_fn = lambda agent_id, episode, **kw: only  # noqa: E731
    agents = list(parallel.possible_agents)
    writer = EpisodeWriter(
        out, env=env,
        observation_spaces={a: parallel.observation_space(a) for a in agents},
        action_spaces={a: parallel.action_space(a) for a in agents},
    )
    probe.close()

    def make_env() -> Any:
        made = env_creator()
        return made if multi_agent else SingleAgentParallelEnv(made)

    sampler = MultiAgentSampler(env_creator=make_env, multi_module=multi,
                                policy_mapping_fn=policy_mapping_fn, num_envs=1, seed=seed,
                                explore=explore)
    was_training = multi.training
    multi.eval()
    try:
        with writer:
            for episode in sampler.run_episodes(num_episodes, seed=seed):
                writer.add_episode(episode.agents)
    finally:
        sampler.close()
        multi.train(was_training)
    return read_episodes(out)


def _as_sent(actions: np.ndarray, space: gym.Space) -> np.ndarray:
    """Box actions clipped to the space's bounds, as the env received them (a Gaussian's
    samples reach past them); other spaces as they are."""
    if isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
        return np.clip(actions, space.low, space.high).astype(actions.dtype, copy=False)
    return actions
