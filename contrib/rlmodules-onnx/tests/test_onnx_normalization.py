"""Inference that matches training: a run trained with observation_filter="MeanStdFilter"
exports with its frozen statistics baked into the graph, so OnnxPolicy acts on RAW
observations exactly as the loaded run's policy acts on the observations it normalises."""

from __future__ import annotations

import contextlib
import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import ExportError, RLModuleSpec, compute_actions
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.algorithm import Algorithm
from rlmodules.algorithms.obs_normalization import ObservationNormalizer
from rlmodules.cli import main
from rlmodules.export import ObservationNormalization, export, read_manifest
from rlmodules_onnx import OnnxPolicy


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A Pendulum run trained for one iteration with MeanStdFilter, and its ONNX export."""
    root = tmp_path_factory.mktemp("meanstd")
    algo = (PPOConfig().environment("Pendulum-v1")
            .env_runners(num_envs_per_env_runner=2, observation_filter="MeanStdFilter")
            .training(train_batch_size=200, minibatch_size=100, num_epochs=1)
            .rl_module(model_config={"fcnet_hiddens": [16]})
            .debugging(seed=0).build())
    algo.train()
    path = algo.save_to_path(root / "run")
    algo.stop()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["export", str(path), "--out", str(root / "onnx")]) == 0
    return path, root / "onnx", printed.getvalue()


def raw_observations(n=64):
    """Raw Pendulum observations from episodes, and far outside the statistics (clipped)."""
    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=1)
    rows = [obs]
    rng = np.random.default_rng(1)
    for _ in range(n - 3):
        obs, *_ = env.step(rng.uniform(-2, 2, size=1).astype(np.float32))
        rows.append(obs)
    rows += [np.array([50.0, -50.0, 400.0], np.float32), np.array([0.0, 0.0, -1e4], np.float32)]
    return np.stack(rows)


def test_the_cli_says_the_statistics_are_baked_in(run):
    _, onnx_dir, printed = run
    assert printed.splitlines()[0].endswith(
        "; observation statistics baked in (acts on raw observations)")
    entry = read_manifest(onnx_dir).modules["default_policy"]
    assert entry.observation_normalization.clip == 10.0
    assert entry.observation_space["dtype"] == "float64"  # raw observations, any scale


def test_onnx_actions_on_raw_observations_equal_the_loaded_runs_policy(run):
    path, onnx_dir, _ = run
    algo = Algorithm.from_checkpoint(path)
    module = algo.get_module()
    # the statistics as saved: the restored algorithm's own sampler folds its first reset
    # observations into them as soon as it is built
    normalizer = ObservationNormalizer.from_checkpoint(path)
    raw = raw_observations()
    normalized = normalizer.normalize(raw)
    expected = compute_actions(module, {"obs": normalized}, explore=False, for_env=True)
    policy = OnnxPolicy(onnx_dir, seed=0)
    got = policy.compute_actions(raw)
    assert np.abs(got["actions"] - expected["actions"].numpy()).max() <= 1e-5
    assert np.abs(got["actions_for_env"] - expected["actions_for_env"]).max() <= 1e-5
    # exploring: the distribution inputs are the module's, and so is the logp of the draws
    explored = policy.compute_actions(raw, explore=True)
    dist_inputs = compute_actions(module, {"obs": normalized}, explore=True)["action_dist_inputs"]
    assert np.abs(explored["action_dist_inputs"] - dist_inputs.numpy()).max() <= 1e-5
    dist = module.get_exploration_action_dist_cls().from_logits(dist_inputs)
    logp = dist.logp(torch.as_tensor(explored["actions"])).numpy()
    assert np.abs(explored["action_logp"] - logp).max() <= 1e-4
    algo.stop()


def test_statistics_of_the_wrong_size_or_for_a_format_without_them_are_refused(tmp_path):
    space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    module = RLModuleSpec(module_class="ppo", observation_space=space,
                          action_space=gym.spaces.Discrete(2),
                          model_config={"fcnet_hiddens": [8]}).build()
    stats = ObservationNormalization(mean=[0.0, 1.0], var=[1.0, 1.0], clip=5.0, epsilon=1e-8)
    with pytest.raises(ExportError, match=r"the observation statistics have 2 values; the "
                       r"module's observations of shape \(3,\) need 3"):
        export(module, tmp_path / "out", format="onnx", observation_normalization=stats)
    with pytest.raises(ExportError, match=r"var must not be negative and clip, epsilon must be "
                       r"positive \(clip -1.0, epsilon 1e-08\)"):
        ObservationNormalization(mean=[0.0], var=[1.0], clip=-1.0, epsilon=1e-8)
