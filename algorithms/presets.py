"""Tuned PPO settings for well-known envs, used by ``rlmodules train`` when no config file
is given (RL Baselines3 Zoo's published hyper-parameters, without its observation
normalisation or state-dependent exploration)."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "preset_for"]

#: env id -> config-file-style settings; ``TIMESTEPS`` marks where the run length goes.
PRESETS: dict[str, dict[str, Any]] = {
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
}


def preset_for(env: str, timesteps: int) -> dict[str, Any]:
    """The preset for ``env`` with schedules ending at ``timesteps`` ({} if none)."""
    preset = PRESETS.get(env, {})
    return _fill(preset, timesteps)


def _fill(value: Any, timesteps: int) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, timesteps) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, timesteps) for v in value]
    return timesteps if value == "TIMESTEPS" else value
