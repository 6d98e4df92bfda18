"""RLlib's module APIs and RLlib behaviours the ported modules rely on, one by one."""

from __future__ import annotations

import attrs
import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import (
    Columns,
    ConfigError,
    MultiRLModuleSpec,
    RLModuleConfig,
    RLModuleSpec,
    SpecError,
    TorchRLModule,
    compute_actions,
)
from rlmodules.apis import (
    InferenceOnlyAPI,
    QNetAPI,
    SelfSupervisedLossAPI,
    TargetNetworkAPI,
    ValueFunctionAPI,
)
from rlmodules.distributions import (
    TorchCategorical,
    TorchDiagGaussian,
    TorchMultiDistribution,
)
from rlmodules.plugins import DefaultDQNTorchRLModule, DefaultPPOTorchRLModule, PPOTorchRLModule

BOX4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
DISCRETE = gym.spaces.Discrete(2)


class Lean(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    def setup(self):
        self.actor = torch.nn.Linear(4, 2)
        self.critic = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 1))

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.actor(batch[Columns.OBS])}

    def compute_values(self, batch, embeddings=None):
        return self.critic(batch[Columns.OBS]).squeeze(-1)

    def get_non_inference_attributes(self):
        return ["critic"]


def test_default_modules_implement_rllibs_apis():
    assert PPOTorchRLModule is DefaultPPOTorchRLModule
    assert issubclass(DefaultPPOTorchRLModule, (ValueFunctionAPI, InferenceOnlyAPI))
    for api in (TargetNetworkAPI, QNetAPI, InferenceOnlyAPI):
        assert issubclass(DefaultDQNTorchRLModule, api)
    dqn = DefaultDQNTorchRLModule(observation_space=BOX4, action_space=DISCRETE)
    lean = dqn.get_state(inference_only=True)
    assert lean and not any(k.startswith("target_") for k in lean)
    out = dqn.forward_target({Columns.OBS: torch.zeros(3, 4)})
    torch.testing.assert_close(out["qf_preds"], dqn.compute_q_values(
        {Columns.OBS: torch.zeros(3, 4)})["qf_preds"])


def test_an_api_left_unimplemented_cannot_be_built():
    class Half(TorchRLModule, TargetNetworkAPI):
        def make_target_networks(self):
            pass

    with pytest.raises(TypeError, match="abstract"):
        Half(observation_space=BOX4, action_space=DISCRETE)


def test_inference_only_build_lacks_the_named_sub_modules_and_loads_a_full_state():
    full = Lean(observation_space=BOX4, action_space=DISCRETE)
    lean = Lean(observation_space=BOX4, action_space=DISCRETE, inference_only=True)
    assert lean.critic is None and full.critic is not None
    state = full.get_state(inference_only=True)
    assert sorted(state) == ["actor.bias", "actor.weight"]
    lean.set_state(full.get_state())  # the full state loads too (extras ignored)
    obs = {Columns.OBS: torch.randn(3, 4)}
    torch.testing.assert_close(lean.forward_inference(obs)[Columns.ACTION_DIST_INPUTS],
                               full.forward_inference(obs)[Columns.ACTION_DIST_INPUTS])


def test_ppo_critic_weights_leave_an_inference_only_state():
    module = DefaultPPOTorchRLModule(observation_space=BOX4, action_space=DISCRETE,
                                     model_config={"vf_share_layers": False})
    keys = module.get_state(inference_only=True).keys()
    assert keys and not any(k.startswith(("vf.", "vf_encoder.")) for k in keys)


class Curiosity(TorchRLModule, SelfSupervisedLossAPI):
    def setup(self):
        self.net = torch.nn.Linear(4, 4)

    def _forward_train(self, batch, **kwargs):
        error = (self.net(batch[Columns.OBS]) - batch[Columns.NEXT_OBS]).pow(2).sum(-1)
        return {Columns.INTRINSIC_REWARDS: error}

    def compute_self_supervised_loss(self, *, learner, module_id, config, batch, fwd_out):
        return fwd_out[Columns.INTRINSIC_REWARDS].mean()


