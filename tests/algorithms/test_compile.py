"""Compiled learner updates and acting forwards: the same numbers as eager, the compile
time reported, loud fallbacks, and the settings' errors."""

from __future__ import annotations

import pytest
import torch
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.compiling import (
    CompileClock,
    CompileFallbackWarning,
    TorchCompileConfig,
    compiled,
)
from rlmodules.errors import ConfigError


def tiny_ppo(**framework):
    return (PPOConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=2)
            .training(train_batch_size=32, minibatch_size=32, num_epochs=1)
            .rl_module(model_config={"fcnet_hiddens": [8]})
            .framework(**framework).debugging(seed=0))


@pytest.mark.parametrize("settings, message", [
    ({"framework": "tf2"},
     "framework='tf2': rlmodules trains with PyTorch only; use framework='torch' (or leave "
     "it out)"),
    ({"torch_compile_learner": "yes"}, "torch_compile_learner must be True or False, got 'yes'"),
    ({"torch_compile_worker_dynamo_mode": "fast"},
     "torch_compile_worker_dynamo_mode='fast' is not a torch.compile mode; use one of (None, "
     "'default', 'reduce-overhead', 'max-autotune', 'max-autotune-no-cudagraphs')"),
])
def test_bad_framework_settings_are_named(settings, message):
    with pytest.raises(ConfigError) as info:
        tiny_ppo(**settings).validate()
    assert str(info.value) == message


def test_rllib_names_give_torch_compile_configs():
    config = PPOConfig().framework(torch_compile_learner=True,
                                   torch_compile_learner_dynamo_mode="max-autotune")
    assert config.get_torch_compile_learner_config() == TorchCompileConfig(
        torch_dynamo_backend="inductor", torch_dynamo_mode="max-autotune")
    assert config.torch_compile_learner is True
    again = PPOConfig.from_dict(config.environment("CartPole-v1").to_dict())
    assert again.framework_settings == config.framework_settings


def test_compiled_update_and_acting_match_eager(one_torch_thread):
    eager = tiny_ppo().build()
    fast = tiny_ppo(torch_compile_learner=True, torch_compile_worker=True).build()
    try:
        assert fast.acting.is_copy  # the compiled acting forward wraps a copy
        fast.sync_acting_module()
        # Same seeds, same weights: the compiled acting forward picks the same actions.
        torch.manual_seed(1)
        rollouts = eager.sampler.sample(16)["default_policy"]
        torch.manual_seed(1)
        same = fast.sampler.sample(16)["default_policy"]
        assert torch.equal(rollouts["actions"], same["actions"])
        torch.testing.assert_close(rollouts["action_logp"], same["action_logp"])
        # One update's loss and gradients on the same minibatch, eager and compiled.
        rows, _ = eager.learner.prepare({"default_policy": rollouts})
        grads = []
        for algo in (eager, fast):
            loss, _ = algo.learner._compute_losses(rows, 0)
            for part in algo.learner.parts.values():
                part.flat.zero_grad()
            loss.backward()
            grads.append((loss.detach(), algo.learner.optimizer.param_groups[0]["params"][0]
                          .grad.clone()))
        torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-6)
        result = fast.train()
        assert result["time_compile_s"] > 0 and "time_compile_s" not in eager.train()
    finally:
        eager.stop()
        fast.stop()


def test_a_compiler_failure_warns_and_runs_eagerly():
    def failing_backend(graph, example_inputs):
        raise RuntimeError("no C++ compiler here")

    calls = []

    def add_one(x):
        calls.append(1)
        return x + 1

    clock = CompileClock()
    fn = compiled(add_one, TorchCompileConfig(torch_dynamo_backend=failing_backend), clock,
                  what="test function")
    with pytest.warns(CompileFallbackWarning, match="torch.compile could not compile the test "
                                                    "function .* it runs eagerly from now on"):
        assert torch.equal(fn(torch.zeros(2)), torch.ones(2))
    assert torch.equal(fn(torch.ones(2)), torch.full((2,), 2.0))  # eager, no second warning
    assert clock.seconds > 0


def test_errors_of_the_function_itself_are_not_swallowed():
    def bad(x):
        raise KeyError("missing column")

    fn = compiled(bad, TorchCompileConfig(), CompileClock(), what="test function")
    with pytest.raises(KeyError, match="missing column"):
        fn(torch.zeros(1))
