"""Devices on a machine without a GPU: the learner on the CPU, the clear errors when a GPU
is asked for, the acting copy and its sync, and checkpoints that carry no device (the
GPU paths themselves are in test_cuda.py, marked ``cuda``)."""

from __future__ import annotations

import pytest
import torch
from rlmodules.algorithms import Algorithm, PPOConfig, SACConfig
from rlmodules.algorithms.devices import ActingModule
from rlmodules.algorithms.precision import cpu_has_bf16
from rlmodules.errors import ConfigError

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def small_ppo(**learners):
    return (PPOConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=2)
            .training(train_batch_size=64, minibatch_size=32, num_epochs=1)
            .rl_module(model_config={"fcnet_hiddens": [16]})
            .learners(**learners).debugging(seed=0))


@no_cuda
@pytest.mark.parametrize("method, setting", [("learners", "num_gpus_per_learner"),
                                             ("env_runners", "num_gpus_per_env_runner")])
def test_asking_for_a_gpu_without_cuda_is_our_error_at_build(method, setting):
    config = getattr(PPOConfig().environment("CartPole-v1"), method)(**{setting: 1})
    with pytest.raises(ConfigError) as info:
        config.build()
    message = str(info.value)
    assert message.startswith(f"{setting}=1 asks for a GPU, but CUDA is not available here "
                              f"(torch {torch.__version__}, ")
    assert message.endswith(
        f"train on the CPU ({setting}=0, or `rlmodules train --device cpu` / `--device "
        f"auto`), or install a CUDA build of torch on a machine with a GPU")


def test_more_than_one_gpu_per_learner_is_refused():
    with pytest.raises(ConfigError, match=r"num_gpus_per_learner must be a number in "
                                          r"\[0.0, 1.0\], got 2"):
        PPOConfig().environment("CartPole-v1").learners(num_gpus_per_learner=2).validate()


def test_gpu_acting_with_env_runner_actors_is_refused():
    config = PPOConfig().environment("CartPole-v1").env_runners(
        num_env_runners=1, num_gpus_per_env_runner=1)
    with pytest.raises(ConfigError, match="env runner actors .num_env_runners >= 1. act on "
                                          "CPUs. Set num_gpus_per_env_runner=0"):
        config.validate()


def test_the_learner_trains_on_the_cpu_and_acts_with_its_own_module():
    algo = small_ppo().build()
    try:
        assert algo.learner.device == torch.device("cpu")
        assert not algo.acting.is_copy  # same device, nothing wrapped: no copy to sync
        assert algo.sampler.module is algo.module["default_policy"]
        batch = {"x": torch.ones(2)}
        assert algo.learner.to_device(batch) is batch
        algo.train()
    finally:
        algo.stop()


@pytest.mark.skipif(not cpu_has_bf16(), reason="needs a CPU with bf16 hardware")
def test_an_acting_copy_follows_the_learner_with_one_copy_per_buffer():
    algo = small_ppo(precision="bf16-mixed").build()  # bf16 acting wraps a copy
    try:
        acting = algo.acting
        assert acting.is_copy
        source = algo.module["default_policy"]
        # The algorithm's module keeps its own forwards; the copy's are wrapped.
        assert "_forward_exploration" not in vars(source)
        assert "_forward_exploration" in vars(acting.module["default_policy"])
        algo.train()  # syncs, samples, learns: the copy is now one update behind
        stale = dict(acting.module.named_parameters())
        learned = dict(algo.module.named_parameters())
        assert any(not torch.equal(stale[k], learned[k]) for k in learned)
        algo.sync_acting_module()
        for name, tensor in acting.module.named_parameters():
            assert torch.equal(tensor, learned[name]), name
        # Every trained parameter of the copy is a view of one flat buffer.
        storages = {p.untyped_storage().data_ptr() for p in acting.module.parameters()}
        assert len(storages) == 1
    finally:
        algo.stop()


def test_acting_copy_of_a_module_with_frozen_tensors_copies_them_too():
    """SAC's target critics are not trained by any optimizer: they sync one by one."""
    config = (SACConfig().environment("Pendulum-v1")
              .rl_module(model_config={"fcnet_hiddens": [8]})
              .training(train_batch_size=8, num_steps_sampled_before_learning_starts=8,
                        min_sample_timesteps_per_iteration=16).debugging(seed=0))
    algo = config.build()
    try:
        acting = ActingModule(algo.module, torch.device("cpu"), config, copy_always=True)
        assert acting.is_copy
        algo.train()
        acting.sync(algo.learner)
        for name, tensor in algo.module.state_dict().items():
            assert torch.equal(acting.module.state_dict()[name], tensor), name
        algo.train()  # the learner's buffers moved on; one sync brings the copy along
        acting.sync(algo.learner)
        for name, tensor in algo.module.state_dict().items():
            assert torch.equal(acting.module.state_dict()[name], tensor), name
    finally:
        algo.stop()


def test_checkpoints_hold_cpu_tensors_and_load_with_another_device_setting(tmp_path):
    algo = small_ppo().build()
    algo.train()
    path = algo.save_to_path(tmp_path / "ckpt")
    weights = {k: v.clone() for k, v in algo.module.state_dict().items()}
    algo.stop()
    from safetensors import safe_open

    for file in path.rglob("*.safetensors"):
        with safe_open(str(file), "pt") as f:
            for key in f.keys():
                assert f.get_tensor(key).device.type == "cpu"
    from rlmodules.algorithms.checkpoint import saved_config

    config = saved_config(path).learners(num_gpus_per_learner=0, precision="auto")
    restored = Algorithm.from_checkpoint(path, config=config)
    try:
        for name, tensor in restored.module.state_dict().items():
            assert torch.equal(tensor, weights[name])
        restored.train()
    finally:
        restored.stop()
