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

Around every iteration the base adds what does not depend on the loop
(:meth:`Algorithm._finish_iteration`): evaluation when it is due, the callbacks
(:mod:`~rlmodules.algorithms.callbacks`), the custom metrics they logged, and the progress
line (``reporting(progress=True)``). With none of these configured it adds nothing.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rlmodules.envs import is_parallel_env
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID, RLModule

from .algorithm_config import AlgorithmConfig
from .callbacks import make_callbacks
from .checkpoint import (
    MODULE_COMPONENT,
    check_module_size,
    load_algorithm,
    restore_algorithm,
    restore_component,
    save_algorithm,
)
from .devices import ActingModule, acting_device
from .env_creation import backend_options, make_env_creator
from .evaluation import summarize_episodes
from .learner import Learner
from .metrics_logger import MetricsLogger

# Importable from here as before.
from .module_setup import build_multi_module
from .sampler import make_sampler

__all__ = ["Algorithm", "build_multi_module", "MODULE_COMPONENT"]

#: Episodes averaged for ``episode_return_mean`` (as RL Zoo and SB3 report it).
RETURN_WINDOW = 100
#: ``episode_return_mean`` before any episode finished: below every return, so a loop
#: such as ``while algo.train()["episode_return_mean"] < 475`` keeps training.
NO_RETURN_YET = float("-inf")


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
    #: What :meth:`from_checkpoint` loaded this algorithm from (None: built in this process).
    checkpoint_source: str | None = None

    def __init__(self, config: AlgorithmConfig) -> None:
        config.validate()
        self.config = config
        #: Where callbacks log custom metrics; reduced into each iteration's result.
        self.metrics_logger = MetricsLogger()
        self.callbacks = make_callbacks(config.callbacks_classes, config.callback_functions)
        threads = config.env_runner_settings["num_threads"]
        if threads is not None:
            torch.set_num_threads(threads)
        seed = config.seed
        if seed is not None:
            torch.manual_seed(seed)
        self.np_random = np.random.default_rng(seed)
        self.torch_generator = torch.Generator()
        self.torch_generator.manual_seed(int(self.np_random.integers(2**62)))
        backend = backend_options(config)
        self.env_creator = make_env_creator(config.env, config.env_config, **backend)
        self.evaluation_env_creator = make_env_creator(config.env, config.evaluation_env_config,
                                                       **backend)
        probe = self.env_creator()
        try:
            self.is_multi_agent = is_parallel_env(probe)
            check_module_size(lambda: self.build_module(probe))  # restoring: not oversized
            self.module = self.build_module(probe)
            self.obs_normalizer = self.make_obs_normalizer(probe)
        finally:
            probe.close()
        self.reward_normalizer = self.make_reward_normalizer()
        self.learner = self._scaled_learner(self.make_learner())
        #: The module samplers act with: the learner's, or a synced copy (see ``devices``).
        self.acting = self._acting_module()
        self.iteration = 0
        self.timesteps = 0
        self.episodes = 0
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=RETURN_WINDOW)
        self.recent_lengths: collections.deque[int] = collections.deque(maxlen=RETURN_WINDOW)
        #: Multi-agent only: recent per-agent returns by the module id that acted for them.
        self.recent_module_returns: dict[str, collections.deque[float]] = {}
        self._finished_episodes: list[Any] = []  # this iteration's, for on_episode_end
        self._timesteps_at_last_result = 0
        self._progress: Any = None
        if config.reporting_settings["progress"]:
            from .reporting import ProgressLine

            self._progress = ProgressLine(total_timesteps=None)
        self.sampler = self._training_sampler(env_seed=seed)
        if self.callbacks.wants("on_algorithm_init"):
            try:
                self.callbacks.call("on_algorithm_init", algorithm=self,
                                    metrics_logger=self.metrics_logger)
            except BaseException:
                self.stop()
                raise

    # --- pieces a family or an algorithm may change ----------------------------------------------
    def build_module(self, env: Any) -> MultiRLModule:
        """The MultiRLModule to train, for the probed ``env`` (see :mod:`.module_setup`)."""
        return build_multi_module(self.config, env, self.default_module_class)

    def make_obs_normalizer(self, env: Any) -> Any:
        """The observation normaliser training and evaluation apply (None: none)."""
        return None

    def make_reward_normalizer(self) -> Any:
        """The reward normaliser training applies (None: none; see ``normalize_rewards``)."""
        return None

    def make_learner(self) -> Learner:
        """The learner: ``learner_class`` over the module, config and generator."""
        if self.learner_class is None:
            raise NotImplementedError(
                f"{type(self).__name__} must set learner_class or implement make_learner()")
        # With data-parallel learner actors the module here only holds the weights.
        local = self.config.learner_settings["num_learners"] >= 2
        return self.learner_class(module=self.module, config=self.config,
                                  generator=self.torch_generator,
                                  device=torch.device("cpu") if local else None)

    def _acting_module(self) -> ActingModule:
        device = acting_device(self.config)
        if self.is_multi_agent and device.type != "cpu":
            raise ConfigError(
                "num_gpus_per_env_runner > 0: multi-agent samplers act on the CPU; set "
                "num_gpus_per_env_runner=0 (the learner may still train on a GPU)"
            )
        clock = getattr(self.learner, "compile_clock", None)
        return ActingModule(self.module, device, self.config, clock)

    def sync_acting_module(self) -> None:
        """Bring the acting module up to the learner's weights (before sampling)."""
        self.acting.sync(self.learner)

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
        return make_sampler(self.config, creator, self.acting.module, seed=env_seed,
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
        raise KeyError(f"no module id {module_id!r}; this algorithm has {list(self.module.keys())}")

    def train(self) -> dict[str, Any]:
        """One iteration of the family's loop; returns metrics."""
        raise NotImplementedError(f"{type(self).__name__} must implement train()")

    def evaluate(self, *, num_episodes: int | None = None, explore: bool | None = None
                 ) -> dict[str, Any]:
        """Run ``evaluation_duration`` (or ``num_episodes``) full episodes in fresh envs:
        greedy unless ``explore`` (default: ``evaluation_explore``) is true."""
        wanted = num_episodes or self.config.evaluation_settings["evaluation_duration"]
        if explore is None:
            explore = self.config.evaluation_settings["evaluation_explore"]
        if self.callbacks.wants("on_evaluate_start"):
            self.callbacks.call("on_evaluate_start", algorithm=self,
                                metrics_logger=self.metrics_logger)
        seed = None if self.config.seed is None else self.config.seed + 10_000 + self.iteration
        sampler = self._new_sampler(explore=explore, env_seed=seed,
                                    num_envs=min(wanted, self.config.num_envs), evaluation=True)
        self.module.eval()
        self.sync_acting_module()
        try:
            episodes = sampler.run_episodes(wanted, seed=seed)
        finally:
            sampler.close()
        result = summarize_episodes(episodes, multi_agent=self.is_multi_agent)
        if self.callbacks.wants("on_evaluate_end"):
            self.callbacks.call("on_evaluate_end", algorithm=self,
                                metrics_logger=self.metrics_logger, evaluation_metrics=result)
        return result

    def stop(self) -> None:
        """Close the envs, and stop the env-runner and learner actors if any."""
        if self._progress is not None:
            self._progress.close()
        self.sampler.close()
        self.learner.close()

    # --- metrics ---------------------------------------------------------------------------------
    def _count_finished_episodes(self) -> None:
        """Fold the episodes the sampler finished into the counters and return windows;
        a multi-agent episode also feeds the per-module returns (each agent's return, under
        the module id that acted for it). Callbacks see them when the iteration ends."""
        episodes = self.sampler.pop_episodes()
        if self.callbacks.wants("on_episode_end"):
            self._finished_episodes.extend(episodes)
        for episode in episodes:
            self.recent_returns.append(episode.episode_return)
            self.recent_lengths.append(episode.length)
            self.episodes += 1
            if self.is_multi_agent:
                for agent, agent_episode in episode.agents.items():
                    window = self.recent_module_returns.setdefault(
                        episode.module_ids[agent], collections.deque(maxlen=RETURN_WINDOW))
                    window.append(agent_episode.episode_return)

    def _iteration_result(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """The metrics every sampling iteration reports (returns over the last
        ``RETURN_WINDOW`` episodes; ``NO_RETURN_YET`` and NaN before the first one), then
        ``metrics``, then what :meth:`_finish_iteration` adds."""
        mean, std = _mean_std(self.recent_returns)
        result: dict[str, Any] = {
            "training_iteration": self.iteration,
            "num_env_steps_sampled_lifetime": self.timesteps,
            "num_episodes_lifetime": self.episodes,
            "episode_return_mean": mean,
            "episode_return_std": std,
            "episode_len_mean": sum(self.recent_lengths) / len(self.recent_lengths)
            if self.recent_lengths else math.nan,
        }
        if self.is_multi_agent:
            result["module_episode_returns_mean"] = {
                mid: math.fsum(window) / len(window) if window else NO_RETURN_YET
                for mid, window in sorted(self.recent_module_returns.items())}
        result.update(metrics)
        clock = getattr(self.learner, "compile_clock", None)
        if clock is not None and clock.seconds:
            result["time_compile_s"] = clock.seconds
        return self._finish_iteration(result)

    def _finish_iteration(self, result: dict[str, Any]) -> dict[str, Any]:
        """Add the evaluation when it is due, call the callbacks, merge the custom metrics
        they logged and show the progress line. Everything the iteration changes is done
        before, so a callback that raises leaves a consistent algorithm behind."""
        if self._evaluation_due():
            result["evaluation"] = self.evaluate()
        self._timesteps_at_last_result = self.timesteps
        if self.callbacks or self.metrics_logger:
            builtin = set(result)
            episodes, self._finished_episodes = self._finished_episodes, []
            for episode in episodes:
                self.callbacks.call("on_episode_end", episode=episode, rl_module=self.module,
                                    metrics_logger=self.metrics_logger)
            self._merge_custom_metrics(result, builtin)
            if self.callbacks.wants("on_train_result"):
                self.callbacks.call("on_train_result", algorithm=self, result=result,
                                    metrics_logger=self.metrics_logger)
                self._merge_custom_metrics(result, builtin)  # what on_train_result logged
        if self._progress is not None:
            self._progress.update(result, extra_keys=self.metrics_logger.keys())
        return result

    def _evaluation_due(self) -> bool:
        settings = self.config.evaluation_settings
        interval = settings["evaluation_interval"]
        if interval is not None:
            return self.iteration % interval == 0
        every = settings["evaluation_interval_timesteps"]
        return every is not None and \
            self.timesteps // every > self._timesteps_at_last_result // every

    def _merge_custom_metrics(self, result: dict[str, Any], builtin: set[str]) -> None:
        custom = self.metrics_logger.reduce()
        clash = sorted(builtin & set(custom))
        if clash:
            raise ConfigError(
                f"metrics_logger key(s) {clash} are metrics the algorithm reports itself; "
                f"log custom metrics under other names (e.g. 'custom/{clash[0]}')"
            )
        result.update(custom)

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
        self._timesteps_at_last_result = self.timesteps
        if self._progress is not None:
            self._progress.restart(self.timesteps)
        if self.reward_normalizer is not None:
            self.reward_normalizer.reset_episodes()
        # Fresh episodes, seeded from the restored counters so a resumed run is reproducible.
        self.sampler.close()
        seed = None if self.config.seed is None else self.config.seed + self.iteration
        self.sampler = self._training_sampler(env_seed=seed)
        if self.callbacks.wants("on_checkpoint_loaded"):
            self.callbacks.call("on_checkpoint_loaded", algorithm=self)

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, config: AlgorithmConfig | None = None,
                        env: Any = None, trusted_objects: Iterable[Any] = (),
                        allow_import: bool = False, revision: str | None = None) -> Algorithm:
        """Build the algorithm saved at ``path`` and restore its state.

        ``path`` is an algorithm checkpoint, a folder written by ``rlmodules package``, or
        its Hub name ``"hf://org/name"`` (``@rev`` or ``revision=``; see
        ``RLModule.from_checkpoint``); ``checkpoint_source`` records what was loaded.
        Nothing the checkpoint names is imported: an env, ``policy_mapping_fn`` or class it
        names by import path resolves only to what a plugin registered, or to an object you
        hand over. ``config`` replaces the saved one (needed when it held a lambda, e.g. a
        ``policy_mapping_fn``); ``env`` replaces the saved env (an id, class or factory);
        ``trusted_objects`` are the classes and functions the checkpoint may name (e.g.
        ``[MyEnv, my_mapping_fn]``); ``allow_import=True`` lets it import whatever it names
        (for checkpoints you trust).
        """
        from rlmodules.hub import open_checkpoint

        with open_checkpoint(path, "algorithm", revision=revision) as opened:
            algo = load_algorithm(opened.path, config=config, allow_import=allow_import,
                                  trusted_objects=trusted_objects, env=env)
        if not isinstance(algo, cls):
            raise ConfigError(
                f"checkpoint {path} holds a {type(algo).__name__}, not a {cls.__name__}"
            )
        algo.checkpoint_source = opened.source
        return algo


def _mean_std(values: collections.deque) -> tuple[float, float]:
    """Mean and standard deviation of a return window (plain Python: windows are short,
    and numpy's conversion costs more than the sums); ``NO_RETURN_YET`` and NaN if empty."""
    if not values:
        return NO_RETURN_YET, math.nan
    mean = math.fsum(values) / len(values)
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
