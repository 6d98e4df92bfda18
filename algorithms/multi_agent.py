"""Multi-agent sampling: parallel envs (PettingZoo's API), agents routed to module ids.

Each agent's experience goes to the module id ``policy_mapping_fn(agent_id, episode)``
chose for it when it first appeared in the episode. Every env step makes ONE
``rlmodules.compute_actions(multi_module, {module_id: batch})`` call over all acting agents
of all env copies, so a custom MultiRLModule (e.g. with a shared encoder) acts through its
own forward.

The output is the layout of :mod:`rlmodules.algorithms.rollout` with one slot per
(env copy, agent) lane: a lane's rows are that agent's OWN steps (agents that act at
different times have no idle rows, so returns and advantages chain over the agent's turns).
Rewards an agent receives while it does not act are added to its last step. An agent that
finishes early gets its final observation in the next row (masked); the lane continues with
the agent's next episode. Lanes shorter than the longest are padded with masked rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule

from .episode_records import AgentEpisode, EpisodeInfo, FinishedEpisode

# Importable from here as before; they configure what this sampler samples with.
from .module_setup import build_multi_agent_module, module_ids_of, resolve_policy_mapping_fn
from .rollout import initial_state, to_tensor, tree_map, tree_stack

__all__ = [
    "MultiAgentSampler",
    "EpisodeInfo",
    "FinishedEpisode",
    "module_ids_of",
    "resolve_policy_mapping_fn",
    "build_multi_agent_module",
]

_episode_ids = itertools.count()


class _Lane:
    """One agent's rows in one env copy for one module id (a slot of the layout)."""

    def __init__(self) -> None:
        self.obs: list[Any] = []
        self.states: list[Any] = []
        self.actions: list[Any] = []
        self.logp: list[float] = []
        self.rewards: list[float] = []
        self.terminateds: list[bool] = []
        self.truncateds: list[bool] = []
        self.mask: list[bool] = []
        self.final: tuple[Any, Any] | None = None  # (obs, state) after the agent finished

    def add_step(self, obs: Any, state: Any, action: Any, logp: float) -> None:
        if self.final is not None:  # the row after a finished episode: its final obs, masked
            final_obs, final_state = self.final
            self._row(final_obs, final_state, np.zeros_like(action), 0.0, False)
            self.final = None
        self._row(obs, state, action, logp, True)

    def _row(self, obs: Any, state: Any, action: Any, logp: float, valid: bool) -> None:
        self.obs.append(obs)
        self.states.append(state)
        self.actions.append(action)
        self.logp.append(logp)
        self.rewards.append(0.0)
        self.terminateds.append(False)
        self.truncateds.append(False)
        self.mask.append(valid)

    def __len__(self) -> int:
        return len(self.rewards)


class _Agent:
    """An agent's live bookkeeping within the current episode of one env copy."""

    def __init__(self, module_id: str, obs: Any, state: Any) -> None:
        self.module_id = module_id
        self.obs = obs  # latest observation
        self.state = state  # state the next action uses (stateful modules)
        self.acted = False  # has an open row that collects rewards
        self.done = False
        self.terminated = False
        self.truncated = False
        self.record = ([], [], [])  # obs, actions, rewards of the whole episode


class _EnvSlot:
    """One env copy with its current episode."""

    def __init__(self, env: Any, index: int) -> None:
        self.env = env
        self.index = index
        self.episode = EpisodeInfo(next(_episode_ids), index)
        self.agents: dict[Any, _Agent] = {}
        self.to_act: list[Any] = []
        self.length = 0


