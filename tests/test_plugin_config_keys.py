"""Plugin-declared model_config keys: accepted, checked, given to decision hooks, shown, saved."""

from __future__ import annotations

import gymnasium as gym
import pytest
import rlmodules
from beta_plugin import BetaPlugin, ScaledBeta
from rlmodules import (
    CheckpointError,
    ConfigError,
    DefaultModelConfig,
    PluginError,
    RLModule,
    RLModuleSpec,
    registry,
)
from rlmodules.cli import main
from rlmodules.registry import ConfigKey

PENDULUM_ACTIONS = gym.spaces.Box(-2.0, 2.0, (1,))


@pytest.fixture
def beta_plugin():
    registry.register_plugin(BetaPlugin(), name="rlm_beta")
    yield
    registry.unregister_plugin("rlm_beta")


class OtherKeys:
    @rlmodules.hookimpl
    def rlmodules_config_keys(self):
        return {"use_beta": ConfigKey(type=int, default=0, doc="another plugin's key"),
                "temperature": ConfigKey(type=float, default=1.0, doc="a float key")}


def test_a_declared_key_is_accepted_by_full_or_plain_name_and_round_trips(beta_plugin):
    cfg = DefaultModelConfig.from_dict({"use_beta": True, "fcnet_hiddens": [8]})
    assert cfg.plugin_keys == {"rlm_beta.use_beta": True}
    assert cfg["use_beta"] is True and cfg.get("rlm_beta.use_beta") is True
    assert "use_beta" in cfg and "rlm_beta.use_beta" in dict(cfg)
    assert cfg.to_dict()["rlm_beta.use_beta"] is True
    assert DefaultModelConfig.from_json(cfg.to_json()) == cfg
    assert (cfg | {"rlm_beta.use_beta": False})["use_beta"] is False
    assert (cfg | {"fcnet_hiddens": [4]}).plugin_keys == cfg.plugin_keys
    assert (cfg | DefaultModelConfig()).plugin_keys == {}  # a whole config sets every key
    unset = DefaultModelConfig()
    assert unset["use_beta"] is False and unset.get("use_beta", "x") is False  # the default
    assert "plugin_keys" not in unset.to_dict() and "use_beta" not in unset.keys()


def test_a_wrong_type_names_the_key_the_type_and_the_doc(beta_plugin):
    with pytest.raises(ConfigError) as info:
        DefaultModelConfig.from_dict({"use_beta": "yes"})
    assert str(info.value) == (
        "model_config key 'rlm_beta.use_beta' must be bool (Beta distribution for bounded "
        "Box actions), got 'yes' (str)")


def test_an_unknown_key_suggests_declared_keys_and_fields(beta_plugin):
    with pytest.raises(ConfigError) as info:
        DefaultModelConfig.from_dict({"use_bta": True})
    text = str(info.value)
    assert text.startswith("unknown model config key 'use_bta' for DefaultModelConfig. "
                           "Did you mean 'use_beta'?")
    assert text.endswith("; keys declared by plugins: rlm_beta.use_beta")
    with pytest.raises(ConfigError, match="Did you mean 'fcnet_hiddens'"):
        DefaultModelConfig.from_dict({"fcnet_hidens": [8]})


def test_without_the_plugin_the_key_is_unknown():
    with pytest.raises(ConfigError, match="unknown model config key 'use_beta' .*keys declared "
                       "by plugins: none"):
        DefaultModelConfig.from_dict({"use_beta": True})


def test_a_plain_name_two_plugins_declare_needs_the_full_name(beta_plugin):
    registry.register_plugin(OtherKeys(), name="other")
    try:
        with pytest.raises(ConfigError) as info:
            DefaultModelConfig.from_dict({"use_beta": True})
        assert str(info.value) == (
            "model config key 'use_beta' for DefaultModelConfig is declared by several "
            "plugins; write one of other.use_beta, rlm_beta.use_beta")
        cfg = DefaultModelConfig.from_dict({"other.use_beta": 3, "temperature": 2})
        assert cfg.plugin_keys == {"other.use_beta": 3, "other.temperature": 2.0}
        with pytest.raises(ConfigError, match="'other.use_beta' must be int .*got True"):
            DefaultModelConfig.from_dict({"other.use_beta": True})
    finally:
        registry.unregister_plugin("other")


def test_bad_declarations_are_the_plugins_error():
    with pytest.raises(PluginError, match=r"ConfigKey type=<class 'set'> is not supported"):
        ConfigKey(type=set, default=set(), doc="x")
    with pytest.raises(PluginError, match="ConfigKey default='no' .str. is not of its "
                       "declared type bool"):
        ConfigKey(type=bool, default="no", doc="x")
    with pytest.raises(PluginError, match="ConfigKey doc must be one non-empty line"):
        ConfigKey(type=bool, default=False, doc="two\nlines")

    class Raw:
        @rlmodules.hookimpl
        def rlmodules_config_keys(self):
            return {"flag": True}

    with pytest.raises(PluginError, match=r"plugin 'raw': rlmodules_config_keys\(\) gives "
                       r"'flag' the value True; expected rlmodules.registry.ConfigKey"):
        registry.register_plugin(Raw(), name="raw")


def test_the_decision_hook_reads_the_key_and_checkpoints_record_who_declared_it(
        beta_plugin, tmp_path):
    spec = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (3,)),
                        action_space=PENDULUM_ACTIONS,
                        model_config={"fcnet_hiddens": [8], "use_beta": True})
    module = spec.build()
    assert module.get_train_action_dist_cls().base_class() is ScaledBeta
    plain = RLModuleSpec(module_class="ppo", observation_space=spec.observation_space,
                         action_space=PENDULUM_ACTIONS, model_config={"fcnet_hiddens": [8]})
    assert plain.build().get_train_action_dist_cls().base_class() is not ScaledBeta
    module.save_to_path(tmp_path / "ckpt")
    loaded = RLModule.from_checkpoint(tmp_path / "ckpt")
    assert loaded.model_config.plugin_keys == {"rlm_beta.use_beta": True}
    registry.unregister_plugin("rlm_beta")
    try:
        with pytest.raises(CheckpointError) as info:
            RLModule.from_checkpoint(tmp_path / "ckpt")
        assert str(info.value).endswith(
            "uses model_config keys that no installed plugin declares: 'rlm_beta.use_beta' "
            "(declared by plugin 'rlm_beta' in-process; register it)")
    finally:
        registry.register_plugin(BetaPlugin(), name="rlm_beta")


def test_info_shows_declared_keys(beta_plugin, capsys):
    assert main(["info", "rlm_beta.use_beta"]) == 0
    out = capsys.readouterr().out
    assert "model_config key: rlm_beta.use_beta (or 'use_beta' where unambiguous)" in out
    assert "  type:           bool\n  default:        False\n" in out
    assert main(["info", "ppo"]) == 0
    assert ("    rlm_beta.use_beta: bool = False  (in-process) Beta distribution for bounded "
            "Box actions") in capsys.readouterr().out