def test_learner_only_modules_are_left_out_of_inference_builds():
    specs = {"policy": RLModuleSpec(module_class=Lean),
             "curiosity": RLModuleSpec(module_class=Curiosity, learner_only=True)}
    spec = MultiRLModuleSpec(observation_space=BOX4, action_space=DISCRETE,
                             rl_module_specs=specs)
    learner = spec.build()
    assert learner.keys() == ["policy", "curiosity"] and learner["curiosity"].learner_only
    acting = attrs.evolve(spec, inference_only=True).build()
    assert acting.keys() == ["policy"]
    batch = {Columns.OBS: torch.randn(5, 4), Columns.NEXT_OBS: torch.randn(5, 4)}
    out = learner["curiosity"].forward_train(batch)
    assert out[Columns.INTRINSIC_REWARDS].shape == (5,)
    loss = learner["curiosity"].compute_self_supervised_loss(
        learner=None, module_id="curiosity", config=None, batch=batch, fwd_out=out)
    loss.backward()
    assert learner["curiosity"].net.weight.grad is not None
    restored = RLModuleSpec.from_dict(specs["curiosity"].to_dict())
    assert restored.learner_only is True


def test_learner_only_and_inference_only_together_are_refused():
    with pytest.raises(SpecError, match="got inference_only=True and learner_only=True; a "
                                        "learner-only module is never built for inference"):
        Curiosity(observation_space=BOX4, action_space=DISCRETE, inference_only=True,
                  learner_only=True)
    with pytest.raises(SpecError, match="learner_only must be true or false, got 'yes'"):
        RLModuleSpec.from_dict({"module_class": "ppo", "learner_only": "yes"})


def test_config_is_deprecated_but_available():
    module = Lean(observation_space=BOX4, action_space=DISCRETE, model_config={"x": 1})
    with pytest.warns(DeprecationWarning, match=r"Lean.config is deprecated \(as in RLlib\)"):
        config = module.config
    assert config.observation_space is BOX4 and config.model_config_dict == {"x": 1}
    assert config.inference_only is False and config.learner_only is False
    with pytest.warns(DeprecationWarning, match="RLModuleConfig is deprecated"):
        RLModuleConfig(observation_space=BOX4)


class Tempered(TorchCategorical):
    def __init__(self, logits=None, probs=None, temperature: float = 4.0):
        super().__init__(logits / temperature, probs)


class WithOwnDistribution(TorchRLModule):
    def setup(self):
        self.pi = torch.nn.Linear(4, 2)
        self.action_dist_cls = Tempered

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


def test_a_modules_action_dist_cls_serves_all_three_forwards():
    module = WithOwnDistribution(observation_space=BOX4, action_space=DISCRETE)
    assert module.get_inference_action_dist_cls() is Tempered
    assert module.get_exploration_action_dist_cls() is Tempered
    assert module.get_train_action_dist_cls() is Tempered
    logits = torch.randn(6, 2)
    torch.testing.assert_close(Tempered.from_logits(logits).logits, logits / 4.0)
    assert isinstance(Tempered.from_logits(logits), TorchCategorical)
    out = compute_actions(module, {Columns.OBS: torch.randn(6, 4)}, explore=True)
    assert out[Columns.ACTIONS].shape == (6,)


def test_exploration_and_train_distributions_follow_inference_as_in_rllib():
    class Greedy(Lean):
        def get_inference_action_dist_cls(self):
            return Tempered

    module = Greedy(observation_space=BOX4, action_space=DISCRETE)
    assert module.get_exploration_action_dist_cls() is Tempered
    assert module.get_train_action_dist_cls() is Tempered


def test_rllib_distribution_names_are_the_registered_classes():
    from rlmodules import registry

    assert TorchCategorical is registry.get("distribution", "categorical")
    assert TorchDiagGaussian is registry.get("distribution", "diag_gaussian")
    probs = torch.tensor([[0.25, 0.75]])
    torch.testing.assert_close(TorchCategorical(probs=probs).logp(torch.tensor([1])),
                               probs[:, 1].log())
    with pytest.raises(ValueError, match="needs exactly one of logits and probs, got both"):
        TorchCategorical(logits=probs, probs=probs)
    gaussian = TorchDiagGaussian(loc=torch.zeros(3, 2), scale=torch.full((3, 2), 2.0))
    torch.testing.assert_close(gaussian.logp(torch.zeros(3, 2)),
                               torch.distributions.Normal(0.0, 2.0).log_prob(
                                   torch.zeros(3, 2)).sum(-1))


