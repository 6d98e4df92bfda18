"""RLModuleSpec / MultiRLModuleSpec: building, inheritance, aliases, JSON round trips."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch
from rlmodules import (
    ConfigError,
    DefaultModelConfig,
    MultiRLModule,
    MultiRLModuleSpec,
    RLModuleSpec,
    SpaceError,
    SpecError,
    TorchRLModule,
    UnknownNameError,
)
from rlmodules.plugins import DefaultPPOTorchRLModule

OBS = gym.spaces.Box(-1.0, 1.0, (4,))
ACT = gym.spaces.Discrete(2)


class TinyPolicy(TorchRLModule):
    """A module-level class, so specs can refer to it by import path."""

    def setup(self):
        self.pi = torch.nn.Linear(self.observation_space.shape[0], self.action_space.n)

    def _forward(self, batch, **kwargs):
        return {"action_dist_inputs": self.pi(batch["obs"])}


def test_build_by_registered_name_class_and_import_path():
    for ref in ("ppo", "rlmodules/ppo", DefaultPPOTorchRLModule,
                "rlmodules.plugins.ppo:DefaultPPOTorchRLModule"):
        module = RLModuleSpec(module_class=ref, observation_space=OBS, action_space=ACT).build()
        assert type(module) is DefaultPPOTorchRLModule


def test_spec_without_module_class_says_what_to_pass():
    with pytest.raises(SpecError, match="no module_class: pass a class, a registered name"):
        RLModuleSpec(observation_space=OBS, action_space=ACT).build()


def test_spec_without_spaces_names_the_missing_field():
    with pytest.raises(SpecError, match="has no observation_space"):
        RLModuleSpec(module_class="ppo", action_space=ACT).build()


def test_unknown_module_name_suggests_and_lists():
    with pytest.raises(UnknownNameError, match="Did you mean 'ppo'.*Installed module names"):
        RLModuleSpec(module_class="pp0", observation_space=OBS, action_space=ACT).build()


def test_module_class_that_is_not_a_module_is_refused():
    with pytest.raises(SpecError, match="not an RLModule class"):
        RLModuleSpec(module_class="json:dumps", observation_space=OBS, action_space=ACT).build()


def test_model_config_dict_alias_warns_and_conflicts_are_refused():
    with pytest.warns(DeprecationWarning, match="model_config_dict.*removed in rlmodules 0.4.0"):
        spec = RLModuleSpec(module_class="ppo", model_config_dict={"fcnet_hiddens": [8]})
    assert spec.model_config == {"fcnet_hiddens": [8]}
    with pytest.warns(DeprecationWarning), pytest.raises(SpecError, match="both model_config"):
        RLModuleSpec(model_config={}, model_config_dict={})


def test_update_fills_or_overrides():
    base = RLModuleSpec(module_class="ppo")
    base.update(RLModuleSpec(observation_space=OBS, module_class="bc"), override=False)
    assert base.module_class == "ppo" and base.observation_space == OBS
    base.update(RLModuleSpec(module_class="bc"))
    assert base.module_class == "bc"
    with pytest.raises(SpecError, match="needs an RLModuleSpec"):
        base.update({"module_class": "bc"})


def test_json_round_trip_of_a_default_module_spec():
    spec = RLModuleSpec(
        module_class=DefaultPPOTorchRLModule,
        observation_space=OBS,
        action_space=ACT,
        model_config=DefaultModelConfig(fcnet_hiddens=[16]),
    )
    data = json.loads(json.dumps(spec.to_dict()))
    assert data["module_class"] == "rlmodules/ppo"  # persisted by qualified registered name
    restored = RLModuleSpec.from_dict(data)
    module = restored.build()
    assert module.model_config.fcnet_hiddens == [16]


def test_json_round_trip_by_import_path_for_unregistered_classes():
    spec = RLModuleSpec(module_class=TinyPolicy, observation_space=OBS, action_space=ACT)
    data = json.loads(json.dumps(spec.to_dict()))
    assert data["module_class"].endswith(":TinyPolicy")
    assert isinstance(RLModuleSpec.from_dict(data).build(), TinyPolicy)


def test_local_classes_cannot_be_written_to_json():
    class Local(TinyPolicy):
        pass

    with pytest.raises(SpecError, match="neither registered nor importable"):
        RLModuleSpec(module_class=Local).to_dict()


def test_non_json_model_config_is_refused():
    with pytest.raises(ConfigError, match="cannot be written as JSON"):
        RLModuleSpec(module_class="ppo", model_config={"fn": print}).to_dict()


def test_from_dict_rejects_unknown_fields_with_a_suggestion():
    with pytest.raises(SpecError, match="unknown RLModuleSpec field 'modul_class'.*module_class"):
        RLModuleSpec.from_dict({"modul_class": "ppo"})


def test_multi_spec_sub_specs_inherit_spaces_and_inference_only():
    spec = MultiRLModuleSpec(
        observation_space=OBS,
        action_space=ACT,
        inference_only=True,
        rl_module_specs={
            "a": RLModuleSpec(module_class="ppo"),
            "b": RLModuleSpec(module_class="bc", observation_space=gym.spaces.Box(-1, 1, (3,))),
        },
    )
    multi = spec.build()
    assert isinstance(multi, MultiRLModule)
    assert multi["a"].observation_space == OBS and multi["a"].inference_only
    assert multi["b"].observation_space.shape == (3,)
    assert multi["a"].vf is None  # inference-only PPO has no value branch


def test_one_shared_spec_serves_every_module_id():
    spec = MultiRLModuleSpec(
        observation_space=OBS, action_space=ACT, rl_module_specs=RLModuleSpec(module_class="bc")
    )
    assert list(spec.build().keys()) == ["default_policy"]
    assert sorted(spec.build(module_ids=["p0", "p1"]).keys()) == ["p0", "p1"]


def test_multi_spec_errors():
    with pytest.raises(SpecError, match="no rl_module_specs"):
        MultiRLModuleSpec().build()
    with pytest.raises(SpecError, match=r"rl_module_specs\['a'\] must be an RLModuleSpec"):
        MultiRLModuleSpec(rl_module_specs={"a": {"module_class": "ppo"}})
    spec = MultiRLModuleSpec(rl_module_specs={"a": RLModuleSpec(module_class="ppo")})
    with pytest.raises(SpecError, match=r"module ids \['b'\] have no spec"):
        spec.build(module_ids=["a", "b"])
    with pytest.warns(DeprecationWarning, match="module_specs"):
        MultiRLModuleSpec(module_specs={"a": RLModuleSpec(module_class="ppo")})


def test_multi_spec_json_round_trip_single_and_dict():
    for specs in (RLModuleSpec(module_class="bc"),
                  {"p0": RLModuleSpec(module_class="ppo"), "p1": RLModuleSpec(module_class="bc")}):
        spec = MultiRLModuleSpec(observation_space=OBS, action_space=ACT, rl_module_specs=specs)
        restored = MultiRLModuleSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
        ids = ["p0", "p1"]
        assert restored.resolved_specs(ids).keys() == spec.resolved_specs(ids).keys()
        assert sorted(restored.build(module_ids=["p0", "p1"]).keys()) == ["p0", "p1"]


_BOX = {"type": "Box", "shape": [4], "low": -1, "high": 1}
_RULE = (
    "module ids are non-empty strings without '.' or '/' (a path such as 'a/b' addresses a "
    "nested component) and other than '__multi__' (a MultiRLModule's shared weights)"
)


@pytest.mark.parametrize(
    "data, error, message",
    [
        ({"observation_space": {"type": "Dict", "spaces": [1]}}, SpaceError,
         "malformed Dict space in JSON {'type': 'Dict', 'spaces': [1]}: 'spaces' must be an "
         "object {name: space}, got [1]"),
        ({"action_space": {"type": "Discrete", "n": float("inf")}}, SpaceError,
         "malformed Discrete space in JSON {'type': 'Discrete', 'n': inf}: 'n' must be an "
         "integer >= 1, got inf"),
        ({"observation_space": {"type": "Box", "shape": [10**9], "low": -1, "high": 1}},
         SpaceError, "space JSON describes more than 67,108,864 elements (the limit, reached at "
         "a Box space); a space that large is not an observation or action space a module can "
         "take"),
        ({"module_class": "ppo", "catalog_class": 5}, SpecError,
         "RLModuleSpec.catalog_class must be a class, a registered name (see `rlmodules list "
         "catalog`) or an import path 'pkg.mod:Class', got int 5"),
        ({"module_class": ["ppo"]}, SpecError,
         "RLModuleSpec.module_class must be a class, a registered name (see `rlmodules list "
         "module`) or an import path 'pkg.mod:Class', got list ['ppo']"),
    ],
    ids=["dict-spaces-list", "n-inf", "huge-box", "catalog-int", "module-list"],
)
def test_from_dict_of_bad_json_is_our_error(data, error, message):
    with pytest.raises(error) as info:
        RLModuleSpec.from_dict(data)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fcnet_kernel_initializer": "normal", "fcnet_kernel_initializer_kwargs": {"mean": "x"}},
         "DefaultModelConfig.fcnet_kernel_initializer_kwargs: mean='x' for the 'normal' "
         "initializer must be a finite number"),
        ({"head_fcnet_kernel_initializer": "kaiming_uniform",
          "head_fcnet_kernel_initializer_kwargs": {"mode": "fan_up"}},
         "DefaultModelConfig.head_fcnet_kernel_initializer_kwargs: mode='fan_up' for the "
         "'kaiming_uniform' initializer must be one of ['fan_in', 'fan_out']"),
        ({"fcnet_bias_initializer": "constant",
          "fcnet_bias_initializer_kwargs": {"val": float("nan")}},
         "DefaultModelConfig.fcnet_bias_initializer_kwargs: val=nan for the 'constant' "
         "initializer must be a finite number"),
    ],
    ids=["str-mean", "bad-mode", "nan-val"],
)
def test_bad_initializer_kwargs_values_are_a_config_error(kwargs, message):
    data = {"module_class": "ppo", "observation_space": _BOX,
            "action_space": {"type": "Discrete", "n": 2}, "model_config": kwargs}
    with pytest.raises(ConfigError) as info:
        RLModuleSpec.from_dict(data).build()
    assert str(info.value) == f"DefaultPPOTorchRLModule: {message}"


@pytest.mark.parametrize("module_id", ["a/b", "__multi__", "a.b", ""])
def test_module_ids_that_paths_or_shared_weights_use_are_refused(module_id):
    spec = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                        model_config={"fcnet_hiddens": [8]})
    with pytest.raises(SpecError) as info:
        MultiRLModuleSpec(rl_module_specs={module_id: spec})
    assert str(info.value) == f"rl_module_specs: {_RULE}; got {module_id!r}"
    multi = MultiRLModuleSpec(rl_module_specs={"p0": spec}).build()
    with pytest.raises(SpecError) as info:
        multi.add_module(module_id, multi["p0"])
    assert str(info.value) == f"MultiRLModule.add_module: {_RULE}; got {module_id!r}"
