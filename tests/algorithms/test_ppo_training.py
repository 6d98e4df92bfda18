"""PPO end to end: CartPole solved, learner semantics, modules without a critic."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import Columns, MultiRLModule, RLModuleSpec, TorchRLModule
from rlmodules.algorithms import PPOConfig, PPOLearner

CARTPOLE_STEPS = 100_000


def zoo_cartpole(seed, timesteps=CARTPOLE_STEPS):
    """RL Baselines3 Zoo's CartPole-v1 PPO settings."""
    return (
        PPOConfig()
        .environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=8, num_threads=1)
        .training(lr=[[0, 1e-3], [timesteps, 0.0]], clip_param=[[0, 0.2], [timesteps, 0.0]],
                  train_batch_size=256, minibatch_size=256, num_epochs=20, gamma=0.98,
                  lambda_=0.8, entropy_coeff=0.0)
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
        .debugging(seed=seed)
    )


def test_cartpole_greedy_policy_reaches_475():
    algo = zoo_cartpole(seed=0).build()
    best = -math.inf
    while algo.timesteps < 60_000 and best < 475:
        result = algo.train()
        if result["training_iteration"] % 10 == 0 and result["episode_return_mean"] > 150:
            best = algo.evaluate(num_episodes=8)["episode_return_mean"]
    algo.stop()
    assert best >= 475, f"greedy return {best} after {algo.timesteps} steps"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cartpole_100_episode_mean_reaches_475(seed):
    algo = zoo_cartpole(seed).build()
    result = {"episode_return_mean": 0.0}
    while algo.timesteps < CARTPOLE_STEPS and result["episode_return_mean"] < 475:
        result = algo.train()
    algo.stop()
    assert result["episode_return_mean"] >= 475, result


@pytest.mark.slow
def test_pendulum_improves_clearly_in_a_short_run():
    algo = (
        PPOConfig()
        .environment("Pendulum-v1")
        .env_runners(num_envs_per_env_runner=4, num_threads=1)
        .training(lr=1e-3, train_batch_size=4096, minibatch_size=64, num_epochs=10,
                  gamma=0.9, lambda_=0.95)
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
        .debugging(seed=0)
        .build()
    )
    before = algo.evaluate(num_episodes=8)["episode_return_mean"]
    for _ in range(25):  # 100k steps
        algo.train()
    after = algo.evaluate(num_episodes=8)["episode_return_mean"]
    algo.stop()
    assert after > before + 500 and after > -500, (before, after)


class NoCritic(TorchRLModule):
    """A plain policy-gradient module: no compute_values."""

    def setup(self):
        self.pi = torch.nn.Linear(self.observation_space.shape[0], self.action_space.n)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


def test_module_without_compute_values_trains_with_a_zero_baseline():
    algo = (
        PPOConfig().environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=4, num_threads=1)
        .training(train_batch_size=512, minibatch_size=128, num_epochs=4, lr=0.01)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=NoCritic))
        .debugging(seed=0)
        .build()
    )
    first = algo.train()
    for _ in range(14):
        last = algo.train()
    algo.stop()
    assert "default_policy/vf_loss" not in last and "default_policy/policy_loss" in last
    assert last["episode_return_mean"] > first["episode_return_mean"] + 20


class SharedEncoderMulti(MultiRLModule):
    def setup(self):
        super().setup()
        self.shared = torch.nn.Linear(4, 4)

    def _forward_train(self, batch, **kwargs):
        return {
            mid: self[mid].forward_train({**b, Columns.OBS: self.shared(b[Columns.OBS])})
            for mid, b in batch.items()
        }


def _rollout(steps=8, slots=2):
    return {
        "obs": torch.randn(steps + 1, slots, 4),
        "actions": torch.randint(0, 2, (steps, slots)),
        "action_logp": torch.full((steps, slots), math.log(0.5)),
        "rewards": torch.ones(steps, slots),
        "terminateds": torch.zeros(steps, slots, dtype=torch.bool),
        "truncateds": torch.zeros(steps, slots, dtype=torch.bool),
        "loss_mask": torch.ones(steps, slots, dtype=torch.bool),
    }


def test_learner_steps_once_per_minibatch_over_all_modules():
    space = gym.spaces.Box(-1, 1, (4,))
    specs = {mid: RLModuleSpec(module_class=NoCritic) for mid in ("p0", "p1")}
    multi = SharedEncoderMulti(observation_space=space, action_space=gym.spaces.Discrete(2),
                               rl_module_specs=specs)
    config = PPOConfig().training(num_epochs=3, minibatch_size=16, train_batch_size=16)
    learner = PPOLearner(module=multi, config=config, generator=torch.Generator().manual_seed(0))
    before = multi.shared.weight.detach().clone()
    metrics = learner.update({"p0": _rollout(), "p1": _rollout(steps=4)}, timestep=0)
    assert metrics["learner/num_minibatch_steps"] == 3  # one summed step per minibatch
    optimizer_state, _ = learner.get_optimizer_state()
    assert optimizer_state["shared.weight::step"].item() == 3
    assert not torch.equal(before, multi.shared.weight)
    assert {"p0/policy_loss", "p1/policy_loss"} <= set(metrics)


def test_stateful_module_trains_on_padded_sequences():
    algo = (
        PPOConfig().environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=2, num_threads=1)
        .training(train_batch_size=128, minibatch_size=32, num_epochs=2)
        .rl_module(model_config={"use_lstm": True, "lstm_cell_size": 16, "fcnet_hiddens": [16],
                                 "max_seq_len": 8})
        .debugging(seed=0)
        .build()
    )
    assert algo.get_module().is_stateful()
    before = [p.detach().clone() for p in algo.get_module().parameters()]
    result = algo.train()
    algo.stop()
    assert np.isfinite(result["default_policy/vf_loss"])
    assert result["learner/num_minibatch_steps"] >= 2 * 128 // 32
    assert any(not torch.equal(a, b) for a, b in zip(before, algo.get_module().parameters()))


def test_evaluation_interval_adds_greedy_evaluation_results():
    algo = (
        PPOConfig().environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=2, num_threads=1)
        .training(train_batch_size=64, minibatch_size=32, num_epochs=1)
        .evaluation(evaluation_interval=2, evaluation_duration=3)
        .debugging(seed=0)
        .build()
    )
    assert "evaluation" not in algo.train()
    evaluation = algo.train()["evaluation"]
    algo.stop()
    assert evaluation["num_episodes"] == 3 and evaluation["episode_len_mean"] >= 8
    assert evaluation["episode_return_mean"] == evaluation["episode_len_mean"]  # CartPole
