"""A plugin's distribution in OnnxPolicy: the plugin registers its numpy sampler through the
``rlmodules_onnx_samplers`` hook and exploring works; without one, `rlmodules export` warns
at export time and OnnxPolicy acts greedily, while explore=True names the distribution and
the hook. The export checks the sampler against the torch distribution."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import rlmodules
import torch
from rlmodules import ExportError, TorchRLModule
from rlmodules.distribution import Distribution
from rlmodules.export import export
from rlmodules_onnx import ExplorationUnavailableWarning, OnnxPolicy

BOX = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


class Laplace(Distribution):
    """A diagonal Laplace distribution (location, log-scale): a plugin's distribution."""

    def __init__(self, loc, log_scale):
        self.dist = torch.distributions.Laplace(loc, log_scale.exp(), validate_args=False)

    @classmethod
    def from_logits(cls, logits, **kwargs):
        loc, log_scale = logits.chunk(2, dim=-1)
        return cls(loc, log_scale)

    @classmethod
    def required_input_dim(cls, space, **kwargs):
        return 2 * int(np.prod(space.shape))

    def sample(self):
        return self.dist.sample()

    def logp(self, value):
        return self.dist.log_prob(value).sum(-1)

    def entropy(self):
        return self.dist.entropy().sum(-1)

    def kl(self, other):
        raise NotImplementedError

    def to_deterministic(self):
        from rlmodules.plugins import distributions

        return distributions.Deterministic(self.dist.loc)


class NumpyLaplace:
    """Its numpy sampler, as the plugin registers it for OnnxPolicy."""

    def __init__(self, scale_bias=0.0):
        self.scale_bias = scale_bias

    def sample(self, inputs, space, rng):
        loc, log_scale = np.split(inputs, 2, axis=-1)
        return rng.laplace(loc, np.exp(log_scale)).astype(np.float32)

    def logp(self, inputs, actions, space):
        loc, log_scale = np.split(inputs, 2, axis=-1)
        scale = np.exp(log_scale + self.scale_bias)
        return (-np.abs(actions - loc) / scale - np.log(2 * scale)).sum(-1)

    def deterministic(self, inputs, space):
        assert space["type"] == "Box" and space["shape"] == [2]  # the action space, as JSON
        return np.split(inputs, 2, axis=-1)[0]


class LaplacePolicy(TorchRLModule):
    def setup(self):
        self.pi = torch.nn.Linear(3, 4)

    def _forward(self, batch, **kwargs):
        return {"action_dist_inputs": self.pi(batch["obs"])}

    def get_inference_action_dist_cls(self):
        return Laplace

    def get_exploration_action_dist_cls(self):
        return Laplace

    def get_train_action_dist_cls(self):
        return Laplace


class Plugin:
    def __init__(self, sampler):
        self.sampler = sampler

    @rlmodules.hookimpl
    def rlmodules_distributions(self):
        return {"laplace": Laplace}

    @rlmodules.hookimpl
    def rlmodules_modules(self):
        return {"laplace_policy": LaplacePolicy}

    @rlmodules.hookimpl
    def rlmodules_onnx_samplers(self):
        return None if self.sampler is None else {"laplace": self.sampler}


def _module():
    torch.manual_seed(0)
    return LaplacePolicy(observation_space=gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
                         action_space=BOX)


OBS = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)


def test_a_plugin_sampler_lets_onnx_policy_explore(rlmodules_registry, tmp_path):
    rlmodules_registry.register_plugin(Plugin(NumpyLaplace()), name="rlm_laplace")
    module = _module()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: exploring is available
        out = export(module, tmp_path / "onnx", format="onnx")
    policy = OnnxPolicy(out, seed=0)
    explored = policy.compute_actions(OBS, explore=True)
    dist = Laplace.from_logits(torch.as_tensor(explored["action_dist_inputs"]))
    logp = dist.logp(torch.as_tensor(explored["actions"])).numpy()
    assert np.abs(explored["action_logp"] - logp).max() <= 1e-4
    assert explored["actions_for_env"].shape == (16, 2)
    assert np.all(np.abs(explored["actions_for_env"]) <= 1.0)  # clipped to the Box
    desc = policy.manifest.modules["default_policy"].artefact.action_distribution.exploration
    assert desc["type"] == "plugin" and desc["distribution"] == "rlm_laplace/laplace"


def test_without_a_sampler_the_export_warns_and_greedy_acting_works(rlmodules_registry,
                                                                   tmp_path, capsys):
    rlmodules_registry.register_plugin(Plugin(None), name="rlm_laplace")
    module = _module()
    with pytest.warns(ExplorationUnavailableWarning, match=r"module 'default_policy': "
                      r"OnnxPolicy will act greedily only \(explore=True will fail\): no numpy "
                      r"sampler is registered for action distribution 'rlm_laplace/laplace'; "
                      r"the plugin that provides it can register one with the "
                      r"rlmodules_onnx_samplers hook"):
        out = export(module, tmp_path / "onnx", format="onnx")
    policy = OnnxPolicy(out)
    greedy = policy.compute_actions(OBS)
    expected = rlmodules.compute_actions(module.eval(), {"obs": OBS}, explore=False)
    assert np.abs(greedy["actions"] - expected["actions"].numpy()).max() <= 1e-5
    with pytest.raises(ExportError, match=r"cannot explore with action distribution "
                       r"'rlm_laplace/laplace': .* rlmodules_onnx_samplers hook"):
        policy.compute_actions(OBS, explore=True)
    # the command line prints the warning as one line
    path = module.save_to_path(tmp_path / "ckpt")
    capsys.readouterr()
    assert rlmodules.cli.main(["export", str(path), "--out", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(
        "rlmodules export: warning: module 'default_policy': OnnxPolicy will act greedily only")


def test_a_sampler_that_disagrees_with_torch_is_not_used(rlmodules_registry, tmp_path):
    rlmodules_registry.register_plugin(Plugin(NumpyLaplace(scale_bias=0.5)), name="rlm_laplace")
    with pytest.warns(ExplorationUnavailableWarning, match=r"the numpy sampler for "
                      r"'rlm_laplace/laplace' differs from the torch distribution by "):
        out = export(_module(), tmp_path / "onnx", format="onnx")
    with pytest.raises(ExportError, match="this export cannot explore"):
        OnnxPolicy(out).compute_actions(OBS, explore=True)


def test_a_broken_sampler_hook_is_reported_and_skipped(rlmodules_registry, tmp_path):
    class Broken(Plugin):
        @rlmodules.hookimpl
        def rlmodules_onnx_samplers(self):
            raise RuntimeError("boom")

    rlmodules_registry.register_plugin(Broken(None), name="rlm_laplace")
    with pytest.warns(rlmodules.registry.PluginWarning, match=r"plugin 'rlm_laplace': "
                      r"rlmodules_onnx_samplers\(\) failed and was skipped: boom"), \
            pytest.warns(ExplorationUnavailableWarning):
        export(_module(), tmp_path / "onnx", format="onnx")
