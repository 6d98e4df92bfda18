"""rlmodules.algorithms: the reference trainer (PPO) built on the public module API.

Importing this package is cheap (no torch): names are imported on first use.

Example::

    from rlmodules.algorithms import PPOConfig

    algo = PPOConfig().environment("CartPole-v1").env_runners(num_envs_per_env_runner=8).build()
    print(algo.train()["episode_return_mean"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules._lazy import lazy_exports

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "AlgorithmConfig": "config",
    "PPOConfig": "config",
    "make_env_creator": "config",
    "Algorithm": "algorithm",
    "PPO": "ppo",
    "Learner": "learner",
    "PPOLearner": "ppo",
    "make_sampler": "sampler",
    "VectorEnvSampler": "sampler",
    "BCConfig": "bc",
    "BC": "bc",
    "MultiAgentSampler": "multi_agent",
    "EpisodeWriter": "episodes",
    "read_episodes": "episodes",
    "record_episodes": "episodes",
    "EnvRunnerGroup": "env_runners",
    "EnvRunnerError": "env_runners",
    "LearnerGroup": "distributed_learner",
}

__all__ = [
    "AlgorithmConfig",
    "PPOConfig",
    "make_env_creator",
    "Algorithm",
    "PPO",
    "Learner",
    "PPOLearner",
    "make_sampler",
    "VectorEnvSampler",
    "BCConfig",
    "BC",
    "MultiAgentSampler",
    "EpisodeWriter",
    "read_episodes",
    "record_episodes",
    "EnvRunnerGroup",
    "EnvRunnerError",
    "LearnerGroup",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .algorithm import Algorithm
    from .bc import BC, BCConfig
    from .config import AlgorithmConfig, PPOConfig, make_env_creator
    from .distributed_learner import LearnerGroup
    from .env_runners import EnvRunnerError, EnvRunnerGroup
    from .episodes import EpisodeWriter, read_episodes, record_episodes
    from .learner import Learner
    from .multi_agent import MultiAgentSampler
    from .ppo import PPO, PPOLearner
    from .sampler import VectorEnvSampler, make_sampler
