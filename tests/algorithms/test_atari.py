"""Atari: the standard preprocessing, the CNN preset, and `rlmodules train --env ALE/...`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.presets import preset_for
from rlmodules.errors import ConfigError

pytest.importorskip("ale_py")
pytest.importorskip("cv2")
pytest.importorskip("rlmodules_cnn")
from rlmodules.envs import AtariEnv  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _play(env, steps, seed=0):
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rewards, ends, lives = set(), 0, []
    for _ in range(steps):
        _, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        rewards.add(float(reward))
        if terminated or truncated:
            ends += 1
            lives.append(info["lives"])
            env.reset()
    return rewards, ends, lives


def test_frames_are_stacked_84x84_grayscale_channels_first():
    env = AtariEnv(config={"env_id": "ALE/Pong-v5", "render_mode": "rgb_array"})
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.contains(obs)
    assert env.render().shape == (210, 160, 3)  # the screen, for `rlmodules eval --gif`


def test_training_ends_episodes_at_a_lost_life_and_evaluation_plays_whole_games():
    train = AtariEnv(config={"env_id": "ALE/Breakout-v5"})
    _, ends, lives = _play(train, 600)
    assert ends >= 3 and any(life > 0 for life in lives)  # episodes ended with lives left
    evaluation = AtariEnv(config={"env_id": "ALE/Breakout-v5", "training": False})
    _, _, lives = _play(evaluation, 600)
    assert all(life == 0 for life in lives)  # only game over ends an episode


def test_rewards_are_clipped_to_their_sign_in_training_only():
    # Space Invaders scores 5 to 30 points per alien.
    clipped, _, _ = _play(AtariEnv(config={"env_id": "ALE/SpaceInvaders-v5"}), 300)
    raw, _, _ = _play(AtariEnv(config={"env_id": "ALE/SpaceInvaders-v5", "training": False}),
                      300)
    assert clipped <= {0.0, 1.0} and max(raw) > 1.0


def test_bad_atari_settings_are_config_errors():
    with pytest.raises(ConfigError, match=r"AtariEnv got unknown config keys \['framestack'\]"):
        AtariEnv(config={"env_id": "ALE/Pong-v5", "framestack": 4})
    with pytest.raises(ConfigError, match=r"'env_id' must be an ALE id such as 'ALE/Pong-v5', "
                                          r"got 'CartPole-v1'"):
        AtariEnv(config={"env_id": "CartPole-v1"})


def test_the_atari_preset_trains_the_nature_cnn_on_channels_first_frames():
    preset = preset_for("ALE/Breakout-v5", 10_000)
    assert preset["environment"]["env_config"] == {"env_id": "ALE/Breakout-v5"}
    assert preset["training"]["lr"] == [[0, 2.5e-4], [10_000, 0.0]]
    assert preset["rl_module"]["model_config"]["conv_filters"] == [  # the Nature CNN
        [32, 8, 4, "valid"], [64, 4, 2, "valid"], [64, 3, 1, "valid"], [512, 7, 1, "valid"]]
    config = PPOConfig().update_from_dict(preset).env_runners(num_envs_per_env_runner=2)
    config.training(train_batch_size=128, minibatch_size=128, num_epochs=1)
    algo = config.debugging(seed=0).build()
    try:
        encoder = algo.get_module().encoder
        assert encoder.channels_first and encoder.output_dim == 512
        for _ in range(2):
            result = algo.train()
    finally:
        algo.stop()
    assert math.isfinite(result["episode_return_mean"])  # lives lost: episodes finished


def _train_pong(tmp_path):
    from rlmodules.cli import main

    small = tmp_path / "small.toml"
    small.write_text("[env_runners]\nnum_envs_per_env_runner = 2\n"
                     "[training]\ntrain_batch_size = 64\nminibatch_size = 64\nnum_epochs = 1\n")
    run = tmp_path / "pong"
    assert main(["train", "--env", "ALE/Pong-v5", "--config", str(small), "--timesteps", "64",
                 "--seed", "0", "--out", str(run)]) == 0
    return run


def test_cli_trains_pong_with_the_atari_preset(tmp_path, capsys):
    run = _train_pong(tmp_path)
    assert "finished ALE/Pong-v5" in capsys.readouterr().out
    assert json.loads((run / "run.json").read_text())["env"] == "ALE/Pong-v5"
    state = json.loads((run / "checkpoint" / "algorithm_state.json").read_text())
    assert state["config"]["env"] == "rlmodules.envs:AtariEnv"
    assert state["config"]["env_config"] == {"env_id": "ALE/Pong-v5"}
    assert state["config"]["evaluation"]["evaluation_config"] == {
        "env_config": {"training": False}}


@pytest.mark.slow
def test_eval_of_a_pong_run_plays_a_whole_game_with_raw_scores(tmp_path, capsys):
    from rlmodules.cli import main

    run = _train_pong(tmp_path)
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "1"]) == 0
    out = capsys.readouterr().out
    score = float(out.split("return ")[1].split(" ")[0])
    assert -21 <= score <= 21 and score != 0  # a whole game of raw (unclipped) points
