"""OnnxPolicy's numpy exploration draws from the same distributions as the built-in torch
ones: its log-probabilities equal theirs for the same actions, and its samples have the
distributions' frequencies and moments."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import ExportError, registry
from rlmodules.catalog import default_action_dist_cls
from rlmodules_onnx.describe import describe_distribution
from rlmodules_onnx.sampling import sample

SPACES = {
    "categorical": gym.spaces.Discrete(4, start=2),
    "multi_categorical": gym.spaces.MultiDiscrete([3, 2], start=[1, 0]),
    "bernoulli": gym.spaces.MultiBinary(3),
    "diag_gaussian": gym.spaces.Box(-1.0, 1.0, (2,)),
    "squashed_gaussian": gym.spaces.Box(np.array([-2.0, 0.0], np.float32),
                                        np.array([2.0, 1.0], np.float32)),
    "multi_distribution": gym.spaces.Dict({"move": gym.spaces.Discrete(3),
                                           "aim": gym.spaces.Box(-1.0, 1.0, (2,))}),
}


def _dist_cls(name, space):
    if name == "squashed_gaussian":
        return registry.get("distribution", name).for_space(space)
    return default_action_dist_cls(space)


def _torch(actions):
    if isinstance(actions, dict):
        return {k: torch.as_tensor(v) for k, v in actions.items()}
    return torch.as_tensor(actions)


@pytest.mark.parametrize("name", list(SPACES))
def test_numpy_logp_equals_the_torch_distributions(name):
    space = SPACES[name]
    dist_cls = _dist_cls(name, space)
    desc = describe_distribution(dist_cls, space)
    assert desc["type"] == name
    inputs = np.random.default_rng(0).normal(size=(256, dist_cls.input_dim)).astype(np.float32)
    actions, logp = sample(desc, inputs, np.random.default_rng(1))
    expected = dist_cls.from_logits(torch.as_tensor(inputs)).logp(_torch(actions)).numpy()
    assert logp.dtype == np.float32 and logp.shape == (256,)
    if name == "squashed_gaussian":
        assert (actions >= space.low).all() and (actions <= space.high).all()
        # Both use the exact pre-squash draw when sampling; recomputed from a float32 action
        # the torch side can only invert the squash where it is not saturated.
        unit = (actions - (space.high + space.low) / 2) / ((space.high - space.low) / 2)
        inside = (np.abs(unit) < 0.999).all(-1)
        assert inside.sum() > 200
        logp, expected = logp[inside], expected[inside]
    assert np.allclose(logp, expected, atol=1e-4, rtol=1e-4)


def test_samples_have_the_distributions_frequencies_and_moments():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.1, 0.2, 0.7]] * 20_000, dtype=np.float32))
    actions, _ = sample({"type": "categorical", "start": 0}, logits, rng)
    assert np.allclose(np.bincount(actions, minlength=3) / 20_000, [0.1, 0.2, 0.7], atol=0.015)
    gaussian = {"type": "diag_gaussian", "log_std_min": -20.0, "log_std_max": 10.0}
    inputs = np.tile(np.array([[1.5, np.log(0.5)]], dtype=np.float32), (20_000, 1))
    actions, _ = sample(gaussian, inputs, rng)
    assert abs(actions.mean() - 1.5) < 0.02 and abs(actions.std() - 0.5) < 0.02


def test_a_seed_makes_exploration_reproducible():
    desc = describe_distribution(_dist_cls("diag_gaussian", SPACES["diag_gaussian"]),
                                 SPACES["diag_gaussian"])
    inputs = np.zeros((4, 4), dtype=np.float32)
    first, _ = sample(desc, inputs, np.random.default_rng(5))
    again, _ = sample(desc, inputs, np.random.default_rng(5))
    assert np.array_equal(first, again)


def test_a_distribution_it_cannot_sample_is_described_by_name_and_refused():
    class Plugins(default_action_dist_cls(gym.spaces.Discrete(2))):
        pass

    desc = describe_distribution(Plugins, gym.spaces.Discrete(2))
    assert desc == {"type": None, "class": desc["class"]} and "Plugins" in desc["class"]
    with pytest.raises(ExportError, match=r"cannot explore with action distribution "
                       r"'.*Plugins': OnnxPolicy samples categorical, multi_categorical, "
                       r"bernoulli, diag_gaussian, squashed_gaussian, deterministic, "
                       r"multi_distribution, and no numpy sampler is registered for action "
                       r"distribution '.*Plugins'; the plugin that provides it can register one "
                       r"with the rlmodules_onnx_samplers hook \(see rlmodules_onnx.hookspecs\) "
                       r"before exporting; use explore=False"):
        sample(desc, np.zeros((1, 2), dtype=np.float32), np.random.default_rng(0))
