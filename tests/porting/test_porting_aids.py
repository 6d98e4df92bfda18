"""Smaller RLlib names and behaviours ported code relies on: RandomEnv, compat's numpy
helpers, DefaultModelConfig as a dataclass, sample_shape, RLlib-shaped catalog calls,
exploration distributions that follow a partial class, and the conformance kit on
modules without weights."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import (
    Columns,
    ConfigError,
    DefaultModelConfig,
    RLModule,
    TorchRLModule,
    compute_actions,
)
from rlmodules.compat import LARGE_INTEGER, SampleBatch, TorchCompileConfig, softmax
from rlmodules.distributions import (
    TorchCategorical,
    TorchDiagGaussian,
    TorchMultiDistribution,
)
from rlmodules.envs import RandomEnv
from rlmodules.plugins import PPOCatalog
from rlmodules.plugins.dqn import DQNModelConfig
from rlmodules.testing import check_module

BOX4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)


def test_random_env_samples_its_spaces_and_ends_episodes_as_configured():
    env = RandomEnv({"observation_space": BOX4, "action_space": gym.spaces.Discrete(3),
                     "max_episode_len": 3, "p_terminated": 0.0, "check_action_bounds": True})
    obs, _ = env.reset(seed=0)
    assert BOX4.contains(obs)
    steps = [env.step(1) for _ in range(3)]
    assert [s[3] for s in steps] == [False, False, True] and not any(s[2] for s in steps)
    assert np.array_equal(RandomEnv({"observation_space": BOX4}).reset(seed=3)[0],
                          RandomEnv({"observation_space": BOX4}).reset(seed=3)[0])
    with pytest.raises(ValueError, match="is not in Discrete"):
        env.step(7)
    with pytest.raises(ConfigError, match="no config key 'max_episode_length'. Did you mean "
                                          "'max_episode_len'"):
        RandomEnv({"max_episode_length": 3})
    with pytest.raises(ConfigError, match="p_terminated must be a probability in"):
        RandomEnv({"p_terminated": 2})


def test_compat_has_rllibs_numpy_helpers_and_names():
    probs = softmax(np.array([[0.0, np.log(3.0)], [1000.0, 0.0]]))
    np.testing.assert_allclose(probs, [[0.25, 0.75], [1.0, 1e-6]])
    assert LARGE_INTEGER == 100_000_000
    assert SampleBatch.OBS == Columns.OBS and SampleBatch({"obs": 1})["obs"] == 1
    assert dataclasses.asdict(TorchCompileConfig()) == {
        "torch_dynamo_backend": "inductor", "torch_dynamo_mode": None, "kwargs": {}}


def test_default_model_config_is_a_dataclass_that_keeps_its_checks():
    config = DefaultModelConfig(fcnet_hiddens=[64])
    assert dataclasses.is_dataclass(config) and dataclasses.is_dataclass(DQNModelConfig)
    data = dataclasses.asdict(config)
    assert data["fcnet_hiddens"] == [64] and DefaultModelConfig(**data) == config
    assert [f.name for f in dataclasses.fields(DefaultModelConfig)] == [
        *DefaultModelConfig.field_names(), "plugin_keys"]  # plugins' keys survive replace()
    assert dataclasses.asdict(DQNModelConfig())["epsilon"] == [(0, 1.0), (10000, 0.05)]
    assert dataclasses.replace(config, vf_share_layers=False).vf_share_layers is False
    with pytest.raises(ConfigError, match="is not a known activation"):
        dataclasses.replace(config, fcnet_activation="tanhh")
    assert config | {"fcnet_hiddens": [8]} == DefaultModelConfig(fcnet_hiddens=[8])


def test_distributions_take_a_sample_shape():
    categorical = TorchCategorical(logits=torch.randn(5, 3))
    actions, logp = categorical.sample_and_logp(sample_shape=(7,))
    assert actions.shape == logp.shape == (7, 5)
    torch.testing.assert_close(logp[2], categorical.logp(actions[2]))
    gaussian = TorchDiagGaussian.from_logits(torch.randn(5, 4, requires_grad=True))
    actions, logp = gaussian.rsample_and_logp(sample_shape=(2, 3))
    assert actions.shape == (2, 3, 5, 2) and logp.shape == (2, 3, 5)
    logp.sum().backward()  # reparameterised: gradients reach the inputs


def test_catalog_takes_rllibs_framework_keyword_and_gives_latent_dims():
    catalog = PPOCatalog(observation_space=BOX4, action_space=gym.spaces.Discrete(2),
                         model_config={"fcnet_hiddens": [32, 7]})
    assert catalog.latent_dims == (7,)
    assert catalog.build_encoder(framework="torch").output_dim == 7
    assert catalog.build_pi_head(framework="torch")(torch.zeros(3, 7)).shape == (3, 2)
    assert catalog.build_vf_head()(torch.zeros(3, 7)).shape == (3, 1)
    assert catalog.get_action_dist_cls(framework="torch") is catalog.get_action_dist_cls()
    with pytest.raises(ConfigError, match=r"build_encoder\(framework='tf2'\): rlmodules builds "
                                          r"torch networks only"):
        catalog.build_encoder(framework="tf2")


class PartialActions(TorchRLModule):
    """RLlib's autoregressive pattern: inference's class is a partial MultiDistribution."""

    def setup(self):
        self.net = torch.nn.Linear(4, 5)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.net(batch[Columns.OBS])}

    def get_inference_action_dist_cls(self):
        return TorchMultiDistribution.get_partial_dist_cls(
            child_distribution_cls_struct=(TorchCategorical, TorchDiagGaussian),
            input_lens=(3, 2))


def test_exploration_and_train_distributions_follow_an_overridden_inference_class():
    module = PartialActions(observation_space=BOX4, action_space=gym.spaces.Tuple(
        (gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (1,), np.float32))))
    partial = module.get_inference_action_dist_cls()  # a new partial class per call
    for chosen in (module.get_exploration_action_dist_cls(), module.get_train_action_dist_cls()):
        assert chosen.__name__ == partial.__name__ == "MultiDistributionPartial"
    obs = torch.randn(6, 4)
    out = compute_actions(module, {Columns.OBS: obs}, explore=True, for_env=True)
    expected = partial.from_logits(module.net(obs)).logp(out[Columns.ACTIONS])
    torch.testing.assert_close(out[Columns.ACTION_LOGP], expected)
    assert all(module.action_space.contains(a) for a in zip(*out[Columns.ACTIONS_FOR_ENV]))


class NumpyHeuristic(RLModule):
    def _forward(self, batch, **kwargs):
        return {Columns.ACTIONS: np.asarray(batch[Columns.OBS]).astype(np.int64) % 3}

    def _forward_train(self, batch, **kwargs):
        raise NotImplementedError("a heuristic is not trained")


def test_the_conformance_kit_checks_a_module_without_weights_that_returns_numpy():
    report = check_module(NumpyHeuristic(observation_space=gym.spaces.Discrete(4),
                                         action_space=gym.spaces.Discrete(3)))
    assert report.ok, report.summary()
    summary = report.summary()
    assert "forward_outputs" in summary and "0 failed" in summary
    assert "a module without weights acts by its own rule" in summary
