"""Tuned settings for well-known envs, per algorithm, used by ``rlmodules train`` when no
config file is given: RL Baselines3 Zoo's published hyper-parameters (PPO without its reward
normalisation or state-dependent exploration). DQN and SAC settings are in RLlib's names:
SB3's ``train_freq`` is ``rollout_fragment_length``, its ``gradient_steps`` become
``training_intensity = gradient_steps * batch_size / train_freq``."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "preset_for", "atari_preset", "NATURE_CNN"]

#: rl-zoo's MuJoCo policy: separate 256x256 ReLU actor and critic, log-std from -2.
_MUJOCO_MODEL: dict[str, Any] = {
    "fcnet_hiddens": [256, 256], "fcnet_activation": "relu", "vf_share_layers": False,
    "free_log_std": True, "log_std_init": -2.0,
}

#: PPO: env id -> config-file-style settings; ``TIMESTEPS`` marks where the run length goes.
_PPO: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        # gymnasium's own vectorised CartPole: the same dynamics, stepped as one array.
        "env_runners": {"num_envs_per_env_runner": 8,
                        "gym_env_vectorize_mode": "vector_entry_point"},
        "training": {
            "lr": [[0, 1e-3], ["TIMESTEPS", 0.0]],
            "clip_param": [[0, 0.2], ["TIMESTEPS", 0.0]],
            "train_batch_size": 256, "minibatch_size": 256, "num_epochs": 20,
            "gamma": 0.98, "lambda_": 0.8, "entropy_coeff": 0.0,
        },
        "rl_module": {"model_config": {"fcnet_hiddens": [64, 64], "vf_share_layers": False}},
    },
    "Pendulum-v1": {
        "env_runners": {"num_envs_per_env_runner": 4},
        "training": {
            "lr": 1e-3, "train_batch_size": 4096, "minibatch_size": 64, "num_epochs": 10,
            "gamma": 0.9, "lambda_": 0.95, "clip_param": 0.2, "entropy_coeff": 0.0,
        },
        "rl_module": {"model_config": {"fcnet_hiddens": [64, 64], "vf_share_layers": False}},
    },
    # MuJoCo (the `mujoco` extra): rl-zoo's tuned PPO, with its observation normalisation
    # (MeanStdFilter; rl-zoo also normalises rewards, which this trainer does not) and its
    # state-independent log-std starting at -2. rl-zoo's "ortho_init=False" is not kept.
    "HalfCheetah-v5": {
        "env_runners": {"num_envs_per_env_runner": 1, "observation_filter": "MeanStdFilter"},
        "training": {
            "lr": 2.0633e-05, "train_batch_size": 512, "minibatch_size": 64, "num_epochs": 20,
            "gamma": 0.98, "lambda_": 0.92, "clip_param": 0.1, "entropy_coeff": 0.000401762,
            "vf_loss_coeff": 0.58096, "grad_clip": 0.8,
        },
        "rl_module": {"model_config": _MUJOCO_MODEL},
    },
    "Hopper-v5": {
        "env_runners": {"num_envs_per_env_runner": 1, "observation_filter": "MeanStdFilter"},
        "training": {
            "lr": 9.80828e-05, "train_batch_size": 512, "minibatch_size": 32, "num_epochs": 5,
            "gamma": 0.999, "lambda_": 0.99, "clip_param": 0.2, "entropy_coeff": 0.00229519,
            "vf_loss_coeff": 0.835671, "grad_clip": 0.7,
        },
        "rl_module": {"model_config": _MUJOCO_MODEL},
    },
}
#: DQN (rl-zoo: train_freq 256, gradient_steps 128, batch 64).
_DQN: dict[str, dict[str, Any]] = {
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
        # The training return keeps epsilon's random actions in it: judge (and stop on)
        # greedy evaluations instead, as rl-zoo does.
        "evaluation": {"evaluation_interval_timesteps": 5000, "evaluation_duration": 10},
        "rl_module": {"model_config": {"fcnet_hiddens": [256, 256],
                                       "fcnet_activation": "relu"}},
    },
}
#: SAC (rl-zoo: train_freq 1, gradient_steps 1, batch 256).
_SAC: dict[str, dict[str, Any]] = {
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
}
#: algorithm (``rlmodules train --algo``) -> env id -> settings.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {"ppo": _PPO, "dqn": _DQN, "sac": _SAC}


def preset_for(env: str, timesteps: int, *, algo: str = "ppo") -> dict[str, Any]:
    """The ``algo`` preset for ``env`` with schedules ending at ``timesteps`` ({} if none);
    for PPO any ALE id (``"ALE/Pong-v5"``) gets :func:`atari_preset`."""
    from rlmodules.envs.atari import is_atari_id

    presets = PRESETS.get(algo, {})
    if algo == "ppo" and is_atari_id(env) and env not in presets:
        return _fill(atari_preset(env), timesteps)
    return _fill(presets.get(env, {}), timesteps)


def atari_preset(env_id: str) -> dict[str, Any]:
    """rl-zoo's Atari PPO on the preprocessed game (``rlmodules.envs.AtariEnv``; its
    evaluation plays whole games with true scores) with the Nature CNN: 8 envs x 128
    steps, 4 epochs of 256-sample minibatches, linearly decaying lr and clip range."""
    return {
        "environment": {"env": "rlmodules.envs:AtariEnv", "env_config": {"env_id": env_id}},
        "env_runners": {"num_envs_per_env_runner": 8},
        "training": {
            "lr": [[0, 2.5e-4], ["TIMESTEPS", 0.0]],
            "clip_param": [[0, 0.1], ["TIMESTEPS", 0.0]],
            "train_batch_size": 1024, "minibatch_size": 256, "num_epochs": 4,
            "gamma": 0.99, "lambda_": 0.95, "entropy_coeff": 0.01, "vf_loss_coeff": 0.5,
            "grad_clip": 0.5,
        },
        "evaluation": {"evaluation_config": {"env_config": {"training": False}}},
        # The Nature CNN (Mnih et al. 2015); the 7x7 "valid" convolution is its 512-unit
        # dense layer, shared by the policy and value heads.
        "rl_module": {"model_config": {
            "conv_filters": NATURE_CNN, "conv_data_format": "channels_first",
            "head_fcnet_hiddens": [], "vf_share_layers": True,
        }},
    }


#: ``conv_filters`` of the Nature CNN on 84x84 frames.
NATURE_CNN: list[list[Any]] = [
    [32, 8, 4, "valid"], [64, 4, 2, "valid"], [64, 3, 1, "valid"], [512, 7, 1, "valid"],
]


def _fill(value: Any, timesteps: int) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, timesteps) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, timesteps) for v in value]
    return timesteps if value == "TIMESTEPS" else value
