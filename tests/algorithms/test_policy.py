"""A trained run's policy on raw observations: ``load_policy`` puts a MeanStdFilter run's
frozen statistics in front of its module, and ``rlmodules record`` uses it (RLlib #41382:
inference that matches training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rlmodules import Columns, RLModuleSpec, compute_actions
from rlmodules.algorithms import (
    MeanStdFilterModule,
    PPOConfig,
    load_policy,
    read_episodes,
)
from rlmodules.cli import main
from rlmodules.errors import ConfigError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def filtered_run(tmp_path_factory):
    algo = (PPOConfig().environment("Pendulum-v1")
            .env_runners(num_envs_per_env_runner=2, observation_filter="MeanStdFilter")
            .training(train_batch_size=200, minibatch_size=100, num_epochs=1)
            .rl_module(model_config={"fcnet_hiddens": [16]})
            .debugging(seed=0).build())
    algo.train()
    path = algo.save_to_path(tmp_path_factory.mktemp("run") / "checkpoint")
    yield algo, path
    algo.stop()


def test_the_policy_of_a_filtered_run_acts_on_raw_observations_as_training_did(filtered_run):
    algo, path = filtered_run
    policy = load_policy(path)
    assert isinstance(policy, MeanStdFilterModule)
    assert policy.unwrapped() is policy.module
    raw = np.array([[1.0, 0.0, 7.5], [-0.6, 0.8, -3.0], [0.0, -1.0, 0.2]], np.float32)
    normalised = algo.obs_normalizer.normalize(raw)
    for explore in (False, True):
        torch.manual_seed(1)
        ours = compute_actions(policy, {Columns.OBS: raw}, explore=explore)
        torch.manual_seed(1)
        trained = compute_actions(algo.get_module(), {Columns.OBS: normalised}, explore=explore)
        torch.testing.assert_close(ours[Columns.ACTIONS], trained[Columns.ACTIONS])
    with pytest.raises(ConfigError, match="is not saved on its own; keep the run's algorithm"):
        policy.save_to_path()


def test_record_stores_raw_observations_and_acts_on_normalised_ones(filtered_run, tmp_path):
    _, path = filtered_run
    assert main(["record", str(path), "--episodes", "1", "--out", str(tmp_path / "e"),
                 "--seed", "0"]) == 0
    columns = read_episodes(tmp_path / "e").columns()
    obs, actions = columns["obs"], columns["actions"]
    # Pendulum observes (cos, sin, velocity): raw observations lie on the unit circle
    np.testing.assert_allclose(obs[:, 0] ** 2 + obs[:, 1] ** 2, 1.0, atol=1e-5)
    greedy = compute_actions(load_policy(path), {Columns.OBS: obs}, explore=False, for_env=True)
    np.testing.assert_allclose(actions, greedy[Columns.ACTIONS_FOR_ENV], atol=1e-5)


def test_a_module_checkpoint_and_an_unfiltered_run_load_as_their_module(tmp_path):
    spec = RLModuleSpec(module_class="ppo", model_config={"fcnet_hiddens": [8]})
    algo = (PPOConfig().environment("CartPole-v1").rl_module(rl_module_spec=spec)
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1).build())
    path = algo.save_to_path(tmp_path / "plain")
    policy = load_policy(path)
    assert not isinstance(policy, MeanStdFilterModule)
    assert type(load_policy(algo.get_module().save_to_path(tmp_path / "module"))) is type(
        algo.get_module())
    algo.stop()
