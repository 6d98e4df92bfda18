"""Where the trainer's public names live: its errors in the one error tree, the checked
reader of algorithm checkpoints, and every algorithm's presets in one folder of files."""

import pytest
import rlmodules.errors as errors
from rlmodules.algorithms import EnvRunnerError, PPOConfig
from rlmodules.algorithms.checkpoint import read_algorithm_state
from rlmodules.algorithms.distributed_learner import LearnerGroupError
from rlmodules.algorithms.episodes import EpisodeDataError
from rlmodules.algorithms.presets import preset_for, preset_names


def test_the_trainers_errors_are_in_the_one_error_tree():
    assert EnvRunnerError is errors.EnvRunnerError
    assert LearnerGroupError is errors.LearnerGroupError
    assert EpisodeDataError is errors.EpisodeDataError
    assert issubclass(EnvRunnerError, errors.RLModulesError)
    assert issubclass(EnvRunnerError, RuntimeError)
    assert issubclass(LearnerGroupError, RuntimeError)
    assert issubclass(EpisodeDataError, errors.CheckpointError)


def test_read_algorithm_state_checks_what_it_reads(tmp_path):
    algo = (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=64, minibatch_size=32, num_epochs=1)
            .rl_module(model_config={"fcnet_hiddens": [8]}).debugging(seed=0).build())
    try:
        algo.train()
        path = algo.save_to_path(tmp_path / "algo")
    finally:
        algo.stop()
    state = read_algorithm_state(path)
    assert state["timesteps"] == 64 and state["config"]["env"] == "CartPole-v1"
    with pytest.raises(errors.CheckpointError, match=r"is not an algorithm checkpoint \(it "
                                                     r"does not exist\)"):
        read_algorithm_state(tmp_path / "missing")


def test_presets_of_every_algorithm_are_one_folder_of_files():
    assert {name.split("/")[0].split("-")[0] for name in preset_names()} == {"ppo", "dqn", "sac"}
    dqn = preset_for("CartPole-v1", 50_000, algo="dqn")
    assert dqn["training"]["training_intensity"] == 32
    assert preset_for("Pendulum-v1", 1_000, algo="sac")["training"]["actor_lr"] == 1e-3
    assert preset_for("CartPole-v1", 1_000)["training"]["lr"] == [[0, 1e-3], [1_000, 0.0]]
    assert preset_for("ALE/Pong-v5", 1_000, algo="dqn") == {}