def test_partial_multi_distribution_fixes_children_and_input_lens():
    space = gym.spaces.Tuple((gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,))))
    partial = TorchMultiDistribution.get_partial_dist_cls(
        space=space, child_distribution_cls_struct=(TorchCategorical, TorchDiagGaussian),
        input_lens=[3, 4])
    assert partial.required_input_dim(space) == 7
    dist = partial.from_logits(torch.zeros(5, 7))
    assert type(dist) is partial
    discrete, box = dist.sample()
    assert discrete.shape == (5,) and box.shape == (5, 2)
    with pytest.raises(ConfigError, match=r"already fixes \['input_lens'\]; pass them when "
                                          r"calling get_partial_dist_cls"):
        partial.from_logits(torch.zeros(5, 7), input_lens=[3, 4])


def test_intrinsic_rewards_column_has_rllibs_value():
    assert Columns.INTRINSIC_REWARDS == "intrinsic_rewards"


class OwnNetworks(DefaultPPOTorchRLModule):
    def setup(self):
        self.net = torch.nn.Linear(4, self.model_config["hidden_dim"])


def test_a_default_module_subclass_with_its_own_setup_takes_extra_model_config_keys():
    module = OwnNetworks(observation_space=BOX4, action_space=DISCRETE,
                         model_config={"hidden_dim": 7})
    assert module.net.out_features == 7
    assert module.model_config["hidden_dim"] == 7
    assert module.model_config["fcnet_hiddens"] == [256, 256]  # RLlib merges the defaults
    with pytest.raises(ConfigError, match="unknown model config key 'hidden_dim' for "
                                          "DefaultModelConfig"):
        DefaultPPOTorchRLModule(observation_space=BOX4, action_space=DISCRETE,
                                model_config={"hidden_dim": 7})


def test_default_ppo_forward_train_need_not_return_embeddings():
    class NoEmbeddings(DefaultPPOTorchRLModule):
        def _forward_train(self, batch, **kwargs):
            return self._forward(batch)

    module = NoEmbeddings(observation_space=BOX4, action_space=DISCRETE)
    batch = {Columns.OBS: torch.randn(3, 4)}
    assert Columns.EMBEDDINGS not in module.forward_train(batch)
    assert module.compute_values(batch, None).shape == (3,)


def test_learner_only_survives_a_checkpoint_and_inference_loads_leave_it_out(tmp_path):
    from rlmodules import RLModule

    specs = {"policy": RLModuleSpec(module_class=Lean),
             "curiosity": RLModuleSpec(module_class=Curiosity, learner_only=True)}
    multi = MultiRLModuleSpec(observation_space=BOX4, action_space=DISCRETE,
                              rl_module_specs=specs).build()
    multi.save_to_path(tmp_path / "ckpt")
    full = RLModule.from_checkpoint(tmp_path / "ckpt", trusted_objects=[Lean, Curiosity])
    assert full.keys() == ["policy", "curiosity"] and full["curiosity"].learner_only
    torch.testing.assert_close(full["curiosity"].net.weight, multi["curiosity"].net.weight)
    acting = RLModule.from_checkpoint(tmp_path / "ckpt", inference_only=True,
                                      trusted_objects=[Lean, Curiosity])
    assert acting.keys() == ["policy"] and acting["policy"].critic is None


def test_multi_categorical_takes_rllibs_temperatures():
    from rlmodules import SpaceError
    from rlmodules.distributions import TorchMultiCategorical

    logits = torch.randn(4, 5)
    dist = TorchMultiCategorical.from_logits(logits, input_lens=[3, 2], temperatures=[2.0, 0.5])
    expected = torch.cat([logits[:, :3] / 2.0, logits[:, 3:] / 0.5], dim=-1)
    torch.testing.assert_close(dist.logits, expected)
    with pytest.raises(SpaceError, match=r"one positive temperature per dimension \(2\), got "
                                         r"\[1.0\]"):
        TorchMultiCategorical.from_logits(logits, input_lens=[3, 2], temperatures=[1.0])
