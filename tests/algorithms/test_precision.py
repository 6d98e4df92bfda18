"""Mixed precision: the settings and their errors, "auto"'s choice, losses in fp32, and
bf16 training that learns as fp32 does."""

from __future__ import annotations

import time

import pytest
import torch
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms import precision as precision_module
from rlmodules.algorithms.precision import Precision, cpu_has_bf16, fp32
from rlmodules.errors import ConfigError

needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="needs a CPU with bf16 hardware")
CPU = torch.device("cpu")


def test_unknown_precision_names_the_choices():
    with pytest.raises(ConfigError) as info:
        PPOConfig().environment("CartPole-v1").learners(precision="bf16").validate()
    assert str(info.value) == (
        "learners(precision='bf16') is not known; use one of ('32-true', 'bf16-mixed', "
        "'16-mixed', 'auto')")


def test_float16_needs_a_gpu():
    with pytest.raises(ConfigError) as info:
        PPOConfig().environment("CartPole-v1").learners(precision="16-mixed").build()
    assert str(info.value) == (
        "precision='16-mixed' (float16 with a gradient scaler) needs a GPU and this learner "
        "runs on cpu; use 'bf16-mixed' on a CPU with bf16 hardware, or '32-true'")


def test_bf16_on_a_cpu_without_bf16_hardware_is_refused(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_has_bf16", lambda: False)
    with pytest.raises(ConfigError) as info:
        PPOConfig().environment("CartPole-v1").learners(precision="bf16-mixed").validate()
    assert str(info.value) == (
        "precision='bf16-mixed' needs bfloat16 hardware and this CPU (it has neither AMX nor "
        "AVX512-BF16) would emulate it slower than fp32; use precision='auto' (bf16 where it "
        "is faster) or '32-true'")
    assert Precision("auto", CPU).chosen == "32-true"  # auto: fp32 without measuring


@pytest.mark.parametrize("bf16_s, fp32_s, chosen", [(0.001, 0.006, "bf16-mixed"),
                                                    (0.006, 0.001, "32-true"),
                                                    (0.0058, 0.006, "32-true")])
def test_auto_keeps_bf16_only_where_it_is_clearly_faster(monkeypatch, bf16_s, fp32_s, chosen):
    monkeypatch.setattr(precision_module, "cpu_has_bf16", lambda: True)
    precision = Precision("auto", CPU)
    ran = []
    while precision.chosen is None:
        with precision.timed():
            ran.append(precision.current)
            time.sleep(bf16_s if precision.current == "bf16-mixed" else fp32_s)
    assert precision.chosen == chosen
    assert ran.count("32-true") == ran.count("bf16-mixed") == 5  # a warm-up + 4 timed each


def test_fp32_casts_low_precision_outputs_only():
    half = torch.ones(2, dtype=torch.bfloat16)
    full = torch.ones(2)
    ints = torch.ones(2, dtype=torch.int64)
    out = fp32({"a": half, "b": full, "c": ints, "d": [half]})
    assert out["a"].dtype == torch.float32 and out["d"][0].dtype == torch.float32
    assert out["b"] is full and out["c"] is ints


def zoo_cartpole(precision: str, seed: int):
    return (PPOConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=8, gym_env_vectorize_mode="vector_entry_point",
                         num_threads=1)
            .training(lr=1e-3, train_batch_size=256, minibatch_size=256, num_epochs=20,
                      gamma=0.98, lambda_=0.8)
            .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
            .learners(precision=precision).debugging(seed=seed))


@needs_bf16
def test_bf16_losses_are_computed_in_fp32_from_bf16_networks():
    algo = zoo_cartpole("bf16-mixed", 0).build()
    try:
        seen = {}
        original = algo.learner.compute_loss_for_module

        def spy(module_id, batch, fwd_out, timestep):
            seen["network"] = fwd_out["action_dist_inputs"].dtype
            loss, metrics = original(module_id, batch, fwd_out, timestep)
            seen["loss"] = loss.dtype
            return loss, metrics

        algo.learner.compute_loss_for_module = spy
        result = algo.train()
        assert seen == {"network": torch.bfloat16, "loss": torch.float32}
        assert all(p.dtype == torch.float32 for p in algo.module.parameters())  # fp32 master
        assert torch.isfinite(torch.tensor(result["learner/total_loss"]))
    finally:
        algo.stop()


def _mean_return_after(precision: str, seed: int, steps: int) -> float:
    algo = zoo_cartpole(precision, seed).build()
    try:
        result = {}
        while algo.timesteps < steps:
            result = algo.train()
        return result["episode_return_mean"]
    finally:
        algo.stop()


@needs_bf16
def test_bf16_training_learns_cartpole_as_fp32_does():
    """Same seed, same steps: bf16 reaches a return in fp32's range (both learn)."""
    fp32_return = _mean_return_after("32-true", 0, 20_480)
    bf16_return = _mean_return_after("bf16-mixed", 0, 20_480)
    assert fp32_return > 100 and bf16_return > 100, (fp32_return, bf16_return)
    assert bf16_return > 0.6 * fp32_return, (fp32_return, bf16_return)


@needs_bf16
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bf16_training_solves_cartpole(seed):
    algo = zoo_cartpole("bf16-mixed", seed).build()
    result = {"episode_return_mean": 0.0}
    try:
        while algo.timesteps < 120_000 and result["episode_return_mean"] < 475:
            result = algo.train()
    finally:
        algo.stop()
    assert result["episode_return_mean"] >= 475, result
