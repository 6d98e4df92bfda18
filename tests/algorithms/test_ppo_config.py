"""PPOConfig: the builder, validation messages, JSON round trip, env creation."""

import json

import gymnasium as gym
import pytest
from rlmodules import ConfigError, DefaultModelConfig, RLModuleSpec
from rlmodules.algorithms import AlgorithmConfig, PPOConfig, make_env_creator


def test_builder_methods_chain_and_store_settings():
    config = (
        PPOConfig()
        .api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
        .environment("CartPole-v1", env_config={"max_episode_steps": 50})
        .env_runners(num_envs_per_env_runner=4, gym_env_vectorize_mode="async")
        .training(lr=1e-3, lambda_=0.8, train_batch_size=128, minibatch_size=32)
        .evaluation(evaluation_interval=2)
        .debugging(seed=3)
    )
    assert (config.lr, config.lambda_, config.num_envs_per_env_runner) == (1e-3, 0.8, 4)
    assert config.env_config == {"max_episode_steps": 50} and config.seed == 3
    config.validate()


def test_unknown_training_key_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown setting 'lamda_'.*Did you mean 'lambda_'"):
        PPOConfig().training(lamda_=0.9)
    with pytest.raises(ConfigError, match="unknown setting 'num_env'"):
        PPOConfig().env_runners(num_env=2)


def test_old_api_stack_is_refused():
    with pytest.raises(ConfigError, match=r"enable_rl_module_and_learner=False.*new API stack"):
        AlgorithmConfig().api_stack(enable_rl_module_and_learner=False)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"train_batch_size": 100}, r"train_batch_size=100 is not a multiple of "
                                    r"num_envs_per_env_runner=8.*train_batch_size=96"),
        ({"minibatch_size": 4096}, r"minibatch_size=4096 is larger than train_batch_size=2048"),
        ({"gamma": 1.5}, r"gamma must be a number in \[0.0, 1.0\], got 1.5"),
        ({"lr": [[10, 1e-3]]}, r"lr schedule must be \[\[0, value\]"),
        ({"clip_param": 0}, r"clip_param must be a number in \(0.0, inf\], got 0"),
        ({"num_epochs": 0}, r"num_epochs must be an int >= 1, got 0"),
    ],
)
def test_inconsistent_settings_fail_at_validate(settings, message):
    config = PPOConfig().environment("CartPole-v1").env_runners(num_envs_per_env_runner=8)
    config.training(**settings)
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_missing_env_and_bad_vectorize_mode():
    with pytest.raises(ConfigError, match=r"no environment: call \.environment"):
        PPOConfig().validate()
    config = PPOConfig().environment("CartPole-v1").env_runners(gym_env_vectorize_mode="ray")
    with pytest.raises(ConfigError, match="gym_env_vectorize_mode='ray' is not known"):
        config.validate()


def test_model_config_property_supports_the_seeds_or_update():
    config = PPOConfig()
    assert isinstance(config.model_config, DefaultModelConfig)
    updated = config.model_config | {"fcnet_hiddens": [32]}
    with pytest.warns(DeprecationWarning, match="model_config_dict"):
        config.rl_module(model_config_dict=updated)
    assert config.model_config.fcnet_hiddens == [32]
    # a custom module's own keys stay a plain dict
    assert PPOConfig().rl_module(model_config={"hidden_dim": 8}).model_config == {"hidden_dim": 8}


def test_to_dict_is_json_and_round_trips():
    config = (
        PPOConfig()
        .environment("CartPole-v1")
        .training(lr=[[0, 1e-3], [1000, 0.0]], clip_param=0.1)
        .rl_module(
            rl_module_spec=RLModuleSpec(module_class="ppo"),
            model_config={"fcnet_hiddens": [16]},
        )
        .debugging(seed=1)
    )
    data = json.loads(json.dumps(config.to_dict()))
    again = PPOConfig.from_dict(data)
    assert again.to_dict() == data
    assert again.rl_module_spec.module_class == "ppo" and again.clip_param == 0.1


def test_lambda_callables_are_reported_as_not_serialised():
    config = PPOConfig().environment(lambda cfg: gym.make("CartPole-v1"))
    data = config.to_dict()
    assert data["env"] is None and data["not_serialised"] == ["env"]


def test_from_dict_follows_only_registered_or_handed_over_names():
    from rlmodules.registry import ImportRefusedError

    for env in ("some_unimported_pkg.envs:MyEnv", "subprocess:Popen"):  # imported or not
        data = PPOConfig().to_dict() | {"env": env}
        with pytest.raises(ImportRefusedError, match=rf"an algorithm config's data: env import "
                                                     rf"path '{env}' is refused: it is not "
                                                     r"registered.*allow_import=True"):
            PPOConfig.from_dict(data)
    data = PPOConfig().environment(_EnvTakingConfig).to_dict()
    assert PPOConfig.from_dict(data, trusted_objects=[_EnvTakingConfig]).env is _EnvTakingConfig
    data = PPOConfig().environment("rlmodules.envs:StatelessCartPole").to_dict()
    assert PPOConfig.from_dict(data).env.__name__ == "StatelessCartPole"  # registered
    with pytest.raises(ConfigError, match=r"unknown algorithm config section 'trainig'"):
        PPOConfig.from_dict({"trainig": {}})


class _EnvTakingConfig(gym.Env):
    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, config=None):
        self.config = config


class _EnvTakingKwargs(_EnvTakingConfig):
    def __init__(self, size=1):
        self.size = size


def test_env_creator_calls_classes_and_factories_as_documented():
    assert make_env_creator(_EnvTakingConfig, {"a": 1})().config == {"a": 1}
    assert make_env_creator(_EnvTakingKwargs, {"size": 3})().size == 3
    assert make_env_creator(lambda cfg: cfg, {"b": 2})() == {"b": 2}
    env = make_env_creator("CartPole-v1", {"max_episode_steps": 7})()
    assert env.spec.max_episode_steps == 7
    with pytest.raises(ConfigError, match=r"cannot make gymnasium env 'NoSuchEnv-v0'"):
        make_env_creator("NoSuchEnv-v0")()


def test_update_from_dict_reads_config_file_sections():
    config = PPOConfig().update_from_dict({
        "training": {"lr": 0.01},
        "rl_module": {"module_class": "ppo", "model_config": {"fcnet_hiddens": [8]}},
        "environment": {"env": "Pendulum-v1"},
    })
    assert config.lr == 0.01 and config.env == "Pendulum-v1"
    assert config.model_config.fcnet_hiddens == [8]
    with pytest.raises(ConfigError, match=r"unknown config file section 'trainer'.*'training'"):
        PPOConfig().update_from_dict({"trainer": {}})
