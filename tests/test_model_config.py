"""DefaultModelConfig: RLlib's names and defaults, validation, updates and JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import gymnasium as gym
import pytest
from rlmodules import ConfigError, DefaultModelConfig


def test_defaults_are_rllibs():
    cfg = DefaultModelConfig()
    assert cfg.fcnet_hiddens == [256, 256] and cfg.fcnet_activation == "tanh"
    assert cfg.head_fcnet_hiddens == [] and cfg.head_fcnet_activation == "relu"
    assert cfg.vf_share_layers is True and cfg.free_log_std is False
    assert cfg.log_std_clip_param == 20.0
    assert cfg.use_lstm is False and cfg.max_seq_len == 20 and cfg.lstm_cell_size == 256
    assert cfg.lstm_use_prev_action is False and cfg.lstm_use_prev_reward is False
    assert cfg.conv_filters is None and cfg.conv_activation == "relu"
    assert cfg.fcnet_kernel_initializer is None and cfg.head_fcnet_bias_initializer is None


def test_or_returns_an_updated_copy():
    base = DefaultModelConfig()
    new = base | {"fcnet_hiddens": (32,), "vf_share_layers": False}
    assert new.fcnet_hiddens == [32] and new.vf_share_layers is False
    assert base.fcnet_hiddens == [256, 256] and base.vf_share_layers is True
    assert (base | new) == new


def test_unknown_keys_suggest_the_closest_field():
    with pytest.raises(ConfigError, match=r"unknown model config key 'fcnet_hidden'.*"
                                          r"Did you mean 'fcnet_hiddens'\?"):
        DefaultModelConfig() | {"fcnet_hidden": [8]}
    with pytest.raises(ConfigError, match="Did you mean 'vf_share_layers'"):
        DefaultModelConfig.from_dict({"vf_shared_layers": True})


def test_typo_in_a_default_modules_config_names_the_module():
    from rlmodules.plugins import DefaultPPOTorchRLModule

    with pytest.raises(ConfigError, match=r"DefaultPPOTorchRLModule: .*'fcnet_activaton'.*"
                                          r"Did you mean 'fcnet_activation'"):
        DefaultPPOTorchRLModule(observation_space=gym.spaces.Box(-1, 1, (3,)),
                                action_space=gym.spaces.Discrete(2),
                                model_config={"fcnet_activaton": "relu"})


def test_json_round_trip_is_strict_json():
    cfg = DefaultModelConfig(
        fcnet_hiddens=[64, 32],
        conv_filters=[(16, (4, 4), 2), (32, 3, 1, "same")],
        log_std_clip_param=float("inf"),
        fcnet_kernel_initializer="xavier_uniform",
        fcnet_kernel_initializer_kwargs={"gain": 0.5},
    )
    text = cfg.to_json()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    again = DefaultModelConfig.from_json(text)
    assert again == cfg and math.isinf(again.log_std_clip_param)
    assert again.conv_filters == [[16, [4, 4], 2], [32, 3, 1, "same"]]
    assert DefaultModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_malformed_json_is_a_config_error():
    with pytest.raises(ConfigError, match="model config JSON is not valid JSON"):
        DefaultModelConfig.from_json("{fcnet")


@pytest.mark.parametrize("text, message", [
    ("[" * 10_000 + "]" * 10_000, "nests deeper than 64 levels"),
    ('{"a":' * 10_000 + "1" + "}" * 10_000, "nests deeper than 64 levels"),
    ("[" * 100 + "]" * 100, "nests deeper than 64 levels"),
    (b'{"fcnet_hiddens": [8], "x": "\xff"}'.decode("unicode_escape").encode("latin-1"),
     r"is not UTF-8 text \(byte 29 is 0xff\)"),
    ('{"fcnet_hiddens": NaN}', "NaN is not a standard JSON number"),
])
def test_deep_or_undecodable_json_is_one_config_error(text, message):
    """Deep nesting used to surface as a raw RecursionError."""
    with pytest.raises(ConfigError, match=f"^model config JSON {message}"
                       if "nests" in message or "UTF" in message else message):
        DefaultModelConfig.from_json(text)


def test_dict_style_reads_keep_working():
    cfg = DefaultModelConfig(fcnet_hiddens=[64])
    assert cfg["fcnet_hiddens"] == [64] and cfg.get("nope", 7) == 7
    assert "use_lstm" in cfg and "nope" not in cfg
    assert dict(cfg)["fcnet_activation"] == "tanh" and {**cfg}["lstm_cell_size"] == 256
    with pytest.raises(KeyError, match="Did you mean 'lstm_cell_size'"):
        cfg["lstm_cell_sise"]


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"fcnet_activation": "rleu"}, r"'rleu' is not a known activation.*Did you mean 'relu'"),
        ({"fcnet_hiddens": [64, -1]}, r"fcnet_hiddens must be a list of positive ints.*-1"),
        ({"head_fcnet_hiddens": 64}, r"must be a list of positive ints.*got 64"),
        ({"vf_share_layers": "yes"}, r"vf_share_layers must be True or False, got 'yes'"),
        ({"lstm_cell_size": 0}, r"lstm_cell_size must be a positive int, got 0"),
        ({"log_std_clip_param": -1}, r"log_std_clip_param must be a positive number.*-1"),
        ({"conv_filters": [[16, 4]]}, r"conv_filters must be None.*\[\[16, 4\]\]"),
        ({"conv_filters": [[16, 4, 2, "full"]]}, r"padding 'same' or 'valid'"),
        ({"fcnet_kernel_initializer": "orthogonl"},
         r"'orthogonl' is not an initializer.*Did you mean 'orthogonal'"),
        ({"fcnet_bias_initializer": "orthogonal"}, r"is not a bias initializer.*'zeros'"),
        ({"fcnet_kernel_initializer_kwargs": {"gain": 2.0}},
         (r"fcnet_kernel_initializer_kwargs=\{'gain': 2.0\} is set but "
          r"fcnet_kernel_initializer is None")),
        ({"head_fcnet_kernel_initializer": "orthogonal",
          "head_fcnet_kernel_initializer_kwargs": {"gian": 2.0}},
         r"'gian' is not an argument of the 'orthogonal' initializer.*Did you mean 'gain'"),
        ({"fcnet_kernel_initializer_kwargs": [1]}, r"must be None or a dict of keyword"),
    ],
)
def test_bad_values_say_what_is_wrong_and_what_is_right(update, message):
    with pytest.raises(ConfigError, match=message):
        DefaultModelConfig() | update


def test_config_errors_are_value_errors():
    with pytest.raises(ValueError):
        DefaultModelConfig.from_dict({"max_seq_len": -3})
    with pytest.raises(ConfigError, match="must be a dict or a DefaultModelConfig, got list"):
        DefaultModelConfig.from_dict([("fcnet_hiddens", [3])])


def test_reading_configs_does_not_import_torch():
    code = (
        "import sys\n"
        "from rlmodules import DefaultModelConfig\n"
        "cfg = DefaultModelConfig.from_json(DefaultModelConfig(fcnet_hiddens=[8]).to_json())\n"
        "assert cfg.fcnet_hiddens == [8]\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
