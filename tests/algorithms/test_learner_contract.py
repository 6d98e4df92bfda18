"""One Learner contract for both families: every gradient step of PPO, BC, DQN and SAC
passes the same device, precision and loss hooks; optimizers per part with their own
learning rates; optimizer state checked whole; the families are siblings over one base."""

import contextlib

import pytest
import torch
from rlmodules.algorithms import (
    DQN,
    PPO,
    SAC,
    Algorithm,
    DQNConfig,
    Learner,
    OffPolicyAlgorithm,
    OffPolicyLearner,
    OnPolicyAlgorithm,
    OnPolicyLearner,
    PPOConfig,
    SACConfig,
)
from rlmodules.errors import CheckpointError


def ppo():
    return (PPOConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=2, num_threads=1)
            .training(train_batch_size=64, minibatch_size=16, num_epochs=2)
            .rl_module(model_config={"fcnet_hiddens": [16]}).debugging(seed=0).build())


def dqn():
    return (DQNConfig().environment("CartPole-v1").env_runners(num_threads=1)
            .training(train_batch_size=16, num_steps_sampled_before_learning_starts=50,
                      min_sample_timesteps_per_iteration=100, training_intensity=4)
            .rl_module(model_config={"fcnet_hiddens": [16]}).debugging(seed=0).build())


def sac(**training):
    return (SACConfig().environment("Pendulum-v1").env_runners(num_threads=1)
            .training(**{"train_batch_size": 16, "num_steps_sampled_before_learning_starts": 50,
                         "min_sample_timesteps_per_iteration": 100, **training})
            .rl_module(model_config={"fcnet_hiddens": [16]}).debugging(seed=0).build())


def count_hooks(learner):
    """Count the batches and steps passing the learner's device and precision hooks."""
    counts = {"to_device": 0, "autocast": 0}
    to_device = learner.to_device

    def counted_to_device(batch):
        counts["to_device"] += 1
        return to_device(batch)

    def counted_autocast():
        counts["autocast"] += 1
        return contextlib.nullcontext()

    learner.to_device = counted_to_device
    learner.autocast = counted_autocast
    return counts


def test_the_algorithms_are_two_sibling_families_over_one_base():
    assert issubclass(PPO, OnPolicyAlgorithm) and issubclass(DQN, OffPolicyAlgorithm)
    assert issubclass(SAC, OffPolicyAlgorithm) and not issubclass(SAC, OnPolicyAlgorithm)
    assert not issubclass(OffPolicyAlgorithm, OnPolicyAlgorithm)
    assert issubclass(OnPolicyAlgorithm, Algorithm) and issubclass(OffPolicyAlgorithm, Algorithm)
    assert issubclass(OnPolicyLearner, Learner) and issubclass(OffPolicyLearner, Learner)


@pytest.mark.parametrize(("build", "steps_key", "one_batch"), [
    (ppo, "learner/num_minibatch_steps", True),  # the sampled batch enters the learner once
    (dqn, "num_gradient_steps", False),  # each replayed batch enters it
    (sac, "num_gradient_steps", False),
])
def test_every_gradient_step_passes_the_device_and_precision_hooks(build, steps_key, one_batch):
    algo = build()
    try:
        counts = count_hooks(algo.learner)
        result = algo.train()
    finally:
        algo.stop()
    steps = result[steps_key]
    assert steps > 0 and counts == {"to_device": 1 if one_batch else steps, "autocast": steps}


def test_sac_has_an_optimizer_per_part_with_its_own_learning_rate():
    algo = sac(actor_lr=[[0, 1e-3], [1000, 0.0]], critic_lr=2e-3, alpha_lr=5e-4)
    try:
        algo.train()
        parts = algo.learner.parts
        assert list(parts) == ["critic", "actor", "alpha"]
        assert parts["actor"].optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.9)
        assert parts["critic"].optimizer.param_groups[0]["lr"] == 2e-3
        assert parts["alpha"].names == ["log_alpha"]
        tensors, data = algo.learner.get_optimizer_state()
        assert data["parts"] == ["critic", "actor", "alpha"]
        assert "alpha/log_alpha::exp_avg" in tensors
        with pytest.raises(AttributeError, match=r"one optimizer per part \['critic', "
                                                 r"'actor', 'alpha'\]"):
            algo.learner.optimizer  # noqa: B018
    finally:
        algo.stop()
    other = ppo()
    try:
        with pytest.raises(CheckpointError, match=r"^the checkpoint has optimizers for "
                           r"\['critic', 'actor', 'alpha'\], this learner \['learner'\]; it "
                           r"was saved by another algorithm or module$"):
            other.learner.checked_optimizer_state(tensors, data)
    finally:
        other.stop()


def test_extra_parameter_groups_are_refused():
    algo = ppo()
    try:
        tensors, data = algo.learner.get_optimizer_state()
        data = {**data, "param_groups": data["param_groups"] * 2}
        with pytest.raises(CheckpointError,
                           match=r"^optimizer state has 2 parameter groups, expected 1$"):
            algo.learner.set_optimizer_state(tensors, data)
    finally:
        algo.stop()


def test_a_replaced_parameter_is_named_in_both_families():
    for build in (ppo, dqn):
        algo = build()
        try:
            with torch.no_grad():
                param = next(iter(algo.get_module().parameters()))
                param.data = param.data.clone()
            with pytest.raises(RuntimeError, match="the module's parameters were replaced"):
                for _ in range(3):
                    algo.train()
        finally:
            algo.stop()
