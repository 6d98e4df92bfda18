"""Whole-algorithm checkpoints: exact resume, components, bad paths, the saved env."""

import json

import pytest
import torch
from rlmodules import CheckpointError
from rlmodules.algorithms import Algorithm, PPOConfig


def _small_config(seed=0):
    return (
        PPOConfig().environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=2, num_threads=1)
        .training(train_batch_size=64, minibatch_size=32, num_epochs=2)
        .rl_module(model_config={"fcnet_hiddens": [16]})
        .debugging(seed=seed)
    )


def test_restore_resumes_module_optimizer_counters_and_config(tmp_path):
    algo = _small_config().build()
    for _ in range(3):
        algo.train()
    path = algo.save_to_path(tmp_path / "ckpt")
    restored = Algorithm.from_checkpoint(path)
    assert (restored.iteration, restored.timesteps) == (3, 192)
    assert restored.config.to_dict() == algo.config.to_dict()
    assert list(restored.recent_returns) == list(algo.recent_returns)
    old_params = dict(algo.module.named_parameters())
    for name, param in restored.module.named_parameters():
        assert torch.equal(param, old_params[name])
    old_state, _ = algo.learner.get_optimizer_state()
    new_state, _ = restored.learner.get_optimizer_state()
    assert new_state.keys() == old_state.keys()
    assert {f"{name}::exp_avg_sq" for name in old_params} <= new_state.keys()
    for key, value in new_state.items():
        assert torch.equal(value, old_state[key]), key
        if key.endswith("::step"):
            assert value.item() == 3 * 2 * 2
    # the learner's minibatch order continues where it left off
    assert torch.equal(restored.torch_generator.get_state(), algo.torch_generator.get_state())
    assert restored.train()["training_iteration"] == 4
    algo.stop()
    restored.stop()


def test_corrupted_checkpoint_is_a_clear_error(tmp_path):
    algo = _small_config().build()
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.stop()
    optimizer_file = path / "optimizer.safetensors"
    data = bytearray(optimizer_file.read_bytes())
    data[-1] ^= 0xFF
    optimizer_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="optimizer.safetensors is corrupted"):
        Algorithm.from_checkpoint(path)


def test_bad_paths_and_components_explain_themselves(tmp_path):
    algo = _small_config().build()
    with pytest.raises(CheckpointError, match=r"not an algorithm checkpoint \(it has no algo"):
        algo.restore_from_path(tmp_path)
    with pytest.raises(CheckpointError, match=r"not an algorithm checkpoint \(it does not exist"):
        algo.restore_from_path(tmp_path / "missing")
    with pytest.raises(CheckpointError, match=r"unknown component 'learner/rl_module'.*use "):
        algo.restore_from_path(tmp_path, component="learner/rl_module")
    with pytest.raises(CheckpointError, match=r"names module id 'p9'.*\['default_policy'\]"):
        algo.restore_from_path(tmp_path, component="learner_group/learner/rl_module/p9")
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(CheckpointError, match="refusing to replace"):
        algo.save_to_path(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    algo.stop()


def test_saving_over_a_checkpoint_replaces_it_whole(tmp_path):
    algo = _small_config().build()
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.train()
    algo.save_to_path(path)
    state = json.loads((path / "algorithm_state.json").read_text())
    assert state["iteration"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    algo.stop()


def test_lambda_env_needs_the_config_passed_back(tmp_path):
    import gymnasium as gym

    config = _small_config().environment(lambda cfg: gym.make("CartPole-v1"))
    algo = config.build()
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.stop()
    with pytest.raises(CheckpointError, match=r"could not save \['env'\].*config=config"):
        Algorithm.from_checkpoint(path)
    Algorithm.from_checkpoint(path, config=config).stop()


def test_saved_env_names_the_trained_env_or_says_why_it_cannot(tmp_path):
    import gymnasium as gym
    from rlmodules.algorithms.checkpoint import saved_env

    algo = _small_config().environment("CartPole-v1", env_config={"max_episode_steps": 50})
    algo = algo.build()
    assert saved_env(algo.save_to_path(tmp_path / "id")) == (
        "CartPole-v1", {"max_episode_steps": 50})
    algo.stop()
    algo = _small_config().environment(lambda config: gym.make("CartPole-v1")).build()
    path = algo.save_to_path(tmp_path / "lambda")
    algo.stop()
    with pytest.raises(CheckpointError, match="holds no env name .*lambda or a local function"):
        saved_env(path)


def test_an_edited_model_config_is_refused_before_the_algorithm_allocates(tmp_path):
    from rlmodules.checkpoint import read_json_file, write_json_file

    algo = _small_config().build()
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.stop()
    state = read_json_file(path / "algorithm_state.json", verify=False)
    state["config"]["model_config"] = {"fcnet_hiddens": [100_000, 100_000]}
    write_json_file(path / "algorithm_state.json", state)  # re-signed, as an attacker would
    with pytest.raises(CheckpointError, match=r"the algorithm checkpoint .*: its recorded config "
                                              r"builds a module of 10,000,\d{3},\d{3} weights, "
                                              r"but its tensor files hold [\d,]+; the metadata "
                                              r"does not describe these weights"):
        Algorithm.from_checkpoint(path)
