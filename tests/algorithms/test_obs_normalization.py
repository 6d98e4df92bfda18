"""Observation normalisation (MeanStdFilter): statistics, checkpoints, evaluation."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.algorithm import Algorithm
from rlmodules.algorithms.obs_normalization import ObservationNormalizer
from rlmodules.envs import MultiAgentCartPole
from rlmodules.errors import CheckpointError, ConfigError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BOX = gym.spaces.Box(-np.inf, np.inf, (3,))


def test_batches_fold_into_the_statistics_of_all_the_data():
    rng = np.random.default_rng(0)
    data = rng.normal([1.0, -2.0, 5.0], [0.5, 2.0, 10.0], size=(3000, 3))
    normalizer = ObservationNormalizer(BOX)
    for batch in np.split(data, 30):
        normalizer.update(batch)
    assert np.allclose(normalizer.stats.mean, data.mean(0), atol=1e-3)
    assert np.allclose(normalizer.stats.var, data.var(0), rtol=1e-3)
    out = normalizer.normalize(data)
    assert out.dtype == np.float32
    expected = np.clip((data - data.mean(0)) / np.sqrt(data.var(0) + 1e-8), -10, 10)
    assert np.allclose(out, expected, atol=1e-3)
    assert normalizer.normalize(np.array([[1e6, 0.0, 0.0]]))[0, 0] == 10.0  # clipped


def test_only_box_observations_are_normalised():
    with pytest.raises(ConfigError, match=r"normalises Box observations; got Discrete\(3\)"):
        ObservationNormalizer(gym.spaces.Discrete(3))
    with pytest.raises(ConfigError, match="observation_filter='MeanStdFilter' normalises a "
                                          "single-agent env's observations"):
        (PPOConfig().environment(MultiAgentCartPole)
         .env_runners(observation_filter="MeanStdFilter").build())
    with pytest.raises(ConfigError, match=r"keeps its statistics in the training process, so "
                                          r"it samples there: set num_env_runners=0"):
        (PPOConfig().environment("Pendulum-v1")
         .env_runners(observation_filter="MeanStdFilter", num_env_runners=1).build())
    with pytest.raises(ConfigError, match=r"observation_filter='Mean' is not known; use "
                                          r"'NoFilter' or 'MeanStdFilter'"):
        PPOConfig().environment("CartPole-v1").env_runners(observation_filter="Mean").build()


def test_statistics_train_with_the_policy_are_checkpointed_and_frozen_in_evaluation(
        tmp_path, capsys):
    algo = (PPOConfig().environment("Pendulum-v1")
            .env_runners(num_envs_per_env_runner=2, observation_filter="MeanStdFilter")
            .training(train_batch_size=200, minibatch_size=100, num_epochs=1)
            .debugging(seed=0).build())
    algo.train()
    rollout = algo.sampler.sample(4)["default_policy"]
    assert float(rollout["obs"].abs().max()) <= 10.0  # the learner sees normalised obs
    count = algo.obs_normalizer.stats.count
    assert count > 200
    algo.evaluate(num_episodes=1)
    assert algo.obs_normalizer.stats.count == count  # evaluation does not update
    path = algo.save_to_path(tmp_path / "ckpt")
    saved = ObservationNormalizer.from_checkpoint(path)  # what an exporter reads
    assert np.array_equal(saved.stats.mean, algo.obs_normalizer.stats.mean)
    assert saved.stats.count == count and saved.clip == 10.0
    restored = Algorithm.from_checkpoint(path)
    assert np.allclose(restored.obs_normalizer.stats.mean, saved.stats.mean, atol=0.05)
    assert math.isfinite(restored.evaluate(num_episodes=1)["episode_return_mean"])
    algo.stop()
    restored.stop()
    from rlmodules.cli import main

    capsys.readouterr()
    # recording on raw observations refuses, never acts wrongly (export bakes the statistics
    # in: contrib/rlmodules-onnx's tests)
    assert main(["record", str(path), "--episodes", "1", "--out", str(tmp_path / "e")]) == 1
    assert ("was trained with observation_filter='MeanStdFilter': its module expects "
            "normalised observations, which recording does not apply yet"
            ) in capsys.readouterr().err


def test_a_checkpoint_without_statistics_fails_clearly_when_the_config_wants_them(tmp_path):
    config = (PPOConfig().environment("Pendulum-v1")
              .training(train_batch_size=64, minibatch_size=64, num_epochs=1))
    path = config.build().save_to_path(tmp_path / "plain")
    assert ObservationNormalizer.from_checkpoint(path) is None
    wanting = config.copy().env_runners(observation_filter="MeanStdFilter")
    with pytest.raises(CheckpointError, match="holds no observation statistics, but the config "
                                              "asks for observation_filter='MeanStdFilter'"):
        Algorithm.from_checkpoint(path, config=wanting)


def test_log_std_init_starts_the_free_log_std_and_needs_it():
    from rlmodules import RLModuleSpec

    actions = gym.spaces.Box(-1.0, 1.0, (2,))
    module = RLModuleSpec(module_class="ppo", observation_space=BOX, action_space=actions,
                          model_config={"free_log_std": True, "log_std_init": -2.0}).build()
    assert module.pi.log_std.tolist() == [-2.0, -2.0]
    with pytest.raises(ConfigError, match="set free_log_std=True too"):
        RLModuleSpec(module_class="ppo", observation_space=BOX, action_space=actions,
                     model_config={"log_std_init": -2.0}).build()
