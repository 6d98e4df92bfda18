"""``rlmodules train --set SECTION.KEY=VALUE`` and ``--num-envs``."""

import json

import pytest
from rlmodules.algorithms import DQNConfig, PPOConfig
from rlmodules.cli import main
from rlmodules.cli.overrides import apply_overrides, parse_override
from rlmodules.errors import ConfigError


@pytest.mark.parametrize("text, keys, value", [
    ("training.lr=3e-4", ["training", "lr"], 3e-4),
    ("env_runners.num_envs_per_env_runner=16", ["env_runners", "num_envs_per_env_runner"], 16),
    ("training.lr=[[0, 1e-3], [100000, 0]]", ["training", "lr"], [[0, 1e-3], [100000, 0]]),
    ("evaluation.evaluation_explore=true", ["evaluation", "evaluation_explore"], True),
    ("environment.env=Pendulum-v1", ["environment", "env"], "Pendulum-v1"),
    ("environment.env='ALE/Pong-v5'", ["environment", "env"], "ALE/Pong-v5"),
    ("training.replay_buffer_config={type = 'uniform', capacity = 10}",
     ["training", "replay_buffer_config"], {"type": "uniform", "capacity": 10}),
])
def test_values_read_as_toml_else_as_text(text, keys, value):
    assert parse_override(text) == (keys, value)


def test_overrides_change_one_setting_or_one_entry_of_a_table():
    config = PPOConfig().environment("CartPole-v1").rl_module(
        model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
    apply_overrides(config, ["training.lr=3e-4", "rl_module.model_config.fcnet_hiddens=[16]",
                             "env_runners.num_envs_per_env_runner=4"])
    assert config.lr == 3e-4 and config.num_envs == 4
    assert config.model_config.fcnet_hiddens == [16]
    assert config.model_config.vf_share_layers is False  # the rest of the table stays
    dqn = DQNConfig().environment("CartPole-v1")
    apply_overrides(dqn, ["training.replay_buffer_config.capacity=500"])
    assert dqn.replay_buffer_config == {"type": "uniform", "capacity": 500}


@pytest.mark.parametrize("text, message", [
    ("training.lrr=1", "--set 'training.lrr=1': training() got an unknown setting 'lrr'. "
                       "Did you mean 'lr'?"),
    ("trainig.lr=1", "--set 'trainig.lr=1': unknown section 'trainig'. Did you mean "
                     "'training'?"),
    ("training.lr", "--set 'training.lr': expected SECTION.KEY=VALUE, e.g. --set "
                    "training.lr=3e-4"),
    ("training.lrr.x=1", "--set 'training.lrr.x=1': training() has no setting 'lrr'. Did you "
                         "mean 'lr'?"),
    ("training.gamma.x=1", "--set 'training.gamma.x=1': training.gamma is not a table of "
                           "settings; set it whole with --set training.gamma=VALUE"),
])
def test_bad_overrides_say_what_would_be_right(text, message):
    with pytest.raises(ConfigError) as caught:
        apply_overrides(PPOConfig().environment("CartPole-v1"), [text])
    assert str(caught.value).startswith(message)


def test_the_command_line_applies_overrides_after_the_preset(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--timesteps", "256", "--num-threads", "1", "--num-envs", "4",
                 "--set", "training.num_epochs=2", "--set", "training.lr=3e-4",
                 "--out", str(run)]) == 0
    saved = json.loads((run / "checkpoint" / "algorithm_state.json").read_text())["config"]
    assert saved["training"]["lr"] == 3e-4 and saved["training"]["num_epochs"] == 2
    assert saved["env_runners"]["num_envs_per_env_runner"] == 4
    assert saved["training"]["train_batch_size"] == 256  # the preset's
    assert main(["train", "--num-envs", "3", "--out", str(tmp_path / "b")]) == 1
    assert "train_batch_size=256 is not a multiple of num_envs_per_env_runner=3" in \
        capsys.readouterr().err
    assert main(["train", "--set", "training.lr=-1", "--out", str(tmp_path / "c")]) == 1
    assert "lr must be a number in (0.0, inf], got -1" in capsys.readouterr().err
    # A resumed run takes overrides too (here: a smaller learning rate from now on).
    assert main(["train", "--resume", str(run), "--timesteps", "512", "--num-threads", "1",
                 "--set", "training.lr=1e-4"]) == 0
    saved = json.loads((run / "checkpoint" / "algorithm_state.json").read_text())["config"]
    assert saved["training"]["lr"] == 1e-4
