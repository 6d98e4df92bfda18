"""Env references the trainer accepts: gymnasium ids, import paths, classes, factories."""

import numpy as np
import pytest
from rlmodules import ConfigError
from rlmodules.algorithms.env_creation import make_env_creator
from rlmodules.envs import StatelessCartPole


def test_stateless_cartpole_hides_the_velocities():
    env = StatelessCartPole()
    obs, _ = env.reset(seed=0)
    full, _ = StatelessCartPole().env.reset(seed=0)
    assert env.observation_space.shape == (2,) and np.allclose(obs, full[[0, 2]])
    obs, *_ = env.step(1)
    assert obs.shape == (2,) and env.observation_space.contains(obs)


def test_an_import_path_names_an_env_class():
    env = make_env_creator("rlmodules.envs:StatelessCartPole")()
    assert isinstance(env, StatelessCartPole)
    assert make_env_creator("CartPole-v1")().observation_space.shape == (4,)


@pytest.mark.parametrize(
    "env, message",
    [
        ("rlmodules.envs:NoSuchEnv", "module 'rlmodules.envs' has no attribute 'NoSuchEnv'"),
        ("no_such_package.envs:Env", "cannot import 'no_such_package.envs'"),
        ("CartPol-v1", "cannot make gymnasium env 'CartPol-v1'"),
    ],
)
def test_bad_env_references_are_config_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        make_env_creator(env)()


def test_cli_trains_on_an_env_named_by_import_path(tmp_path, capsys):
    from rlmodules.cli import main

    args = ["train", "--env", "rlmodules.envs:StatelessCartPole", "--timesteps", "512",
            "--num-threads", "1", "--seed", "0", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    assert "finished rlmodules.envs:StatelessCartPole" in capsys.readouterr().out
