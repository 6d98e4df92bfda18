"""Algorithm: the training loop around a MultiRLModule, a sampler and a learner.

The module is held as a MultiRLModule (a single-agent module under ``"default_policy"``).
Subclasses provide :meth:`Algorithm.make_learner`; :meth:`Algorithm.train` runs one
iteration (sample ``train_batch_size`` env steps, update, report metrics).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rlmodules.envs import is_parallel_env
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID, RLModule

from .config import AlgorithmConfig
from .env_creation import make_env_creator
from .learner import Learner
from .sampler import make_sampler

__all__ = ["Algorithm", "build_multi_module", "MODULE_COMPONENT"]

#: Component path of the MultiRLModule inside an algorithm checkpoint (RLlib's path).
MODULE_COMPONENT = "learner_group/learner/rl_module"
#: Episodes averaged for ``episode_return_mean`` (as RL Zoo and SB3 report it).
RETURN_WINDOW = 100


def build_multi_module(config: AlgorithmConfig, env: Any, default_module_class: str
                       ) -> MultiRLModule:
    """The MultiRLModule for ``config`` on a single-agent ``env`` (spaces from the env).

    An ``RLModuleSpec`` without ``module_class`` gets ``default_module_class``; the config's
    ``model_config`` fills an unset spec ``model_config``.
    """
    from rlmodules.specs import MultiRLModuleSpec, RLModuleSpec

    if is_parallel_env(env):
        from .multi_agent import build_multi_agent_module

        return build_multi_agent_module(config, env, default_module_class)
    spec = config.rl_module_spec
    if isinstance(spec, MultiRLModuleSpec):
        multi_spec = spec
        if multi_spec.observation_space is None:
            multi_spec = _with_spaces(multi_spec, env)
        return multi_spec.build()
    spec = spec or RLModuleSpec()
    filled = RLModuleSpec(
        module_class=spec.module_class or default_module_class,
        observation_space=_given_or(spec.observation_space, env.observation_space),
        action_space=_given_or(spec.action_space, env.action_space),
        inference_only=False,
        model_config=spec.model_config if spec.model_config is not None
        else config.model_config_setting,
        catalog_class=spec.catalog_class,
    )
    return filled.build().as_multi_rl_module()


def _given_or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _with_spaces(spec: Any, env: Any) -> Any:
    import attrs

    return attrs.evolve(spec, observation_space=env.observation_space,
                        action_space=env.action_space)


class Algorithm:
    """Base of the reference algorithms.

    Example::

        algo = PPOConfig().environment("CartPole-v1").build()
        for _ in range(10):
            result = algo.train()
        path = algo.save_to_path()
        algo.stop()
        resumed = Algorithm.from_checkpoint(path)
    """

    default_module_class = "rlmodules/ppo"

    def __init__(self, config: AlgorithmConfig) -> None:
        config.validate()
        self.config = config
        threads = config.env_runner_settings["num_threads"]
        if threads is not None:
            torch.set_num_threads(threads)
        seed = config.seed
        if seed is not None:
            torch.manual_seed(seed)
        self.np_random = np.random.default_rng(seed)
        self.torch_generator = torch.Generator()
        self.torch_generator.manual_seed(int(self.np_random.integers(2**62)))
        self.env_creator = make_env_creator(config.env, config.env_config)
        self.evaluation_env_creator = make_env_creator(config.env, config.evaluation_env_config)
        probe = self.env_creator()
        try:
            self.is_multi_agent = is_parallel_env(probe)
            self.module = self.build_module(probe)
            self.obs_normalizer = self._make_obs_normalizer(probe)
        finally:
            probe.close()
        self.learner = self._scaled_learner(self.make_learner())
        self.iteration = 0
        self.timesteps = 0
        self.episodes = 0
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=RETURN_WINDOW)
        self.recent_lengths: collections.deque[int] = collections.deque(maxlen=RETURN_WINDOW)
        #: Multi-agent only: recent per-agent returns by the module id that acted for them.
        self.recent_module_returns: dict[str, collections.deque[float]] = {}
        self.sampler = self._training_sampler(env_seed=seed)

    # --- pieces subclasses may change ------------------------------------------------------------
    def build_module(self, env: Any) -> MultiRLModule:
        return build_multi_module(self.config, env, self.default_module_class)

    def make_learner(self) -> Learner:
        raise NotImplementedError(f"{type(self).__name__} must implement make_learner()")

    def _new_sampler(self, *, explore: bool, env_seed: int | None, num_envs: int | None = None,
                     evaluation: bool = False) -> Any:
        creator = self.evaluation_env_creator if evaluation else self.env_creator
        wrap_env = None
        if self.obs_normalizer is not None:  # statistics update in training only
            from .obs_normalization import NormalizeObservations

            normalizer = self.obs_normalizer
            wrap_env = lambda env: NormalizeObservations(  # noqa: E731
                env, normalizer, update=not evaluation)
        return make_sampler(self.config, creator, self.module, seed=env_seed,
                            explore=explore, num_envs=num_envs,
                            multi_agent=self.is_multi_agent, wrap_env=wrap_env)

    def _make_obs_normalizer(self, env: Any) -> Any:
        if self.config.env_runner_settings["observation_filter"] != "MeanStdFilter":
            return None
        if self.is_multi_agent:
            raise ConfigError(
                "observation_filter='MeanStdFilter' normalises a single-agent env's "
                "observations; a multi-agent env needs observation_filter='NoFilter'"
            )
        if self.config.env_runner_settings["num_env_runners"]:
            raise ConfigError(
                "observation_filter='MeanStdFilter' keeps its statistics in the training "
                "process, so it samples there: set num_env_runners=0 (or drop the filter)"
            )
        from .obs_normalization import ObservationNormalizer

        return ObservationNormalizer(env.observation_space)

    def _training_sampler(self, *, env_seed: int | None) -> Any:
        """The local sampler, or with ``num_env_runners >= 1`` the Ray env-runner actors."""
        if self.config.env_runner_settings["num_env_runners"] == 0:
            return self._new_sampler(explore=True, env_seed=env_seed)
        from .env_runners import EnvRunnerGroup

        return EnvRunnerGroup(config=self.config, module=self.module, seed=env_seed,
                              multi_agent=self.is_multi_agent)

    def _scaled_learner(self, learner: Learner) -> Any:
        """``learner``, or with ``num_learners >= 2`` data-parallel copies of it (Ray actors)."""
        if self.config.learner_settings["num_learners"] < 2:
            return learner
        from .distributed_learner import LearnerGroup

        return LearnerGroup(learner, self.config)

    @property
    def env_runner_group(self) -> Any:
        """The env-runner actors (``num_env_runners >= 1``), else None."""
        from .env_runners import EnvRunnerGroup

        return self.sampler if isinstance(self.sampler, EnvRunnerGroup) else None

    # --- the public API --------------------------------------------------------------------------
    def get_module(self, module_id: str = DEFAULT_MODULE_ID) -> RLModule:
        """The module with ``module_id``; for a multi-agent setup without a
        ``"default_policy"``, the default id returns the whole MultiRLModule."""
        if module_id in self.module:
            return self.module[module_id]
        if module_id == DEFAULT_MODULE_ID:
            return self.module
        raise KeyError(f"no module id {module_id!r}; this algorithm has {self.module.keys()}")

    def train(self) -> dict[str, Any]:
        """One iteration: sample ``train_batch_size`` env steps, learn; returns metrics."""
        start = time.perf_counter()
        envs = self.config.num_sampling_envs
        steps_per_env = self.config.training_settings["train_batch_size"] // envs
        self.module.eval()
        rollouts = self.sampler.sample(steps_per_env)
        sampled = time.perf_counter()
        self.timesteps += steps_per_env * envs
        for episode in self._pop_finished_episodes():
            self.recent_returns.append(episode.episode_return)
            self.recent_lengths.append(episode.length)
            self.episodes += 1
        learner_metrics = self.learner.update(rollouts, timestep=self.timesteps)
        self.iteration += 1
        end = time.perf_counter()
        result = {
            "training_iteration": self.iteration,
            "num_env_steps_sampled_lifetime": self.timesteps,
            "num_episodes_lifetime": self.episodes,
            "episode_return_mean": _mean(self.recent_returns),
            "episode_len_mean": _mean(self.recent_lengths),
            **self._module_returns_metric(),
            "time_sample_s": sampled - start,
            "time_learn_s": end - sampled,
            "env_steps_per_s": steps_per_env * envs / max(end - start, 1e-9),
            **(self.env_runner_group.metrics() if self.env_runner_group else {}),
            **learner_metrics,
        }
        interval = self.config.evaluation_settings["evaluation_interval"]
        if interval is not None and self.iteration % interval == 0:
            result["evaluation"] = self.evaluate()
        return result

    def evaluate(self, *, num_episodes: int | None = None) -> dict[str, Any]:
        """Run ``evaluation_duration`` full episodes (greedy unless ``evaluation_explore``)."""
        wanted = num_episodes or self.config.evaluation_settings["evaluation_duration"]
        explore = self.config.evaluation_settings["evaluation_explore"]
        seed = None if self.config.seed is None else self.config.seed + 10_000 + self.iteration
        sampler = self._new_sampler(explore=explore, env_seed=seed,
                                    num_envs=min(wanted, self.config.num_envs), evaluation=True)
        self.module.eval()
        try:
            episodes = sampler.run_episodes(wanted, seed=seed)
        finally:
            sampler.close()
        returns = np.array([e.episode_return for e in episodes])
        lengths = np.array([e.length for e in episodes])
        result = {
            "episode_return_mean": float(returns.mean()),
            "episode_return_std": float(returns.std()),
            "episode_len_mean": float(lengths.mean()),
            "num_episodes": int(len(returns)),
        }
        if self.is_multi_agent:
            per_module: dict[str, list[float]] = {}
            for episode in episodes:
                for agent, agent_episode in episode.agents.items():
                    per_module.setdefault(episode.module_ids[agent], []).append(
                        agent_episode.episode_return)
            result["module_episode_returns_mean"] = {
                mid: float(np.mean(values)) for mid, values in sorted(per_module.items())}
        return result

    def _pop_finished_episodes(self) -> list[Any]:
        """Episodes finished since the last call; multi-agent ones also feed the
        per-module returns (each agent's return, under the module id that acted for it)."""
        episodes = self.sampler.pop_episodes()
        if not self.is_multi_agent:
            return episodes
        for episode in episodes:
            for agent, agent_episode in episode.agents.items():
                window = self.recent_module_returns.setdefault(
                    episode.module_ids[agent], collections.deque(maxlen=RETURN_WINDOW))
                window.append(agent_episode.episode_return)
        return episodes

    def _module_returns_metric(self) -> dict[str, Any]:
        if not self.is_multi_agent:
            return {}
        return {"module_episode_returns_mean": {
            mid: _mean(window) for mid, window in sorted(self.recent_module_returns.items())}}

    def stop(self) -> None:
        """Close the envs, and stop the env-runner and learner actors if any."""
        self.sampler.close()
        close = getattr(self.learner, "close", None)
        if close is not None:
            close()

    # --- checkpoints -----------------------------------------------------------------------------
    def save_extra_state(self, directory: Path) -> dict[str, Any]:
        """Write state beyond module, optimizer and counters into the checkpoint being
        staged in ``directory`` (e.g. a replay buffer); returns its JSON entry."""
        return {}

    def checked_extra_state(self, directory: Path, data: dict[str, Any]
                            ) -> Callable[[], None]:
        """Read and check what :meth:`save_extra_state` wrote; return the function that
        applies it (which cannot fail), so a restore changes nothing until all is checked."""
        return lambda: None

    def save_to_path(self, path: str | Path | None = None) -> Path:
        """Write a checkpoint of the whole algorithm (atomically); returns its directory."""
        from .checkpoint import save_algorithm

        return save_algorithm(self, path)

    def restore_from_path(self, path: str | Path, *, component: str | None = None) -> None:
        """Restore from an algorithm checkpoint, or with ``component`` from the checkpoint of
        one part: ``"learner_group/learner/rl_module"`` (a MultiRLModule checkpoint) or
        ``"learner_group/learner/rl_module/<module_id>"`` (an RLModule checkpoint)."""
        from .checkpoint import restore_algorithm, restore_component

        if component is None:
            restore_algorithm(self, path)
        else:
            restore_component(self, path, component)

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, config: AlgorithmConfig | None = None,
                        allow_import: bool = False) -> Algorithm:
        """Build the algorithm saved at ``path`` and restore its state.

        ``config`` replaces the saved one (needed when it held a lambda, e.g. a
        ``policy_mapping_fn``); ``allow_import`` lets the saved config import the modules
        its env class or factory names.
        """
        from .checkpoint import load_algorithm

        algo = load_algorithm(path, config=config, allow_import=allow_import)
        if not isinstance(algo, cls):
            raise ConfigError(
                f"checkpoint {path} holds a {type(algo).__name__}, not a {cls.__name__}"
            )
        return algo


def _mean(values: collections.deque) -> float:
    return float(np.mean(values)) if values else float("nan")
