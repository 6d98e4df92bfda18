"""Data-parallel learners on torch.distributed (gloo): one learner's math, and training."""

from __future__ import annotations

import pytest
import torch
from rlmodules.algorithms import Algorithm, LearnerGroup, PPOConfig

pytestmark = pytest.mark.usefixtures("ray_cluster")


def config(learners: int) -> PPOConfig:
    # minibatch_size 100 over 300 rows: the shards of a minibatch differ in size (50/50 but
    # masked reset steps make the unmasked counts unequal).
    return (
        PPOConfig()
        .environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=4, num_threads=1)
        .learners(num_learners=learners)
        .training(lr=1e-3, train_batch_size=300, minibatch_size=100, num_epochs=3,
                  gamma=0.98, lambda_=0.8, entropy_coeff=0.01)
        .rl_module(model_config={"fcnet_hiddens": [32, 32], "vf_share_layers": False})
        .debugging(seed=3)
    )


def test_two_learners_make_the_same_update_as_one():
    one, two = config(0).build(), config(2).build()
    try:
        assert isinstance(two.learner, LearnerGroup)
        rollouts = one.sampler.sample(75)  # the same batch for both
        initial = [p.detach().clone() for p in one.module.parameters()]
        metrics_one = one.learner.update(rollouts, timestep=0)
        metrics_two = two.learner.update(rollouts, timestep=0)
        for (name, a), (_, b) in zip(one.module.named_parameters(),
                                     two.module.named_parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
        assert not all(torch.equal(a, b) for a, b in zip(initial, one.module.parameters()))
        for key in ("default_policy/policy_loss", "default_policy/vf_loss",
                    "learner/grad_norm", "learner/total_loss"):
            assert metrics_two[key] == pytest.approx(metrics_one[key], rel=1e-4, abs=1e-6)
        # The minibatch order advanced the same way.
        assert torch.equal(one.torch_generator.get_state(), two.torch_generator.get_state())
    finally:
        one.stop()
        two.stop()


def test_two_learners_train_cartpole_and_resume_with_one(tmp_path):
    algo = config(2).training(train_batch_size=512, minibatch_size=128, num_epochs=6).build()
    try:
        results = [algo.train() for _ in range(12)]
        path = algo.save_to_path(tmp_path / "ckpt")
        saved = [p.detach().clone() for p in algo.module.parameters()]
    finally:
        algo.stop()
    assert results[-1]["episode_return_mean"] >= 60.0 > results[0]["episode_return_mean"]
    resumed = Algorithm.from_checkpoint(path, config=config(0).training(
        train_batch_size=512, minibatch_size=128, num_epochs=6))
    try:
        for a, b in zip(saved, resumed.module.parameters()):
            assert torch.equal(a, b)
        assert resumed.iteration == 12
        after = resumed.train()
    finally:
        resumed.stop()
    assert after["episode_return_mean"] >= 40.0


def test_a_one_learner_checkpoint_restores_into_two_learners(tmp_path):
    one = config(0).build()
    try:
        one.train()
        path = one.save_to_path(tmp_path / "ckpt")
        saved, _ = one.learner.get_optimizer_state()
    finally:
        one.stop()
    two = config(2).build()
    try:
        two.restore_from_path(path)
        restored, _ = two.learner.get_optimizer_state()  # read back from the actors
        assert two.iteration == 1 and restored.keys() == saved.keys()
        assert all(torch.equal(restored[key], saved[key]) for key in saved)
        assert two.train()["training_iteration"] == 2
    finally:
        two.stop()


@pytest.mark.slow
def test_two_learners_match_one_for_a_recurrent_module():
    from rlmodules import RLModuleSpec, registry

    if "lstm" not in [record.name for record in registry.list("module")]:
        pytest.skip("rlmodules-lstm is not installed")

    def lstm(learners: int) -> PPOConfig:
        # Zero-padded chunks with loss masks: shards differ in unmasked steps.
        return (PPOConfig().environment("rlmodules.envs:StatelessCartPole")
                .env_runners(num_envs_per_env_runner=4, num_threads=1)
                .learners(num_learners=learners)
                .training(train_batch_size=256, minibatch_size=64, num_epochs=2)
                .rl_module(rl_module_spec=RLModuleSpec(
                    module_class="lstm", model_config={"lstm_cell_size": 16, "max_seq_len": 8}))
                .debugging(seed=1))

    one, two = lstm(0).build(), lstm(2).build()
    try:
        rollouts = one.sampler.sample(64)
        one.learner.update(rollouts, timestep=0)
        two.learner.update(rollouts, timestep=0)
        for (name, a), (_, b) in zip(one.module.named_parameters(),
                                     two.module.named_parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    finally:
        one.stop()
        two.stop()
