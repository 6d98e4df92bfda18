"""The on-policy loop shared by PPO and BC: sample a batch with the current policy, then
learn from it in minibatch epochs.

One :meth:`OnPolicyAlgorithm.train` samples ``train_batch_size`` env steps (in this process,
or with ``num_env_runners >= 1`` in Ray env-runner actors) and hands them to the learner
(with ``num_learners >= 2``, data-parallel learner actors). Observations may be normalised
by running statistics (``observation_filter="MeanStdFilter"``), which the checkpoint keeps.
"""

from __future__ import annotations

import time
from typing import Any

from rlmodules.errors import ConfigError

from .algorithm import Algorithm
from .learner import Learner

__all__ = ["OnPolicyAlgorithm"]


class OnPolicyAlgorithm(Algorithm):
    """Base of PPO and BC: the sample-then-learn loop (see the module docstring)."""

    def make_obs_normalizer(self, env: Any) -> Any:
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

    def _scaled_learner(self, learner: Learner) -> Any:
        """``learner``, or with ``num_learners >= 2`` data-parallel copies of it (Ray actors)."""
        if self.config.learner_settings["num_learners"] < 2:
            return learner
        from .distributed_learner import LearnerGroup

        return LearnerGroup(learner, self.config)

    def _training_sampler(self, *, env_seed: int | None) -> Any:
        """The local sampler, or with ``num_env_runners >= 1`` the Ray env-runner actors."""
        if self.config.env_runner_settings["num_env_runners"] == 0:
            return self._new_sampler(explore=True, env_seed=env_seed)
        from .env_runners import EnvRunnerGroup

        return EnvRunnerGroup(config=self.config, module=self.module, seed=env_seed,
                              multi_agent=self.is_multi_agent)

    @property
    def env_runner_group(self) -> Any:
        """The env-runner actors (``num_env_runners >= 1``), else None."""
        return None if self.config.env_runner_settings["num_env_runners"] == 0 \
            else self.sampler

    def train(self) -> dict[str, Any]:
        """One iteration: sample ``train_batch_size`` env steps, learn; returns metrics."""
        start = time.perf_counter()
        envs = self.config.num_sampling_envs
        steps_per_env = self.config.training_settings["train_batch_size"] // envs
        self.module.eval()
        rollouts = self.sampler.sample(steps_per_env)
        sampled = time.perf_counter()
        self.timesteps += steps_per_env * envs
        self._count_finished_episodes()
        learner_metrics = self.learner.update(rollouts, timestep=self.timesteps)
        self.iteration += 1
        end = time.perf_counter()
        runners = self.env_runner_group
        return self._iteration_result({
            "time_sample_s": sampled - start,
            "time_learn_s": end - sampled,
            "env_steps_per_s": steps_per_env * envs / max(end - start, 1e-9),
            **(runners.metrics() if runners is not None else {}),
            **learner_metrics,
        })
