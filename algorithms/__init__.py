"""rlmodules.algorithms: the reference trainer (PPO, BC, DQN, SAC) built on the public
module API.

Two families over one base: :class:`Algorithm` (env, module, evaluation, checkpoints) with
the on-policy loop :class:`OnPolicyAlgorithm` (PPO, BC) and the off-policy loop
:class:`OffPolicyAlgorithm` (DQN, SAC), both training through one :class:`Learner`
contract; their configs build on :class:`AlgorithmConfig` likewise.

Importing this package is cheap (no torch): names are imported on first use.

Example::

    from rlmodules.algorithms import PPOConfig

    algo = PPOConfig().environment("CartPole-v1").env_runners(num_envs_per_env_runner=8).build()
    print(algo.train()["episode_return_mean"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "AlgorithmConfig": "algorithm_config",
    "OnPolicyConfig": "config",
    "PPOConfig": "config",
    "OffPolicyConfig": "offpolicy_config",
    "make_env_creator": "env_creation",
    "Algorithm": "algorithm",
    "OnPolicyAlgorithm": "onpolicy",
    "OffPolicyAlgorithm": "offpolicy",
    "PPO": "ppo",
    "Learner": "learner",
    "OnPolicyLearner": "onpolicy_learner",
    "OffPolicyLearner": "offpolicy_learner",
    "PPOLearner": "ppo",
    "make_sampler": "sampler",
    "VectorEnvSampler": "sampler",
    "BCConfig": "bc",
    "BC": "bc",
    "MultiAgentSampler": "multi_agent",
    "ObservationNormalizer": "obs_normalization",
    "EpisodeWriter": "episodes",
    "read_episodes": "episodes",
    "record_episodes": "episodes",
    "DQNConfig": "offpolicy_config",
    "SACConfig": "offpolicy_config",
    "DQN": "dqn",
    "SAC": "sac",
    "ReplayBuffer": "replay_buffer",
    "PrioritizedReplayBuffer": "replay_buffer",
    "EnvRunnerGroup": "env_runners",
    "EnvRunnerError": "env_runners",
    "LearnerGroup": "distributed_learner",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .algorithm import Algorithm
    from .algorithm_config import AlgorithmConfig
    from .bc import BC, BCConfig
    from .config import OnPolicyConfig, PPOConfig
    from .distributed_learner import LearnerGroup
    from .dqn import DQN
    from .env_creation import make_env_creator
    from .env_runners import EnvRunnerError, EnvRunnerGroup
    from .episodes import EpisodeWriter, read_episodes, record_episodes
    from .learner import Learner
    from .multi_agent import MultiAgentSampler
    from .obs_normalization import ObservationNormalizer
    from .offpolicy import OffPolicyAlgorithm
    from .offpolicy_config import DQNConfig, OffPolicyConfig, SACConfig
    from .offpolicy_learner import OffPolicyLearner
    from .onpolicy import OnPolicyAlgorithm
    from .onpolicy_learner import OnPolicyLearner
    from .ppo import PPO, PPOLearner
    from .replay_buffer import PrioritizedReplayBuffer, ReplayBuffer
    from .sac import SAC
    from .sampler import VectorEnvSampler, make_sampler
