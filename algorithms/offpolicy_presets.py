"""Tuned DQN and SAC settings for well-known envs, used by ``rlmodules train --algo dqn|sac``
when no config file is given (RL Baselines3 Zoo's published hyper-parameters, in RLlib's
names: SB3's ``train_freq`` is ``rollout_fragment_length``, its ``gradient_steps`` become
``training_intensity = gradient_steps * batch_size / train_freq``)."""

from __future__ import annotations

from typing import Any

from .presets import _fill

__all__ = ["OFF_POLICY_PRESETS", "offpolicy_preset_for"]

#: algorithm -> env id -> config-file-style settings (``TIMESTEPS``: where the run ends).
OFF_POLICY_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "dqn": {
        "CartPole-v1": {
            "env_runners": {"num_envs_per_env_runner": 1, "rollout_fragment_length": 256},
            "training": {
                "lr": 2.3e-3, "train_batch_size": 64, "gamma": 0.99, "grad_clip": 10.0,
                "replay_buffer_config": {"type": "uniform", "capacity": 100_000},
                "num_steps_sampled_before_learning_starts": 1000,
                "target_network_update_freq": 10, "tau": 1.0, "training_intensity": 32,
                "epsilon": [[0, 1.0], [8000, 0.04]],
                "min_sample_timesteps_per_iteration": 1024,
            },
            "rl_module": {"model_config": {"fcnet_hiddens": [256, 256],
                                           "fcnet_activation": "relu"}},
        },
    },
    "sac": {
        "Pendulum-v1": {
            "env_runners": {"num_envs_per_env_runner": 1, "rollout_fragment_length": 1},
            "training": {
                "actor_lr": 1e-3, "critic_lr": 1e-3, "alpha_lr": 1e-3,
                "train_batch_size": 256, "gamma": 0.99, "tau": 0.005,
                "replay_buffer_config": {"type": "uniform", "capacity": 1_000_000},
                "num_steps_sampled_before_learning_starts": 100,
                "training_intensity": 256, "min_sample_timesteps_per_iteration": 1000,
            },
            "rl_module": {"model_config": {"fcnet_hiddens": [256, 256],
                                           "fcnet_activation": "relu"}},
        },
    },
}


def offpolicy_preset_for(algo: str, env: str, timesteps: int) -> dict[str, Any]:
    """The ``algo`` preset for ``env`` with schedules ending at ``timesteps`` ({} if none)."""
    return _fill(OFF_POLICY_PRESETS.get(algo, {}).get(env, {}), timesteps)
