"""Sampling: a single-agent sampler over a gymnasium vector env, and the factory choosing
a sampler for a config.

The vector env runs gymnasium 1.x's next-step autoreset: the step after an episode ends
returns the reset observation, ignores the action and is masked out of learning (see
:mod:`rlmodules.algorithms.rollout` for the batch layout). Actions come from
``rlmodules.compute_actions`` on the algorithm's MultiRLModule, so a custom MultiRLModule
(e.g. with a shared encoder) acts through its own forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .episode_records import EpisodeResult
from .rollout import initial_state, to_tensor, tree_map, tree_stack

__all__ = ["Sampler", "VectorEnvSampler", "EpisodeResult", "make_sampler"]


class Sampler(Protocol):
    """What an algorithm needs from a sampler."""

    def sample(self, num_steps: int) -> dict[str, dict[str, Any]]:
        """Step every slot ``num_steps`` times; ``{module_id: rollout}``."""

    def pop_episodes(self) -> list[Any]:
        """The episodes finished since the last call; items have ``episode_return`` and
        ``length``."""

    def run_episodes(self, num_episodes: int, *, seed: int | None = None) -> list[Any]:
        """Reset, then run ``num_episodes`` whole episodes; items have ``episode_return``
        and ``length``."""

    def close(self) -> None:
        """Release the envs."""


def make_sampler(
    config: Any,
    env_creator: Callable[[], Any],
    multi_module: MultiRLModule,
    *,
    seed: int | None,
    explore: bool = True,
    num_envs: int | None = None,
    multi_agent: bool = False,
    wrap_env: Callable[[Any], Any] | None = None,
) -> Sampler:
    """The sampler for ``config``: a :class:`VectorEnvSampler` for single-agent envs, a
    :class:`~rlmodules.algorithms.multi_agent.MultiAgentSampler` for parallel
    multi-agent envs (``multi_agent=True``). ``wrap_env`` wraps the single-agent vector
    env (e.g. observation normalisation)."""
    if multi_agent:
        from .module_setup import resolve_policy_mapping_fn
        from .multi_agent import MultiAgentSampler

        return MultiAgentSampler(
            env_creator=env_creator,
            multi_module=multi_module,
            policy_mapping_fn=resolve_policy_mapping_fn(config, multi_module.keys()),
            num_envs=num_envs or config.num_envs,
            seed=seed,
            explore=explore,
        )
    return VectorEnvSampler(
        env_creator=env_creator,
        multi_module=multi_module,
        num_envs=num_envs or config.num_envs,
        vectorize_mode=config.env_runner_settings["gym_env_vectorize_mode"],
        seed=seed,
        explore=explore,
        wrap_env=wrap_env,
    )


class VectorEnvSampler:
    """Steps ``num_envs`` copies of a single-agent env with module ``module_id``.

    Episode returns and lengths are exact: an episode cut by the end of a rollout goes on
    in the next one. Stateful modules get their state carried per env and reset to
    ``get_initial_state()`` at every episode start.

    Example::

        sampler = VectorEnvSampler(env_creator=lambda: gym.make("CartPole-v1"),
                                   multi_module=module.as_multi_rl_module(), num_envs=8)
        rollout = sampler.sample(32)["default_policy"]   # rollout["obs"]: [33, 8, 4]
    """

    def __init__(
        self,
        *,
        env_creator: Callable[[], Any],
        multi_module: MultiRLModule,
        num_envs: int,
        vectorize_mode: str = "sync",
        seed: int | None = None,
        explore: bool = True,
        module_id: str = DEFAULT_MODULE_ID,
        wrap_env: Callable[[Any], Any] | None = None,
    ) -> None:
        self.multi_module = multi_module
        self.module_id = module_id
        self.module = multi_module[module_id]
        self.explore = explore
        self.num_envs = num_envs
        self.env = _make_vector_env(env_creator, num_envs, vectorize_mode)
        if wrap_env is not None:
            self.env = wrap_env(self.env)
        obs, _ = self.env.reset(seed=seed)
        self._obs = obs
        self._needs_reset = np.zeros(num_envs, dtype=bool)  # this row is a reset step
        self._returns = np.zeros(num_envs, dtype=np.float64)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self._finished: list[EpisodeResult] = []
        self._finished_slots: list[list[EpisodeResult]] | None = None  # run_episodes
        self._stateful = self.module.is_stateful()
        self._initial_state = initial_state(self.module)
        self._state = self._batched_initial_state(num_envs) if self._stateful else None

    def _batched_initial_state(self, n: int) -> Any:
        return tree_map(lambda s: s.unsqueeze(0).repeat(n, *([1] * s.dim())), self._initial_state)

    def sample(self, num_steps: int) -> dict[str, dict[str, Any]]:
        obs_rows, state_rows, action_rows, logp_rows = [], [], [], []
        rewards = np.zeros((num_steps, self.num_envs), dtype=np.float32)
        terminateds = np.zeros((num_steps, self.num_envs), dtype=bool)
        truncateds = np.zeros((num_steps, self.num_envs), dtype=bool)
        loss_mask = np.zeros((num_steps, self.num_envs), dtype=bool)
        for t in range(num_steps):
            out = self._act()
            obs_rows.append(self._obs)
            if self._stateful:
                state_rows.append(self._state)
            action_rows.append(out[Columns.ACTIONS])
            logp_rows.append(out.get(Columns.ACTION_LOGP))
            next_obs, reward, terminated, truncated, _ = self.env.step(
                out[Columns.ACTIONS_FOR_ENV]
            )
            valid = ~self._needs_reset
            rewards[t], terminateds[t], truncateds[t], loss_mask[t] = (
                reward, terminated & valid, truncated & valid, valid
            )
            self._count_episodes(reward, terminated | truncated, valid)
            if self._stateful:
                self._state = self._next_state(out[Columns.STATE_OUT], valid)
            self._needs_reset = (terminated | truncated) & valid
            self._obs = next_obs
        obs_rows.append(self._obs)
        rollout = {
            "obs": tree_stack(obs_rows),
            "actions": tree_stack(action_rows),
            "rewards": torch.from_numpy(rewards),
            "terminateds": torch.from_numpy(terminateds),
            "truncateds": torch.from_numpy(truncateds),
            "loss_mask": torch.from_numpy(loss_mask),
        }
        if self.explore:
            rollout["action_logp"] = torch.stack(logp_rows)
        if self._stateful:
            state_rows.append(self._state)
            rollout["state_in"] = tree_stack(state_rows)
        return {self.module_id: rollout}

    def _act(self) -> dict[str, Any]:
        batch: dict[str, Any] = {Columns.OBS: tree_map(to_tensor, self._obs)}
        if self._stateful:
            batch[Columns.STATE_IN] = self._state
        outs = compute_actions(
            self.multi_module, {self.module_id: batch}, explore=self.explore, for_env=True
        )
        return outs[self.module_id]

    def _next_state(self, state_out: Any, valid: np.ndarray) -> Any:
        # A row the env ignored (the reset step) is followed by a new episode's first step.
        if valid.all():
            return state_out
        restart = torch.from_numpy(~valid)

        def reset(new: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
            shape = (-1,) + (1,) * (new.dim() - 1)
            return torch.where(restart.view(shape), initial.to(new.dtype), new)

        return tree_map(reset, state_out, self._initial_state)

    def _count_episodes(self, reward: np.ndarray, done: np.ndarray, valid: np.ndarray) -> None:
        self._returns += np.where(valid, reward, 0.0)
        self._lengths += valid
        for i in np.flatnonzero(done & valid):
            episode = EpisodeResult(float(self._returns[i]), int(self._lengths[i]))
            self._finished.append(episode)
            if self._finished_slots is not None:
                self._finished_slots[i].append(episode)
            self._returns[i] = 0.0
            self._lengths[i] = 0

    def pop_episodes(self) -> list[EpisodeResult]:
        finished, self._finished = self._finished, []
        return finished

    def run_episodes(self, num_episodes: int, *, seed: int | None = None
                     ) -> list[EpisodeResult]:
        """Reset every env and run ``num_episodes`` whole episodes.

        Each env copy runs the same number of episodes and they are taken round by round,
        never in order of completion, so short episodes are not over-represented.
        """
        per_slot = -(-num_episodes // self.num_envs)
        obs, _ = self.env.reset(seed=seed)
        self._obs = obs
        self._needs_reset[:] = False
        self._returns[:] = 0.0
        self._lengths[:] = 0
        if self._stateful:
            self._state = self._batched_initial_state(self.num_envs)
        self._finished_slots = [[] for _ in range(self.num_envs)]
        while min(len(done) for done in self._finished_slots) < per_slot:
            self.sample(1)
        rounds = zip(*(done[:per_slot] for done in self._finished_slots))
        ordered = [episode for round_ in rounds for episode in round_]
        self._finished_slots = None
        self._finished = []
        return ordered[:num_episodes]

    def close(self) -> None:
        self.env.close()


def _make_vector_env(env_creator: Callable[[], Any], num_envs: int, mode: str) -> Any:
    autoreset = gym.vector.AutoresetMode.NEXT_STEP
    fns = [env_creator] * num_envs
    if mode == "sync":
        return gym.vector.SyncVectorEnv(fns, autoreset_mode=autoreset)
    if mode == "async":
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=autoreset)
    if mode == "vector_entry_point":
        make_vector = getattr(env_creator, "make_vector", None)
        if make_vector is None:
            raise ConfigError(
                "gym_env_vectorize_mode='vector_entry_point' needs the env given as a gymnasium "
                "id (e.g. 'CartPole-v1'); an env class or factory has no vectorised "
                "implementation to use. Use 'sync' or 'async'"
            )
        env = make_vector(num_envs)
        mode_found = env.metadata.get("autoreset_mode")
        if mode_found != autoreset:
            env.close()
            raise ConfigError(
                f"the vectorised implementation of {getattr(env_creator, 'env_id', '?')!r} "
                f"resets with {mode_found}; the sampler needs {autoreset}. Use 'sync' or 'async'"
            )
        return env
    raise ConfigError(
        f"gym_env_vectorize_mode={mode!r} is not known; use 'sync', 'async' or "
        f"'vector_entry_point'"
    )
