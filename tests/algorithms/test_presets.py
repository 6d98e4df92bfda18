"""Presets are data: every bundled TOML file is checked, builds its algorithm's config, and is
what `rlmodules train --algo A --env E` applies; bad files are named."""

import gymnasium as gym
import pytest
from rlmodules.algorithms import DQNConfig, PPOConfig, SACConfig
from rlmodules.algorithms.presets import load_preset, preset_for, preset_names, read_preset
from rlmodules.errors import ConfigError

CONFIGS = {"ppo": PPOConfig, "dqn": DQNConfig, "sac": SACConfig}


def test_the_bundled_presets():
    names = preset_names()
    for name in ("ppo/CartPole-v1", "ppo/Acrobot-v1", "ppo/Pendulum-v1", "ppo/HalfCheetah-v5",
                 "dqn/CartPole-v1", "dqn-double/CartPole-v1", "dqn-dueling/CartPole-v1",
                 "dqn-c51/CartPole-v1", "dqn/Acrobot-v1", "dqn/MountainCar-v0",
                 "sac/Pendulum-v1", "sac/MountainCarContinuous-v0", "sac/HalfCheetah-v5"):
        assert name in names


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_valid_config_for_its_algorithm_and_env(name):
    preset = load_preset(name)
    assert name.split("/")[0].split("-")[0] == preset.algo
    config = CONFIGS[preset.algo]().environment(preset.env)
    config.update_from_dict(preset.settings(preset.timesteps))
    config.validate()
    if preset.reference is not None:  # rl-zoo's score, with its budget and source cited
        assert preset.reference_timesteps and "benchmark.md" in preset.reference_source
    if name != "ppo/atari":
        assert preset.env == name.split("/")[1]
        gym.spec(preset.env)


def test_plain_dqn_is_the_preset_rl_zoo_tuned_and_variants_change_only_the_algorithm():
    plain = load_preset("dqn/CartPole-v1").settings(50_000)
    assert plain["training"]["double_q"] is False and plain["training"]["dueling"] is False
    for variant, changes in (("double", {"double_q": True}),
                             ("dueling", {"double_q": True, "dueling": True}),
                             ("c51", {"num_atoms": 51})):
        training = load_preset(f"dqn-{variant}/CartPole-v1").settings(50_000)["training"]
        for key, value in changes.items():
            assert training[key] == value


def test_train_takes_the_preset_of_its_algorithm_with_schedules_ending_at_the_run():
    assert preset_for("CartPole-v1", 1234)["training"]["lr"] == [[0, 1e-3], [1234, 0.0]]
    assert preset_for("CartPole-v1", 1234, algo="dqn")["training"]["double_q"] is False
    assert preset_for("MountainCarContinuous-v0", 10, algo="ppo") == {}
    assert preset_for("../../etc/passwd", 10, algo="dqn") == {}


def test_an_unknown_preset_gets_a_did_you_mean_and_the_list():
    with pytest.raises(ConfigError, match=r"no bundled preset 'dqn/CartPole-v0'. Did you mean "
                       r"'dqn/CartPole-v1'\? Bundled presets: dqn-c51/CartPole-v1, "):
        load_preset("dqn/CartPole-v0")


@pytest.mark.parametrize("text, message", [
    ("[training]\nlr = 1e-3\n", r"has no \[preset\] table naming its algo, env and budget"),
    ('[preset]\nalgo = "dqn"\nenv = "CartPole-v1"\ntimestep = 5\n',
     r"unknown \[preset\] key 'timestep'. Did you mean 'timesteps'\?"),
    ('[preset]\nalgo = "dqn"\nenv = "CartPole-v1"\ntimesteps = "5"\neval_interval = 1\n',
     r"\[preset\] timesteps must be int, got '5'"),
    ('[preset]\nalgo = "dqn"\nenv = "CartPole-v1"\n', r"\[preset\] lacks timesteps, "
     r"eval_interval"),
    ('[preset]\nalgo = "a2c"\nenv = "CartPole-v1"\ntimesteps = 5\neval_interval = 1\n',
     r"\[preset\] algo must be one of \('ppo', 'dqn', 'sac'\), got 'a2c'"),
    ("[preset\n", r"is not valid TOML"),
])
def test_bad_preset_files_are_named(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"preset {path}.*{message}"):
        read_preset(path, name="x/p")
