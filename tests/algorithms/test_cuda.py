"""The GPU paths: learners on CUDA, acting copies, checkpoints across devices, float16 and
bfloat16, CUDA graphs. Marked ``cuda`` and skipped without a GPU (CI has none);
``benchmarks/gpu_check.sh`` runs them on a GPU machine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rlmodules.algorithms import Algorithm, DQNConfig, PPOConfig, SACConfig
from rlmodules.algorithms.checkpoint import saved_config

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def ppo(**learners):
    return (PPOConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=4)
            .training(train_batch_size=128, minibatch_size=64, num_epochs=2)
            .rl_module(model_config={"fcnet_hiddens": [32]})
            .learners(**learners).debugging(seed=0))


def test_the_learner_trains_on_the_gpu_and_acts_with_a_synced_cpu_copy():
    algo = ppo(num_gpus_per_learner=1).build()
    try:
        assert all(p.device.type == "cuda" for p in algo.module.parameters())
        assert algo.acting.is_copy
        assert all(p.device.type == "cpu" for p in algo.acting.module.parameters())
        algo.train()
        state = algo.learner.optimizer.state[algo.learner.optimizer.param_groups[0]["params"][0]]
        assert state["exp_avg"].device.type == "cuda"
        algo.sync_acting_module()
        for name, tensor in algo.acting.module.state_dict().items():
            assert torch.equal(tensor, algo.module.state_dict()[name].cpu()), name
        assert np.isfinite(algo.evaluate(num_episodes=2)["episode_return_mean"])
    finally:
        algo.stop()


def test_gpu_checkpoints_load_on_the_cpu_and_cpu_ones_on_the_gpu(tmp_path):
    algo = ppo(num_gpus_per_learner=1).build()
    algo.train()
    path = algo.save_to_path(tmp_path / "gpu")
    weights = {k: v.cpu() for k, v in algo.module.state_dict().items()}
    algo.stop()
    on_cpu = Algorithm.from_checkpoint(
        path, config=saved_config(path).learners(num_gpus_per_learner=0))
    try:
        for name, tensor in on_cpu.module.state_dict().items():
            assert tensor.device.type == "cpu" and torch.equal(tensor, weights[name])
        on_cpu.train()
        cpu_path = on_cpu.save_to_path(tmp_path / "cpu")
        cpu_weights = {k: v.clone() for k, v in on_cpu.module.state_dict().items()}
    finally:
        on_cpu.stop()
    back = Algorithm.from_checkpoint(
        cpu_path, config=saved_config(cpu_path).learners(num_gpus_per_learner=1))
    try:
        for name, tensor in back.module.state_dict().items():
            assert tensor.device.type == "cuda" and torch.equal(tensor.cpu(), cpu_weights[name])
        back.train()
    finally:
        back.stop()


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed", "auto"])
def test_mixed_precision_on_the_gpu(precision):
    algo = ppo(num_gpus_per_learner=1, precision=precision).build()
    try:
        assert (algo.learner.grad_scaler is not None) == (precision == "16-mixed")
        for _ in range(3):
            result = algo.train()
        assert np.isfinite(result["learner/total_loss"])
        assert all(p.dtype == torch.float32 for p in algo.module.parameters())
    finally:
        algo.stop()


def test_compiled_sac_on_the_gpu_runs_under_cuda_graphs():
    algo = (SACConfig().environment("Pendulum-v1")
            .rl_module(model_config={"fcnet_hiddens": [64, 64]})
            .training(train_batch_size=64, num_steps_sampled_before_learning_starts=64,
                      min_sample_timesteps_per_iteration=128, training_intensity=64)
            .learners(num_gpus_per_learner=1).framework(torch_compile_learner=True)
            .debugging(seed=0).build())
    try:
        assert algo.learner._cudagraphs
        for _ in range(3):
            result = algo.train()
        assert result["num_gradient_steps"] > 0 and np.isfinite(result["qf_loss"])
        assert result["time_compile_s"] > 0
    finally:
        algo.stop()


def test_dqn_with_prioritized_replay_on_the_gpu():
    algo = (DQNConfig().environment("CartPole-v1")
            .training(train_batch_size=32, num_steps_sampled_before_learning_starts=64,
                      min_sample_timesteps_per_iteration=128,
                      replay_buffer_config={"type": "prioritized", "capacity": 1000})
            .learners(num_gpus_per_learner=1).debugging(seed=0).build())
    try:
        for _ in range(2):
            result = algo.train()
        assert result["num_gradient_steps"] > 0 and np.isfinite(result["qf_loss"])
    finally:
        algo.stop()


def test_samplers_may_act_on_the_gpu():
    algo = ppo(num_gpus_per_learner=1).env_runners(num_gpus_per_env_runner=1).build()
    try:
        assert not algo.acting.is_copy  # one module on the GPU, nothing to sync
        result = algo.train()
        assert result["num_env_steps_sampled_lifetime"] == 128
    finally:
        algo.stop()
