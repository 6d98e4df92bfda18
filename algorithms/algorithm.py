"""Algorithm: what every reference algorithm shares, whatever its training loop.

The base holds the env (a creator, probed once for its spaces), the module (a
MultiRLModule; a single-agent module under ``"default_policy"``), the learner, the seeds,
the episode bookkeeping behind the metrics, evaluation, and whole-algorithm checkpoints.
Two families provide the loop, in the manner of SB3's on- and off-policy algorithms:
:class:`~rlmodules.algorithms.onpolicy.OnPolicyAlgorithm` (PPO, BC: sample a batch, learn
in minibatch epochs; env runners and learners scale out) and
:class:`~rlmodules.algorithms.offpolicy.OffPolicyAlgorithm` (DQN, SAC: explore, store
transitions, replay them). A family provides :meth:`Algorithm.train` and the sampler it
trains with; an algorithm its ``learner_class`` and ``default_module_class``.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rlmodules.envs import is_parallel_env
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID, RLModule

from .algorithm_config import AlgorithmConfig
from .checkpoint import (
    MODULE_COMPONENT,
    load_algorithm,
    restore_algorithm,
    restore_component,
    save_algorithm,
)
from .env_creation import make_env_creator
from .learner import Learner

# Importable from here as before.
from .module_setup import build_multi_module
from .sampler import make_sampler

__all__ = ["Algorithm", "build_multi_module", "MODULE_COMPONENT"]

#: Episodes averaged for ``episode_return_mean`` (as RL Zoo and SB3 report it).
RETURN_WINDOW = 100


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
    #: The learner :meth:`make_learner` builds (each algorithm names its own).
    learner_class: type[Learner] | None = None

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
            self.obs_normalizer = self.make_obs_normalizer(probe)
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

    # --- pieces a family or an algorithm may change ----------------------------------------------
    def build_module(self, env: Any) -> MultiRLModule:
        """The MultiRLModule to train, for the probed ``env`` (see :mod:`.module_setup`)."""
        return build_multi_module(self.config, env, self.default_module_class)

    def make_obs_normalizer(self, env: Any) -> Any:
        """The observation normaliser training and evaluation apply (None: none)."""
        return None

    def make_learner(self) -> Learner:
        """The learner: ``learner_class`` over the module, config and generator."""
        if self.learner_class is None:
            raise NotImplementedError(
                f"{type(self).__name__} must set learner_class or implement make_learner()")
        return self.learner_class(module=self.module, config=self.config,
                                  generator=self.torch_generator)

    def _scaled_learner(self, learner: Learner) -> Any:
        """The learner ``train()`` uses: ``learner`` itself, unless a family spreads it
        over processes."""
        return learner

    def _training_sampler(self, *, env_seed: int | None) -> Any:
        """The sampler ``train()`` steps (a family's)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _training_sampler()")

    def _new_sampler(self, *, explore: bool, env_seed: int | None, num_envs: int | None = None,
                     evaluation: bool = False) -> Any:
        """A sampler in this process; observations normalised (statistics frozen in
        evaluation) when the algorithm has an ``obs_normalizer``."""
        creator = self.evaluation_env_creator if evaluation else self.env_creator
        wrap_env = None
        if self.obs_normalizer is not None:
            from .obs_normalization import NormalizeObservations

            normalizer = self.obs_normalizer
            wrap_env = lambda env: NormalizeObservations(  # noqa: E731
                env, normalizer, update=not evaluation)
        return make_sampler(self.config, creator, self.module, seed=env_seed,
                            explore=explore, num_envs=num_envs,
                            multi_agent=self.is_multi_agent, wrap_env=wrap_env)

    @property
    def env_runner_group(self) -> Any:
        """The env-runner actors (``num_env_runners >= 1``), else None."""
        return None

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
        """One iteration of the family's loop; returns metrics."""
        raise NotImplementedError(f"{type(self).__name__} must implement train()")

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
        result: dict[str, Any] = {
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

    def stop(self) -> None:
        """Close the envs, and stop the env-runner and learner actors if any."""
        self.sampler.close()
        self.learner.close()

    # --- metrics ---------------------------------------------------------------------------------
    def _count_finished_episodes(self) -> None:
        """Fold the episodes the sampler finished into the counters and return windows;
        a multi-agent episode also feeds the per-module returns (each agent's return, under
        the module id that acted for it)."""
        for episode in self.sampler.pop_episodes():
            self.recent_returns.append(episode.episode_return)
            self.recent_lengths.append(episode.length)
            self.episodes += 1
            if self.is_multi_agent:
                for agent, agent_episode in episode.agents.items():
                    window = self.recent_module_returns.setdefault(
                        episode.module_ids[agent], collections.deque(maxlen=RETURN_WINDOW))
                    window.append(agent_episode.episode_return)

    def _iteration_result(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """The metrics every sampling iteration reports, then ``metrics``, then the
        evaluation when ``evaluation_interval`` says so."""
        result: dict[str, Any] = {
            "training_iteration": self.iteration,
            "num_env_steps_sampled_lifetime": self.timesteps,
            "num_episodes_lifetime": self.episodes,
            "episode_return_mean": _mean(self.recent_returns),
            "episode_len_mean": _mean(self.recent_lengths),
        }
        if self.is_multi_agent:
            result["module_episode_returns_mean"] = {
                mid: _mean(window) for mid, window in sorted(self.recent_module_returns.items())}
        result.update(metrics)
        return self._with_evaluation(result)

    def _with_evaluation(self, result: dict[str, Any]) -> dict[str, Any]:
        interval = self.config.evaluation_settings["evaluation_interval"]
        if interval is not None and self.iteration % interval == 0:
            result["evaluation"] = self.evaluate()
        return result

    # --- checkpoints -----------------------------------------------------------------------------
    def save_extra_state(self, directory: Path) -> dict[str, Any]:
        """Write state beyond module, optimizer and counters into the checkpoint being
        staged in ``directory`` (e.g. a replay buffer); returns its JSON entry."""
        return {}

    def checked_extra_state(self, directory: Path, data: dict[str, Any]
                            ) -> Callable[[], None]:
        """Read and check what :meth:`save_extra_state` wrote; return the function that
        applies it (which cannot fail), so a restore changes nothing until all is checked.
        This family saves none: anything there is refused."""
        from rlmodules.checkpoint import structure

        from .checkpoint import STATE_FILE
        from .checkpoint_schema import NoExtra

        structure(dict(data), NoExtra, source=f"{directory / STATE_FILE} extra")
        return lambda: None

    def save_to_path(self, path: str | Path | None = None) -> Path:
        """Write a checkpoint of the whole algorithm (atomically); returns its directory."""
        return save_algorithm(self, path)

    def restore_from_path(self, path: str | Path, *, component: str | None = None) -> None:
        """Restore from an algorithm checkpoint, or with ``component`` from the checkpoint of
        one part: ``"learner_group/learner/rl_module"`` (a MultiRLModule checkpoint) or
        ``"learner_group/learner/rl_module/<module_id>"`` (an RLModule checkpoint)."""
        if component is not None:
            restore_component(self, path, component)
            return
        restore_algorithm(self, path)
        # Fresh episodes, seeded from the restored counters so a resumed run is reproducible.
        self.sampler.close()
        seed = None if self.config.seed is None else self.config.seed + self.iteration
        self.sampler = self._training_sampler(env_seed=seed)

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, config: AlgorithmConfig | None = None,
                        allow_import: bool = False) -> Algorithm:
        """Build the algorithm saved at ``path`` and restore its state.

        ``config`` replaces the saved one (needed when it held a lambda, e.g. a
        ``policy_mapping_fn``); ``allow_import`` lets the saved config import the modules
        its env class or factory names.
        """
        algo = load_algorithm(path, config=config, allow_import=allow_import)
        if not isinstance(algo, cls):
            raise ConfigError(
                f"checkpoint {path} holds a {type(algo).__name__}, not a {cls.__name__}"
            )
        return algo


def _mean(values: collections.deque) -> float:
    return float(np.mean(values)) if values else float("nan")
