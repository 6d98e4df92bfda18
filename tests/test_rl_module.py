"""The RLModule contract: construction, forwards and their checks, state, wrappers."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from rlmodules import (
    BatchError,
    Columns,
    ConfigError,
    MultiRLModule,
    RLModule,
    RLModuleSpec,
    SpecError,
    TorchRLModule,
    compute_actions,
)

OBS = gym.spaces.Box(-1.0, 1.0, (4,))
ACT = gym.spaces.Discrete(3)


class OneForward(TorchRLModule):
    """A single ``_forward`` serves all three phases."""

    def setup(self):
        self.calls = []
        self.pi = torch.nn.Linear(4, 3)

    def input_specs_train(self):
        return [Columns.OBS]

    def _forward(self, batch, **kwargs):
        self.calls.append(kwargs.get("phase"))
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


class ReturnsNothingUseful(TorchRLModule):
    def _forward(self, batch, **kwargs):
        return {"logits": torch.zeros(1, 3)}


def build(cls=OneForward, **kwargs):
    return cls(observation_space=OBS, action_space=ACT, **kwargs)


def test_constructor_sets_attributes_then_calls_setup():
    module = build(model_config={"x": 1}, inference_only=True)
    assert module.observation_space == OBS and module.action_space == ACT
    assert module.inference_only is True and module.model_config == {"x": 1}
    assert module.catalog is None and isinstance(module.pi, torch.nn.Linear)


@pytest.mark.parametrize("name", ["ppo", "bc", "dqn"])
def test_default_module_without_spaces_names_what_is_missing(name):
    from rlmodules import registry

    module_class = registry.get("module", name)
    with pytest.raises(SpecError, match="needs an observation_space and an action_space"):
        module_class(action_space=ACT)


def test_constructor_is_keyword_only():
    with pytest.raises(TypeError):
        OneForward(OBS, ACT)


def test_single_forward_serves_all_three_phases():
    module = build()
    batch = {Columns.OBS: torch.zeros(2, 4)}
    for method in (module.forward_inference, module.forward_exploration, module.forward_train):
        assert method(batch)[Columns.ACTION_DIST_INPUTS].shape == (2, 3)
    assert module(batch)[Columns.ACTION_DIST_INPUTS].requires_grad  # __call__ = forward_train


def test_module_without_any_forward_says_what_to_implement():
    class Empty(TorchRLModule):
        pass

    with pytest.raises(NotImplementedError, match="implements neither _forward nor"):
        build(Empty).forward_inference({Columns.OBS: torch.zeros(1, 4)})


def test_missing_input_key_names_module_and_key():
    with pytest.raises(BatchError, match=r"OneForward.forward_train: the input batch has no 'obs'"):
        build().forward_train({"observations": torch.zeros(1, 4)})


def test_wrong_observation_shape_says_what_is_expected():
    with pytest.raises(BatchError, match=r"observations have shape \(2, 5\).*trailing dims \(4,\)"):
        build().forward_inference({Columns.OBS: torch.zeros(2, 5)})


def test_non_dict_batch_is_refused():
    with pytest.raises(BatchError, match="expects a dict batch"):
        build().forward_inference(torch.zeros(1, 4))


def test_acting_forward_must_return_actions_or_dist_inputs():
    with pytest.raises(BatchError, match="must return 'actions' and/or 'action_dist_inputs'"):
        build(ReturnsNothingUseful).forward_exploration({Columns.OBS: torch.zeros(1, 4)})


def test_checks_can_be_switched_off():
    module = build(ReturnsNothingUseful)
    module.check_io = False
    assert "logits" in module.forward_exploration({Columns.OBS: torch.zeros(1, 4)})


def test_inference_only_module_cannot_train():
    with pytest.raises(RuntimeError, match="inference_only=True and cannot run forward_train"):
        build(inference_only=True).forward_train({Columns.OBS: torch.zeros(1, 4)})


def test_bad_model_config_type_is_a_config_error():
    with pytest.raises(ConfigError, match="model_config must be a dict"):
        build(model_config=[1, 2])


def test_default_distribution_without_a_catalog_follows_the_action_space():
    dist_cls = build().get_train_action_dist_cls()
    dist = dist_cls.from_logits(torch.zeros(2, 3))
    assert dist.sample().shape == (2,)
    assert build().get_inference_action_dist_cls() is dist_cls


def test_stateless_by_default_and_wrappers():
    module = build()
    assert module.get_initial_state() == {} and not module.is_stateful()
    assert module.unwrapped() is module
    multi = module.as_multi_rl_module()
    assert isinstance(multi, MultiRLModule) and multi["default_policy"] is module


def test_get_state_set_state_round_trip_and_mismatch():
    source, target = build(), build()
    target.set_state(source.get_state())
    assert torch.equal(target.pi.weight, source.pi.weight)
    bad = dict(source.get_state())
    bad.pop("pi.bias")
    with pytest.raises(Exception, match="missing keys \\['pi.bias'\\]"):
        target.set_state(bad)


def test_rl_module_base_is_framework_agnostic():
    import rlmodules.rl_module as base_module

    assert RLModule.framework is None
    assert "torch" not in vars(base_module)


def test_default_module_through_compute_actions_on_numpy():
    import numpy as np

    module = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [8]}).build()
    out = compute_actions(module, {Columns.OBS: np.zeros((2, 4))}, explore=True, for_env=True)
    assert out[Columns.ACTIONS_FOR_ENV].dtype == ACT.dtype
    assert all(ACT.contains(a) for a in out[Columns.ACTIONS_FOR_ENV])


def test_module_without_action_space_cannot_choose_a_distribution():

    module = OneForward(observation_space=OBS, action_space=None)
    with pytest.raises(SpecError, match="has no action_space.*build it with an action_space"):
        module.get_train_action_dist_cls()
