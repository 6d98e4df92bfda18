"""rlmodules.compat: RLlib's pure utilities behave as RLlib's do."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import ConfigError, SpaceError
from rlmodules.compat import (
    FLOAT_MIN,
    batch,
    convert_to_numpy,
    convert_to_torch_tensor,
    get_activation_fn,
    make_target_network,
    normc_initializer,
    one_hot,
    override,
    same_padding,
    try_import_torch,
    unbatch,
    valid_padding,
)


def test_try_import_torch_and_float_min():
    assert try_import_torch() == (torch, torch.nn)
    assert FLOAT_MIN == float(np.finfo(np.float32).min)


def test_one_hot_of_discrete_and_multi_discrete():
    assert one_hot(torch.tensor([0, 2]), gym.spaces.Discrete(3)).tolist() == [
        [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert one_hot(torch.tensor([[1, 0]]), gym.spaces.MultiDiscrete([2, 3])).tolist() == [
        [0.0, 1.0, 1.0, 0.0, 0.0]]
    with pytest.raises(SpaceError, match="one_hot needs a Discrete or MultiDiscrete space"):
        one_hot(torch.zeros(2), gym.spaces.Box(-1, 1, (2,)))


def test_batch_and_unbatch_are_inverse_on_structures():
    items = [{"a": np.array([i, i]), "b": (np.float32(i),)} for i in range(3)]
    stacked = batch(items)
    assert stacked["a"].shape == (3, 2) and stacked["b"][0].shape == (3,)
    rows = unbatch(stacked)
    assert [r["a"].tolist() for r in rows] == [[0, 0], [1, 1], [2, 2]]
    converted = convert_to_torch_tensor(stacked)
    assert converted["a"].dtype == torch.int64 and converted["b"][0].dtype == torch.float32
    assert convert_to_numpy(converted)["a"].tolist() == stacked["a"].tolist()


@pytest.mark.parametrize("size, kernel, stride", [((42, 42), 4, 2), ((11, 7), (3, 5), 3),
                                                  ((84, 84), 8, 4), ((9, 9), 1, 2)])
def test_padding_helpers_give_the_convolution_output_size(size, kernel, stride):
    image = torch.zeros(1, 1, *size)
    padding, out = same_padding(size, kernel, stride)
    conv = torch.nn.Conv2d(1, 1, kernel, stride)
    assert tuple(conv(torch.nn.ZeroPad2d(padding)(image)).shape[-2:]) == out
    assert out == tuple(-(-s // (stride if isinstance(stride, int) else stride[0]))
                        for s in size)
    assert tuple(conv(image).shape[-2:]) == valid_padding(size, kernel, stride)


def test_activation_and_initializers():
    assert get_activation_fn("relu") is torch.nn.ReLU and get_activation_fn("linear") is None
    with pytest.raises(ConfigError, match="unknown activation 'rellu'"):
        get_activation_fn("rellu")
    weight = torch.empty(5, 8)
    normc_initializer(0.5)(weight)
    torch.testing.assert_close(weight.norm(dim=1), torch.full((5,), 0.5))


def test_make_target_network_is_a_frozen_copy():
    main = torch.nn.Linear(3, 2)
    target = make_target_network(main)
    assert target is not main and not any(p.requires_grad for p in target.parameters())
    torch.testing.assert_close(target.weight, main.weight)


def test_override_checks_that_the_parent_has_the_method():
    class Base:
        def setup(self):
            pass

    assert override(Base)(Base.setup) is Base.setup
    with pytest.raises(NameError, match="setupp does not override a method of Base"):
        @override(Base)
        def setupp(self):
            pass