class MultiAgentSampler:
    """Steps ``num_envs`` copies of a parallel multi-agent env with a MultiRLModule.

    Example::

        sampler = MultiAgentSampler(
            env_creator=lambda: MultiAgentCartPole(config={"num_agents": 2}),
            multi_module=multi, policy_mapping_fn=lambda aid, episode, **kw: f"p{aid}",
            num_envs=4, seed=0)
        rollouts = sampler.sample(64)        # {"p0": rollout, "p1": rollout}
    """

    def __init__(
        self,
        *,
        env_creator: Callable[[], Any],
        multi_module: MultiRLModule,
        policy_mapping_fn: Callable[..., Any],
        num_envs: int = 1,
        seed: int | None = None,
        explore: bool = True,
    ) -> None:
        from rlmodules.envs import check_parallel_env

        self.multi_module = multi_module
        self.policy_mapping_fn = policy_mapping_fn
        self.explore = explore
        self._initial_states = {
            mid: initial_state(module) for mid, module in multi_module.items()
            if module.is_stateful()
        }
        self._slots = []
        for i in range(num_envs):
            env = env_creator()
            check_parallel_env(env)
            slot = _EnvSlot(env, i)
            self._reset(slot, None if seed is None else seed + 1000 * i)
            self._slots.append(slot)
        self._lanes: dict[tuple[int, Any, str], _Lane] = {}
        self._finished: list[FinishedEpisode] = []

    # --- episodes -------------------------------------------------------------------------------
    def module_for(self, agent_id: Any, episode: EpisodeInfo) -> str:
        """The module id ``policy_mapping_fn`` gives ``agent_id``, checked against the module."""
        module_id = self.policy_mapping_fn(agent_id, episode)
        if module_id not in self.multi_module:
            raise ConfigError(
                f"policy_mapping_fn mapped agent {agent_id!r} to module id {module_id!r}, but "
                f"the MultiRLModule has {self.multi_module.keys()}; return one of those (and "
                f"list it in multi_agent(policies=...))"
            )
        return module_id

    def _reset(self, slot: _EnvSlot, seed: int | None) -> None:
        obs, _ = slot.env.reset(seed=seed)
        slot.episode = EpisodeInfo(next(_episode_ids), slot.index)
        slot.agents = {}
        slot.length = 0
        self._observe(slot, obs)

    def _observe(self, slot: _EnvSlot, observations: Mapping[Any, Any]) -> None:
        live = set(slot.env.agents)
        for agent_id, obs in observations.items():
            agent = slot.agents.get(agent_id)
            if agent is None:
                module_id = self.module_for(agent_id, slot.episode)
                state = self._initial_states.get(module_id)
                agent = slot.agents[agent_id] = _Agent(module_id, obs, state)
            agent.obs = obs
        slot.to_act = [a for a in observations if a in live]

    # --- stepping -------------------------------------------------------------------------------
    def _act(self) -> dict[int, dict[Any, Any]]:
        """One compute_actions call for every acting agent; ``{env index: {agent: action}}``."""
        groups: dict[str, list[tuple[_EnvSlot, Any]]] = {}
        for slot in self._slots:
            for agent_id in slot.to_act:
                groups.setdefault(slot.agents[agent_id].module_id, []).append((slot, agent_id))
        batch = {}
        for module_id, members in groups.items():
            agents = [slot.agents[a] for slot, a in members]
            module_batch = {Columns.OBS: _np_stack([a.obs for a in agents])}
            if module_id in self._initial_states:
                module_batch[Columns.STATE_IN] = tree_stack([a.state for a in agents])
            batch[module_id] = module_batch
        outs = compute_actions(self.multi_module, batch, explore=self.explore, for_env=True)
        env_actions: dict[int, dict[Any, Any]] = {slot.index: {} for slot in self._slots}
        for module_id, members in groups.items():
            out = outs[module_id]
            actions = tree_map(_numpy, out[Columns.ACTIONS])
            logp = out.get(Columns.ACTION_LOGP)
            logp = logp.numpy() if logp is not None else None
            for k, (slot, agent_id) in enumerate(members):
                agent = slot.agents[agent_id]
                action = tree_map(lambda x, k=k: x[k], actions)
                lane = self._lanes.setdefault((slot.index, agent_id, module_id), _Lane())
                lane.add_step(agent.obs, agent.state, action,
                              0.0 if logp is None else float(logp[k]))
                agent.acted = True
                agent.record[0].append(agent.obs)
                agent.record[1].append(action)
                agent.record[2].append(0.0)
                if Columns.STATE_OUT in out:
                    agent.state = tree_map(lambda x, k=k: x[k], out[Columns.STATE_OUT])
                env_actions[slot.index][agent_id] = tree_map(
                    lambda x, k=k: x[k], out[Columns.ACTIONS_FOR_ENV]
                )
        return env_actions

    def _step_env(self, slot: _EnvSlot, actions: Mapping[Any, Any]) -> None:
        observations, rewards, terminations, truncations, _ = slot.env.step(actions)
        slot.length += 1
        for agent_id, reward in rewards.items():
            agent = slot.agents.get(agent_id)
            if agent is None or not agent.acted:
                continue  # a reward before the agent's first action belongs to no step
            agent.record[2][-1] += float(reward)
            lane = self._lanes.get((slot.index, agent_id, agent.module_id))
            if lane is not None:  # None: the step went out with the previous sample()
                lane.rewards[-1] += float(reward)
        for agent_id in set(terminations) | set(truncations):
            agent = slot.agents.get(agent_id)
            terminated = bool(terminations.get(agent_id, False))
            truncated = bool(truncations.get(agent_id, False))
            if agent is None or agent.done or not (terminated or truncated):
                continue
            agent.done, agent.terminated, agent.truncated = True, terminated, truncated
            lane = self._lanes.get((slot.index, agent_id, agent.module_id))
            if agent.acted and lane is not None:
                lane.terminateds[-1], lane.truncateds[-1] = terminated, truncated
                final_obs = observations.get(agent_id, agent.obs)
                lane.final = (final_obs, agent.state)
        self._observe(slot, {a: o for a, o in observations.items()
                             if a not in slot.agents or not slot.agents[a].done})
        if not slot.env.agents:
            self._finish(slot)
            self._reset(slot, None)

    def _finish(self, slot: _EnvSlot) -> None:
        agents, module_ids = {}, {}
        for agent_id, agent in slot.agents.items():
            if not agent.record[0]:
                continue
            obs, actions, rewards = agent.record
            agents[agent_id] = AgentEpisode(
                obs=np.stack([np.asarray(o) for o in obs]),
                actions=np.stack([np.asarray(a) for a in actions]),
                rewards=np.asarray(rewards, dtype=np.float32),
                terminated=agent.terminated,
                truncated=agent.truncated,
            )
            module_ids[agent_id] = agent.module_id
            lane = self._lanes.get((slot.index, agent_id, agent.module_id))
            if lane is not None and lane.final is None:  # done without a done flag
                lane.final = (agent.obs, agent.state)
        self._finished.append(FinishedEpisode(agents, module_ids, slot.length))

    def step(self) -> None:
        """Step every env copy once (one compute_actions call)."""
        env_actions = self._act()
        for slot in self._slots:
            self._step_env(slot, env_actions[slot.index])

    # --- public API -----------------------------------------------------------------------------
    def sample(self, num_steps: int) -> dict[str, dict[str, Any]]:
        """Step every env copy ``num_steps`` times; ``{module_id: rollout}``."""
        self._lanes = {}
        for _ in range(num_steps):
            self.step()
        return self._rollouts()

    def run_episodes(self, num_episodes: int, *, seed: int | None = None
                     ) -> list[FinishedEpisode]:
        """Reset every env copy (env ``i`` seeded ``seed + 1000 * i``), then step until
        ``num_episodes`` episodes finished; episodes still running then are discarded."""
        for slot in self._slots:
            self._reset(slot, None if seed is None else seed + 1000 * slot.index)
        self._finished = []
        while len(self._finished) < num_episodes:
            self._lanes = {}
            self.step()
        self._lanes = {}
        episodes, self._finished = self._finished[:num_episodes], []
        return episodes

    def pop_episodes(self) -> list[FinishedEpisode]:
        """The :class:`FinishedEpisode` s finished since the last call (their
        ``episode_return`` sums the agents' returns)."""
        finished, self._finished = self._finished, []
        return finished

    def close(self) -> None:
        for slot in self._slots:
            close = getattr(slot.env, "close", None)
            if close is not None:
                close()

    # --- rollouts -------------------------------------------------------------------------------
    def _rollouts(self) -> dict[str, dict[str, Any]]:
        by_module: dict[str, list[tuple[_Lane, _Agent | None]]] = {}
        for (env_index, agent_id, module_id), lane in self._lanes.items():
            agent = self._slots[env_index].agents.get(agent_id)
            if agent is not None and agent.module_id != module_id:
                agent = None  # the agent is in a later episode under another module id
            by_module.setdefault(module_id, []).append((lane, agent))
        return {mid: self._module_rollout(mid, lanes) for mid, lanes in by_module.items()}

    def _module_rollout(self, module_id: str, lanes: list[tuple[_Lane, _Agent | None]]
                        ) -> dict[str, Any]:
        steps = max(len(lane) for lane, _ in lanes)
        stateful = module_id in self._initial_states
        columns: dict[str, list[Any]] = {k: [] for k in (
            "obs", "state_in", "actions", "action_logp", "rewards", "terminateds",
            "truncateds", "loss_mask")}
        for lane, agent in lanes:
            if lane.final is not None:
                last_obs, last_state = lane.final
            elif agent is not None:
                last_obs, last_state = agent.obs, agent.state
            else:
                last_obs, last_state = lane.obs[-1], lane.states[-1]
            pad = steps - len(lane)
            columns["obs"].append(_np_stack(lane.obs + [last_obs] * (pad + 1)))
            if stateful:
                columns["state_in"].append(tree_stack(lane.states + [last_state] * (pad + 1)))
            columns["actions"].append(
                _np_stack(lane.actions + [tree_map(np.zeros_like, lane.actions[-1])] * pad))
            columns["action_logp"].append(np.asarray(lane.logp + [0.0] * pad, np.float32))
            columns["rewards"].append(np.asarray(lane.rewards + [0.0] * pad, np.float32))
            columns["terminateds"].append(np.asarray(lane.terminateds + [False] * pad))
            columns["truncateds"].append(np.asarray(lane.truncateds + [False] * pad))
            columns["loss_mask"].append(np.asarray(lane.mask + [False] * pad))
        rollout = {
            "obs": tree_map(to_tensor, _np_stack(columns["obs"], axis=1)),
            "actions": tree_map(torch.from_numpy, _np_stack(columns["actions"], axis=1)),
        }
        for key in ("rewards", "terminateds", "truncateds", "loss_mask"):
            rollout[key] = torch.from_numpy(np.stack(columns[key], axis=1))
        if self.explore:
            rollout["action_logp"] = torch.from_numpy(np.stack(columns["action_logp"], axis=1))
        if stateful:
            # lanes of [T, ...] state trees -> one [T, N, ...] tree
            rollout["state_in"] = tree_map(lambda *lanes: torch.stack(lanes, dim=1),
                                           *columns["state_in"])
        return rollout


def _numpy(x: Any) -> Any:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _np_stack(trees: list[Any], axis: int = 0) -> Any:
    """Same-structured trees of arrays → one tree of arrays stacked along ``axis``."""
    return tree_map(lambda *leaves: np.stack([np.asarray(x) for x in leaves], axis=axis),
                    *trees)
