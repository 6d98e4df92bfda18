"""The behaviours RLlib's own RLModule-layer unit tests check (its spec, MultiRLModule,
TorchRLModule, LSTM-with-target-network, DQN RL-module and squashed-Gaussian tests),
one test each, on look-alike modules written in RLlib's style (``rllib_style/``) and
ported with ``rlmodules port --write``. What needs a Ray cluster or a GPU is not here:
the env runner half of the model-config propagation test (``MultiAgentEnvRunner``) and
the torch.compile GPU memory test.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import shutil
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import (
    DEFAULT_MODULE_ID,
    Columns,
    DefaultModelConfig,
    MultiRLModule,
    MultiRLModuleSpec,
    RLModuleSpec,
    SpecError,
    TorchRLModule,
)
from rlmodules.apis import TARGET_NETWORK_ACTION_DIST_INPUTS
from rlmodules.cli import main
from rlmodules.distributions import TorchSquashedGaussian
from rlmodules.models import ENCODER_OUT
from rlmodules.plugins import DefaultDQNTorchRLModule, DQNCatalog

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SOURCES = Path(__file__).parent / "rllib_style"
PACKAGE = "ported_rllib_units"
FILES = ("vpg_rlm.py", "lstm_target_rlm.py")
CARTPOLE_OBS = gym.spaces.Box(-4.8, 4.8, (4,), np.float32)
TWO = gym.spaces.Discrete(2)


@pytest.fixture(scope="module")
def ported(tmp_path_factory):
    root = tmp_path_factory.mktemp("ported_units")
    (root / PACKAGE).mkdir()
    for name in FILES:
        shutil.copy(SOURCES / name, root / PACKAGE / name)
    (root / PACKAGE / "__init__.py").write_text("")
    assert main(["port", str(root / PACKAGE), "--write"]) == 0
    sys.path.insert(0, str(root))
    yield importlib.import_module(f"{PACKAGE}.vpg_rlm"), importlib.import_module(
        f"{PACKAGE}.lstm_target_rlm")
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n.startswith(PACKAGE)]:
        del sys.modules[name]


def vpg_spec(vpg, hidden=32, **kwargs):
    return RLModuleSpec(module_class=vpg.VPGLikeRLModule, observation_space=CARTPOLE_OBS,
                        action_space=TWO, model_config={"hidden_dim": hidden}, **kwargs)


def same_state(a, b):
    return a.keys() == b.keys() and all(
        same_state(a[k], b[k]) if isinstance(a[k], dict) else torch.equal(a[k], b[k]) for k in a)


# --- RLlib's test_rl_module_specs.py ----------------------------------------------------------
def test_single_agent_spec(ported):
    vpg, _ = ported
    assert isinstance(vpg_spec(vpg, 64).build(), vpg.VPGLikeRLModule)


def test_multi_agent_spec(ported):
    vpg, _ = ported
    spec = MultiRLModuleSpec(rl_module_specs={f"module_{i}": vpg_spec(vpg, 32 * (i + 1))
                                              for i in range(2)})
    assert isinstance(spec.build(), MultiRLModule)


def _shared_encoder_spec(vpg):
    head = {"embedding_dim": 10, "hidden_dim": 20}
    return MultiRLModuleSpec(
        multi_rl_module_class=vpg.SharedEncoderMultiRLModule,
        rl_module_specs={
            vpg.SHARED_ENCODER_ID: RLModuleSpec(module_class=vpg.EncoderRLModule,
                                                model_config={"embedding_dim": 10}),
            "agent_1": RLModuleSpec(module_class=vpg.HeadAfterEncoderRLModule, model_config=head),
            "agent_2": RLModuleSpec(module_class=vpg.HeadAfterEncoderRLModule, model_config=head),
        },
        observation_space=CARTPOLE_OBS, action_space=TWO)


def test_customized_multi_agent_module(ported):
    vpg, _ = ported
    multi = _shared_encoder_spec(vpg).build()
    out = multi.forward_exploration({"agent_1": {Columns.OBS: torch.zeros(3, 4)}})
    assert out["agent_1"][Columns.ACTION_DIST_INPUTS].shape == (3, 2)


def test_get_spec_from_module_multi_agent(ported):
    vpg, _ = ported
    spec = MultiRLModuleSpec(rl_module_specs={f"module_{i}": vpg_spec(vpg, 32 * (i + 1))
                                              for i in range(2)})
    assert MultiRLModuleSpec.from_module(spec.build()) == spec
    shared = _shared_encoder_spec(vpg)
    rebuilt = MultiRLModuleSpec.from_module(shared.build())
    assert rebuilt.multi_rl_module_class is vpg.SharedEncoderMultiRLModule
    assert isinstance(rebuilt.build(), vpg.SharedEncoderMultiRLModule)


def test_get_spec_from_module_single_agent(ported):
    vpg, _ = ported
    spec = vpg_spec(vpg)
    assert RLModuleSpec.from_module(spec.build()) == spec
    lean = RLModuleSpec.from_module(vpg_spec(vpg, inference_only=True).build())
    assert lean.inference_only is True
    with pytest.raises(SpecError, match="use MultiRLModuleSpec.from_module for a MultiRLModule"):
        RLModuleSpec.from_module(spec.build().as_multi_rl_module())


def test_update_specs(ported):
    vpg, _ = ported
    spec = RLModuleSpec(module_class=vpg.VPGLikeRLModule, observation_space=CARTPOLE_OBS,
                        action_space=TWO, model_config="Update me!")
    spec.update(RLModuleSpec(model_config={"hidden_dim": 32}))
    assert spec.model_config == {"hidden_dim": 32} and spec.action_space == TWO


def test_update_specs_multi_agent(ported):
    vpg, _ = ported

    def first():
        return RLModuleSpec(module_class=vpg.VPGLikeRLModule, observation_space="Do not update",
                            action_space=TWO, model_config="Update me!")

    second = RLModuleSpec(model_config={"hidden_dim": 32})
    multi = vpg.SharedEncoderMultiRLModule
    spec_1 = MultiRLModuleSpec(multi, rl_module_specs={"agent_1": first()})
    spec_2 = MultiRLModuleSpec(multi, rl_module_specs={"agent_1": second})
    spec_1.update(spec_2, override=True)  # the sub-spec is replaced
    assert spec_1.rl_module_specs["agent_1"] == second
    spec_3 = MultiRLModuleSpec(multi, rl_module_specs={"agent_1": first()})
    spec_3.update(spec_2, override=False)  # the sub-spec is updated: set fields stay
    assert spec_3.rl_module_specs["agent_1"].observation_space == "Do not update"
    assert spec_3.rl_module_specs["agent_1"].model_config == {"hidden_dim": 32}
    new = MultiRLModuleSpec(multi, rl_module_specs={"agent_2": vpg_spec(vpg, 8)})
    spec_1.update(new)  # a module id it lacks is added
    assert spec_1.rl_module_specs["agent_2"].model_config == {"hidden_dim": 8}
    shared = MultiRLModuleSpec(rl_module_specs=vpg_spec(vpg, inference_only=True))
    shared.update(vpg_spec(vpg, 4, inference_only=False))  # fills unset fields only
    assert shared.inference_only is False and shared.rl_module_specs.model_config == {
        "hidden_dim": 32}
    with pytest.raises(SpecError, match="needs a MultiRLModuleSpec or an RLModuleSpec"):
        spec_1.update({"agent_3": second})


# --- RLlib's test_multi_rl_module.py ----------------------------------------------------------
def test_multi_from_config(ported):
    vpg, _ = ported
    multi = MultiRLModule(rl_module_specs={"module1": vpg_spec(vpg), "module2": vpg_spec(vpg)})
    assert set(multi.keys()) == {"module1", "module2"}
    assert multi.keys() == {"module1", "module2"}  # a dict view, as RLlib's
    assert all(isinstance(m, vpg.VPGLikeRLModule) for m in multi.values())
    assert dict(multi.items()) == {"module1": multi["module1"], "module2": multi["module2"]}


def test_as_multi_rl_module(ported):
    vpg, _ = ported
    multi = vpg_spec(vpg).build().as_multi_rl_module()
    assert isinstance(multi, MultiRLModule) and not isinstance(multi, vpg.VPGLikeRLModule)
    assert multi.keys() == {DEFAULT_MODULE_ID} and multi.as_multi_rl_module() is multi


def test_multi_get_state_and_set_state(ported):
    vpg, _ = ported
    module, other = (vpg_spec(vpg).build().as_multi_rl_module() for _ in range(2))
    state = module.get_state()
    assert state.keys() == module.keys()
    assert state[DEFAULT_MODULE_ID].keys() == module[DEFAULT_MODULE_ID].get_state().keys()
    assert not same_state(state, other.get_state())
    other.set_state(state)
    assert same_state(state, other.get_state())


def test_add_remove_modules(ported):
    vpg, _ = ported
    module = vpg_spec(vpg).build().as_multi_rl_module()
    module.add_module("test", vpg_spec(vpg).build())
    assert module.keys() == {DEFAULT_MODULE_ID, "test"}
    module.remove_module("test")
    assert module.keys() == {DEFAULT_MODULE_ID}
    with pytest.raises(ValueError, match="already exists; pass override=True"):
        module.add_module(DEFAULT_MODULE_ID, vpg_spec(vpg).build())
    module.add_module(DEFAULT_MODULE_ID, vpg_spec(vpg).build(), override=True)


def test_multi_save_to_path_and_from_checkpoint(ported, tmp_path):
    vpg, _ = ported
    module = vpg_spec(vpg).build().as_multi_rl_module()
    module.add_module("test", vpg_spec(vpg).build())
    module.add_module("test2", vpg_spec(vpg, 128).build())
    for step, expected in ((0, {"test", "test2"}), (1, {"test2"}), (2, {"test2", "test3"})):
        if step == 1:
            module.remove_module("test")
        if step == 2:
            module.add_module("test3", vpg_spec(vpg, 120).build())
        module.save_to_path(tmp_path / str(step))
        # the components' class is handed over: a name read from a file is never imported
        loaded = MultiRLModule.from_checkpoint(tmp_path / str(step),
                                               trusted_objects=[vpg.VPGLikeRLModule])
        assert loaded is not module and same_state(module.get_state(), loaded.get_state())
        assert module.keys() == loaded.keys() == expected | {DEFAULT_MODULE_ID}


def test_model_config_propagation(ported):
    seen = []

    class CustomMultiRLModule(MultiRLModule):
        def setup(self):
            super().setup()
            seen.append(self.model_config)

    MultiRLModuleSpec(
        multi_rl_module_class=CustomMultiRLModule,
        rl_module_specs={"agent_1": RLModuleSpec(TorchRLModule, observation_space=gym.spaces.Box(
            0, 1), action_space=gym.spaces.Box(0, 1))},
        model_config={"some_config": 1},
    ).build()
    assert seen == [{"some_config": 1}]


# --- RLlib's test_torch_rl_module.py ----------------------------------------------------------
def test_compilation(ported):
    vpg, _ = ported
    assert isinstance(vpg_spec(vpg).build(), TorchRLModule)


def test_forward_train(ported):
    vpg, _ = ported
    module = vpg_spec(vpg).build()
    actions = torch.randint(0, 2, (1024,))
    out = module.forward_train({"obs": torch.randn(1024, 4)})
    assert isinstance(out, dict)
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    (-dist.logp(actions).mean()).backward()
    assert all(p.grad is not None for p in module.parameters())


def test_forward(ported):
    vpg, _ = ported
    module = vpg_spec(vpg).build()
    for forward in (module.forward_inference, module.forward_exploration):
        assert forward({"obs": torch.randn(1, 4)})[Columns.ACTION_DIST_INPUTS].shape == (1, 2)


def test_get_set_state(ported):
    vpg, _ = ported
    module, other = vpg_spec(vpg).build(), vpg_spec(vpg).build()
    assert isinstance(module.get_state(), dict)
    assert not same_state(module.get_state(), other.get_state())
    other.set_state(module.get_state())
    assert same_state(module.get_state(), other.get_state())


def test_checkpointing(ported, tmp_path):
    vpg, _ = ported
    module = vpg_spec(vpg).build()
    module.save_to_path(tmp_path)
    loaded = vpg.VPGLikeRLModule.from_checkpoint(tmp_path)
    assert loaded is not module and same_state(module.get_state(), loaded.get_state())


# --- RLlib's test_lstm_target_network_rl_module.py --------------------------------------------
B, T, OBS_DIM, ACTIONS = 10, 5, 25, 4


def lstm_module(ported, **kwargs):
    return ported[1].LSTMWithTargetRLModule(
        observation_space=gym.spaces.Box(-1.0, 1.0, (OBS_DIM,), np.float32),
        action_space=gym.spaces.Discrete(ACTIONS), model_config={"lstm_cell_size": 32}, **kwargs)


def lstm_batch(module):
    state = {k: torch.from_numpy(v).unsqueeze(0).repeat(B, 1)
             for k, v in module.get_initial_state().items()}
    return {Columns.OBS: torch.rand(B, T, OBS_DIM), Columns.STATE_IN: state}


def test_make_target_networks(ported):
    module = lstm_module(ported)
    names = ("_old_lstm", "_old_fc_net", "_old_pi_head")
    assert not any(hasattr(module, n) for n in names)
    module.make_target_networks()
    for name, online in zip(names, ("_lstm", "_fc_net", "_pi_head")):
        assert isinstance(getattr(module, name), torch.nn.Module)
        assert getattr(module, name) is not getattr(module, online)


def test_get_target_network_pairs(ported):
    module = lstm_module(ported)
    module.make_target_networks()
    assert module.get_target_network_pairs() == [
        (module._lstm, module._old_lstm), (module._fc_net, module._old_fc_net),
        (module._pi_head, module._old_pi_head)]


def test_forward_target(ported):
    module = lstm_module(ported)
    module.make_target_networks()
    out = module.forward_target(lstm_batch(module))
    assert out[TARGET_NETWORK_ACTION_DIST_INPUTS].shape == (B, T, ACTIONS)


def test_target_networks_independence(ported):
    module = lstm_module(ported)
    module.make_target_networks()
    target = [p.clone() for p in module._old_lstm.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(module._lstm.parameters(), target))
    module.forward_train(lstm_batch(module))[Columns.ACTION_DIST_INPUTS].sum().backward()
    with torch.no_grad():
        for p in module._lstm.parameters():
            p.add_(0.1)
    assert all(torch.equal(a, b) for a, b in zip(module._old_lstm.parameters(), target))
    assert not any(torch.allclose(a, b) for a, b in zip(module._lstm.parameters(), target))


def test_inference_only_build_deletes_what_it_does_not_need(ported):
    full, lean = lstm_module(ported), lstm_module(ported, inference_only=True)
    assert not hasattr(lean, "_values") and hasattr(full, "_values")
    assert all(not name.startswith("_values") for name, _ in lean.named_modules())
    full.make_target_networks()
    lean.set_state(full.get_state(inference_only=True))
    batch = lstm_batch(full)
    torch.testing.assert_close(lean.forward_inference(batch)[Columns.ACTION_DIST_INPUTS],
                               full.forward_inference(batch)[Columns.ACTION_DIST_INPUTS])


# --- RLlib's test_dqn_rl_module.py (its grid, plus distributional and inference-only) ---------
class DictFlattenEncoder(torch.nn.Module):
    def __init__(self, obs_space, output_dim=64):
        super().__init__()
        total = sum(int(np.prod(space.shape)) for space in obs_space.spaces.values())
        self.net = torch.nn.Sequential(torch.nn.Linear(total, output_dim), torch.nn.ReLU())

    def forward(self, inputs):
        obs = inputs[Columns.OBS]
        flat = torch.cat([obs[k].reshape(obs[k].shape[0], -1) for k in sorted(obs)], dim=-1)
        return {ENCODER_OUT: self.net(flat)}


class DictEncoderConfig:
    def __init__(self, obs_space, output_dim=64):
        self.obs_space, self.output_dims = obs_space, (output_dim,)

    def build(self, framework):
        return DictFlattenEncoder(self.obs_space, output_dim=self.output_dims[0])


class DictObsDQNCatalog(DQNCatalog):
    @classmethod
    def _get_encoder_config(cls, observation_space, model_config_dict, action_space=None):
        return DictEncoderConfig(observation_space, output_dim=64)


OBS_SPACES = {
    "box": gym.spaces.Box(-1.0, 1.0, (8,), np.float32),
    "image": gym.spaces.Box(0, 255, (64, 64, 3), np.uint8),
    "dict": gym.spaces.Dict({"sensors": gym.spaces.Box(-1.0, 1.0, (4,), np.float32),
                             "position": gym.spaces.Box(-10.0, 10.0, (3,), np.float32)}),
}


def dqn_module(obs_space, inference_only=False, **overrides):
    model_config = dataclasses.asdict(DefaultModelConfig())
    model_config.update({"double_q": True, "dueling": True, "epsilon": [(0, 1.0), (10000, 0.05)],
                         "num_atoms": 1, "v_min": -10.0, "v_max": 10.0, **overrides})
    catalog = DictObsDQNCatalog if isinstance(obs_space, gym.spaces.Dict) else DQNCatalog
    return DefaultDQNTorchRLModule(observation_space=obs_space, action_space=gym.spaces.Discrete(4),
                                   model_config=model_config, catalog_class=catalog,
                                   inference_only=inference_only)


def float_batch(space, size):
    samples = [space.sample() for _ in range(size)]
    if isinstance(space, gym.spaces.Dict):
        return {k: torch.as_tensor(np.stack([s[k] for s in samples]).astype(np.float32))
                for k in space.spaces}
    return torch.as_tensor(np.stack(samples).astype(np.float32))


@pytest.mark.parametrize(("obs", "forward", "double_q", "dueling", "num_atoms"), [
    *itertools.product(OBS_SPACES, ("train", "exploration", "inference"), (True, False),
                       (True, False), (1,)),
    *itertools.product(("box",), ("train", "inference"), (True, False), (True, False), (11,)),
])
def test_dqn_forward(obs, forward, double_q, dueling, num_atoms):
    space = OBS_SPACES[obs]
    module = dqn_module(space, double_q=double_q, dueling=dueling, num_atoms=num_atoms)
    module.make_target_networks()  # what RLlib's learner does
    if forward == "train":
        out = module.forward_train({
            Columns.OBS: float_batch(space, 4), Columns.NEXT_OBS: float_batch(space, 4),
            Columns.ACTIONS: torch.zeros(4, dtype=torch.int64),
            Columns.REWARDS: torch.ones(4), Columns.TERMINATEDS: torch.zeros(4, dtype=torch.bool),
        })
        assert out["qf_preds"].shape == (4, 4)
        assert ("qf_next_preds" in out) == double_q
        if double_q:
            assert out["qf_next_preds"].shape == (4, 4)
        assert out["qf_target_next_preds"].shape == (4, 4)
        assert ("qf_target_next_probs" in out) == (num_atoms > 1)
    else:
        batch = {Columns.OBS: float_batch(space, 1)}
        out = (module.forward_exploration(batch, t=0) if forward == "exploration"
               else module.forward_inference(batch))
        assert out[Columns.ACTIONS].shape == (1,)


@pytest.mark.parametrize("obs", sorted(OBS_SPACES))
def test_dqn_inference_only_build_acts_on_the_full_state(obs):
    space = OBS_SPACES[obs]
    full, lean = dqn_module(space), dqn_module(space, inference_only=True)
    assert not any(name.startswith("target_") for name, _ in lean.named_modules())
    lean.set_state(full.get_state(inference_only=True))
    batch = {Columns.OBS: float_batch(space, 3)}
    assert torch.equal(lean.forward_inference(batch)[Columns.ACTIONS],
                       full.forward_inference(batch)[Columns.ACTIONS])
    with pytest.raises(RuntimeError, match="built with inference_only=True"):
        lean.forward_train(batch)


def test_dqn_epsilon_schedule_drives_exploration():
    module = dqn_module(OBS_SPACES["box"], epsilon=[(0, 1.0), (100, 0.0)])
    assert module.model_config.epsilon_at(50) == pytest.approx(0.5)
    batch = {Columns.OBS: float_batch(OBS_SPACES["box"], 256)}
    greedy = module.forward_inference(batch)[Columns.ACTIONS]
    assert torch.equal(module.forward_exploration(batch, t=100)[Columns.ACTIONS], greedy)
    assert not torch.equal(module.forward_exploration(batch, t=0)[Columns.ACTIONS], greedy)
    assert Columns.ACTIONS not in module.forward_exploration(batch)  # no t: the caller explores
    multi = module.as_multi_rl_module()  # a MultiRLModule passes t on
    routed = multi.forward_exploration({DEFAULT_MODULE_ID: batch}, t=100)[DEFAULT_MODULE_ID]
    assert torch.equal(routed[Columns.ACTIONS], greedy)
    with pytest.raises(Exception, match="epsilon must be a probability or a schedule"):
        dqn_module(OBS_SPACES["box"], epsilon=[(10, 1.0), (5, 0.1)])


# --- RLlib's test_torch_squashed_gaussian.py --------------------------------------------------
def test_logp_is_positive_for_a_saturated_policy():
    logits = torch.cat([torch.full((1024, 6), 10.0), torch.full((1024, 6), -2.0)], dim=-1)
    _, logp = TorchSquashedGaussian.from_logits(logits).rsample_and_logp()
    assert torch.isfinite(logp).all() and logp.mean().item() > 0.0


def test_logp_matches_the_squashed_gaussian_formula():
    torch.manual_seed(0)
    loc, log_std = torch.zeros(256, 4), torch.full((256, 4), -0.5)
    action, logp = TorchSquashedGaussian.from_logits(torch.cat([loc, log_std], -1)
                                                     ).rsample_and_logp()
    x = torch.atanh(action.clamp(-1 + 1e-6, 1 - 1e-6))
    expected = (torch.distributions.Normal(loc, log_std.exp()).log_prob(x).sum(-1)
                - torch.log(1 - torch.tanh(x) ** 2).sum(-1))
    assert torch.allclose(logp, expected, atol=1e-3)
