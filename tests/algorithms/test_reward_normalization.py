"""Reward normalisation (SB3's VecNormalize(norm_reward=True)) for PPO."""

import json

import numpy as np
import pytest
import torch
from rlmodules.algorithms import Algorithm, DQNConfig, PPOConfig
from rlmodules.algorithms.reward_normalization import RewardNormalizer
from rlmodules.envs import MultiAgentCartPole
from rlmodules.errors import CheckpointError, ConfigError


def _rollout(rewards, done, valid=None):
    rewards = torch.tensor(rewards, dtype=torch.float32)
    done = torch.tensor(done)
    return {"rewards": rewards, "terminateds": done, "truncateds": torch.zeros_like(done),
            "loss_mask": torch.ones_like(done) if valid is None else torch.tensor(valid)}


def test_rewards_are_divided_by_the_std_of_the_discounted_returns():
    normalizer = RewardNormalizer(gamma=0.5)
    # One env: rewards 1, 1, 1 then the episode ends; then 2 in a new episode.
    out = normalizer.normalize(_rollout([[1.0], [1.0], [1.0], [2.0]],
                                        [[False], [False], [True], [False]]))
    returns = np.array([1.0, 1.5, 1.75, 2.0])  # G <- 0.5 G + r, reset after the end
    batch_var = returns.var()
    # RunningMeanStd starts from mean 0, var 1, count 1e-4 and merges the batch.
    count = 1e-4 + 4
    delta = returns.mean()
    var = (1e-4 * 1.0 + 4 * batch_var + delta ** 2 * 1e-4 * 4 / count) / count
    expected = np.array([1.0, 1.0, 1.0, 2.0]) / np.sqrt(var + 1e-8)
    assert np.allclose(out[:, 0].numpy(), expected, rtol=1e-5)
    # Rows outside an episode keep their reward and feed no statistics.
    kept = normalizer.normalize(_rollout([[5.0]], [[False]], valid=[[False]]))
    assert kept.item() == 5.0 and normalizer.stats.count == pytest.approx(count)


def test_large_rewards_are_clipped():
    normalizer = RewardNormalizer(gamma=0.99, clip=2.0)
    normalizer.stats.var = np.float64(1e-6)
    normalizer.stats.count = 1e6
    out = normalizer.normalize(_rollout([[100.0, -100.0]], [[False, False]]))
    assert out.tolist() == [[2.0, -2.0]]


def test_ppo_learns_from_normalised_rewards_and_reports_raw_returns(tmp_path):
    config = (PPOConfig().environment("CartPole-v1")
              .env_runners(num_envs_per_env_runner=2, normalize_rewards=True)
              .training(train_batch_size=256, minibatch_size=128, num_epochs=1)
              .debugging(seed=0))
    algo = config.build()
    result = algo.train()
    # CartPole pays 1 per step: raw returns equal episode lengths.
    assert result["episode_return_mean"] == result["episode_len_mean"]
    assert algo.reward_normalizer.stats.count > 200
    path = algo.save_to_path(tmp_path / "ckpt")
    stats = algo.reward_normalizer.state()[0]
    algo.stop()
    restored = Algorithm.from_checkpoint(path)
    assert all(torch.equal(a, b) for a, b in zip(stats.values(),
                                                 restored.reward_normalizer.state()[0].values()))
    restored.train()
    restored.stop()
    state = json.loads((path / "algorithm_state.json").read_text())
    assert state["reward_normalization"] == {"gamma": 0.99, "clip": 10.0, "epsilon": 1e-8}


def test_a_checkpoint_without_return_statistics_is_refused_when_asked_for(tmp_path):
    plain = PPOConfig().environment("CartPole-v1").training(
        train_batch_size=64, minibatch_size=64)
    path = plain.build().save_to_path(tmp_path / "plain")
    with pytest.raises(CheckpointError, match="holds no return statistics, but the config "
                                              "asks for normalize_rewards=True"):
        Algorithm.from_checkpoint(path, config=plain.copy().env_runners(normalize_rewards=True))


def test_where_reward_normalisation_does_not_apply_it_is_refused():
    with pytest.raises(ConfigError, match="DQNConfig replays raw rewards; set "
                                          "normalize_rewards=False"):
        DQNConfig().environment("CartPole-v1").env_runners(normalize_rewards=True).build()
    with pytest.raises(ConfigError, match="a multi-agent env needs normalize_rewards=False"):
        (PPOConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
         .env_runners(normalize_rewards=True).build())
    with pytest.raises(ConfigError, match="normalize_rewards must be True or False, got 1"):
        PPOConfig().environment("CartPole-v1").env_runners(normalize_rewards=1).validate()
