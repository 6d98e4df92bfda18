"""MultiRLModule: a mapping of module ids that routes {module_id: batch}."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from rlmodules import BatchError, CheckpointError, Columns, MultiRLModule, RLModuleSpec, SpecError

OBS = gym.spaces.Box(-1.0, 1.0, (4,))
ACT = gym.spaces.Discrete(2)


def make_multi():
    spec = RLModuleSpec(module_class="bc", observation_space=OBS, action_space=ACT,
                        model_config={"fcnet_hiddens": [8]})
    multi = MultiRLModule(observation_space=OBS, action_space=ACT)
    multi.add_module("a", spec.build())
    multi.add_module("b", spec.build())
    return multi


def test_mapping_interface():
    multi = make_multi()
    assert list(multi.keys()) == ["a", "b"] and len(multi) == 2 and "a" in multi
    assert [mid for mid, _ in multi.items()] == list(multi) == ["a", "b"]
    assert multi["a"] is list(multi.values())[0]
    multi.remove_module("a")
    assert list(multi.keys()) == ["b"]
    # Sub-module parameters belong to the container (one optimizer sees them all).
    assert len(list(multi.parameters())) == len(list(multi["b"].parameters()))


def test_unknown_module_id_lists_the_known_ones():
    multi = make_multi()
    with pytest.raises(KeyError, match=r"no module id 'c'.*\['a', 'b'\]"):
        multi["c"]
    with pytest.raises(KeyError, match="no module id 'c'"):
        multi.remove_module("c")
    multi.remove_module("c", raise_err_if_not_found=False)


def test_add_module_guards():
    multi = make_multi()
    with pytest.raises(SpecError, match="already exists; pass override=True"):
        multi.add_module("a", multi["b"])
    multi.add_module("a", multi["b"], override=True)
    with pytest.raises(SpecError, match="needs an RLModule"):
        multi.add_module("c", torch.nn.Linear(1, 1))
    with pytest.raises(SpecError, match="module ids are non-empty strings"):
        multi.add_module("x.y", multi["b"])


def test_forwards_route_per_module_and_refuse_unknown_ids():
    multi = make_multi()
    batch = {"a": {Columns.OBS: torch.zeros(3, 4)}, "b": {Columns.OBS: torch.ones(1, 4)}}
    out = multi.forward_exploration(batch)
    assert out["a"][Columns.ACTION_DIST_INPUTS].shape == (3, 2)
    assert out["b"][Columns.ACTION_DIST_INPUTS].shape == (1, 2)
    with pytest.raises(BatchError, match="no module id 'zz'"):
        multi.forward_train({"zz": {Columns.OBS: torch.zeros(1, 4)}})


def test_state_is_per_module_id_and_unknown_ids_are_refused():
    source, target = make_multi(), make_multi()
    target.set_state(source.get_state())
    for mid in ("a", "b"):
        for p, q in zip(source[mid].parameters(), target[mid].parameters()):
            assert torch.equal(p, q)
    assert list(source.get_state(components="a")) == ["a"]
    with pytest.raises(CheckpointError, match=r"module ids \['c'\] are not in it"):
        target.set_state({"c": {}})


def test_multi_has_no_single_distribution():
    with pytest.raises(TypeError, match="one action distribution per module id"):
        make_multi().get_train_action_dist_cls()
