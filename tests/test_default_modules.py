"""The default BC, PPO and DQN modules: the space grid, extension recipes, state, targets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import rlmodules
import torch
from gymnasium.vector.utils import batch_space, iterate
from rlmodules import Columns, ConfigError, Encoder, RLModuleSpec, SpaceError, registry
from rlmodules.catalog import ENCODER_OUT
from rlmodules.plugins import (
    DefaultBCTorchRLModule,
    DefaultDQNTorchRLModule,
    DefaultPPOTorchRLModule,
    PPOCatalog,
)
from torch import nn

OBS_SPACES = {
    "box": gym.spaces.Box(-1.0, 1.0, (4,), np.float32),
    "discrete": gym.spaces.Discrete(5),
    "multi_discrete": gym.spaces.MultiDiscrete([3, 2]),
    "dict": gym.spaces.Dict({"pos": gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
                             "id": gym.spaces.Discrete(3)}),
    "tuple": gym.spaces.Tuple([gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
                               gym.spaces.MultiBinary(3)]),
}
ACTION_SPACES = {
    "discrete": gym.spaces.Discrete(3),
    "multi_discrete": gym.spaces.MultiDiscrete([2, 3]),
    "box": gym.spaces.Box(-2.0, 2.0, (2,), np.float32),
    "tuple": gym.spaces.Tuple([gym.spaces.Discrete(2),
                               gym.spaces.Box(-1.0, 1.0, (2,), np.float32)]),
}
MODULES = {
    "bc": {},
    "ppo": {},
    "ppo_separate_vf": {"vf_share_layers": False},
    "dqn": {},
}
SMALL = {"fcnet_hiddens": [16], "head_fcnet_hiddens": [8]}


def tensors(value):
    if isinstance(value, dict):
        return {k: tensors(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(tensors(v) for v in value)
    return torch.as_tensor(value)


def obs_batch(space, *lead):
    for n in reversed(lead):
        space = batch_space(space, n)
    space.seed(0)
    return tensors(space.sample())


def spec(name, obs_space, act_space, **kwargs):
    module_class = "ppo" if name.startswith("ppo") else name
    return RLModuleSpec(module_class=module_class, observation_space=obs_space,
                        action_space=act_space, model_config={**SMALL, **MODULES[name]},
                        **kwargs)


def loss_of(module, name, batch):
    out = module.forward_train(batch)
    if name == "dqn":
        actions = torch.zeros(out[Columns.QF_PREDS].shape[:-1], dtype=torch.long)
        return out[Columns.QF_PREDS].gather(-1, actions.unsqueeze(-1)).mean()
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    loss = -dist.logp(dist.sample()).mean()
    if name.startswith("ppo"):
        loss = loss + module.compute_values(batch, out[Columns.EMBEDDINGS]).pow(2).mean()
    return loss


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("act_name", ACTION_SPACES)
@pytest.mark.parametrize("obs_name", OBS_SPACES)
def test_space_grid(obs_name, act_name, name):
    obs_space, act_space = OBS_SPACES[obs_name], ACTION_SPACES[act_name]
    if name == "dqn" and act_name != "discrete":
        with pytest.raises(SpaceError, match=r"DQN acts on Q-values of a Discrete action space"):
            spec(name, obs_space, act_space).build()
        return
    module = spec(name, obs_space, act_space).build()
    batch = {Columns.OBS: obs_batch(obs_space, 6)}
    width = module.get_train_action_dist_cls().required_input_dim(act_space)
    for forward in (module.forward_inference, module.forward_exploration, module.forward_train):
        assert forward(batch)[Columns.ACTION_DIST_INPUTS].shape == (6, width)

    for explore in (True, False):
        out = rlmodules.compute_actions(module, batch, explore=explore, for_env=True)
        for action in iterate(batch_space(act_space, 6), out[Columns.ACTIONS_FOR_ENV]):
            assert act_space.contains(action), action
        if explore:
            assert out[Columns.ACTION_LOGP].shape == (6,)

    loss_of(module, name, batch).backward()
    trainable = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None and torch.isfinite(p.grad).all()
                             for _, p in trainable), [n for n, p in trainable if p.grad is None]

    inference = spec(name, obs_space, act_space, inference_only=True).build()
    inference.set_state(module.get_state())
    slim = module.get_state(inference_only=True)
    assert sorted(slim) == sorted(inference.get_state())
    inference.set_state(slim)
    with torch.no_grad():
        torch.testing.assert_close(inference.forward_inference(batch)[Columns.ACTION_DIST_INPUTS],
                                   module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS])


# --- PPO ------------------------------------------------------------------------------------------
BOX, DISCRETE = OBS_SPACES["box"], ACTION_SPACES["discrete"]


def ppo(**config):
    return DefaultPPOTorchRLModule(observation_space=BOX, action_space=DISCRETE,
                                   model_config={**SMALL, **config})


def test_acting_runs_only_the_actor():
    module = ppo()
    calls = []
    module.vf.register_forward_hook(lambda *args: calls.append(1))
    batch = {Columns.OBS: obs_batch(BOX, 4)}
    rlmodules.compute_actions(module, batch, explore=True)
    rlmodules.compute_actions(module, batch, explore=False)
    assert calls == []
    module.compute_values(batch)
    assert calls == [1]


@pytest.mark.parametrize("share", [True, False])
def test_values_reuse_the_train_embeddings(share):
    module = ppo(vf_share_layers=share)
    assert (module.vf_encoder is None) == share
    for lead in ((5,), (5, 3)):
        batch = {Columns.OBS: obs_batch(BOX, *lead)}
        out = module.forward_train(batch)
        values = module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS])
        assert values.shape == lead
        torch.testing.assert_close(values, module.compute_values(batch))


def test_inference_only_ppo_has_no_critic():
    module = ppo(vf_share_layers=False).__class__(
        observation_space=BOX, action_space=DISCRETE, inference_only=True,
        model_config={**SMALL, "vf_share_layers": False})
    assert module.vf is None and module.vf_encoder is None
    assert not any(k.startswith(("vf.", "vf_encoder.")) for k in module.get_state())
    with pytest.raises(RuntimeError, match="inference_only=True and has no value function"):
        module.compute_values({Columns.OBS: obs_batch(BOX, 2)})


def test_free_log_std_module_loads_into_inference_build():
    box = ACTION_SPACES["box"]
    config = {**SMALL, "free_log_std": True}
    full = DefaultPPOTorchRLModule(observation_space=BOX, action_space=box, model_config=config)
    assert "pi.log_std" in full.get_state()
    with torch.no_grad():
        full.pi.log_std.fill_(-1.0)
    slim = DefaultPPOTorchRLModule(observation_space=BOX, action_space=box, model_config=config,
                                   inference_only=True)
    slim.set_state(full.get_state())
    out = slim.forward_inference({Columns.OBS: obs_batch(BOX, 3)})[Columns.ACTION_DIST_INPUTS]
    assert torch.equal(out[:, 2:], torch.full((3, 2), -1.0))


def test_same_seed_same_module():
    def state(seed):
        torch.manual_seed(seed)
        return ppo(vf_share_layers=False).get_state()

    first, again = state(3), state(3)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["pi.0.weight"], state(4)["pi.0.weight"])


class FourierEncoder(Encoder):
    """A user's encoder: random Fourier features of a Box observation."""

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.output_dim = output_dim
        self.proj = nn.Linear(input_dim, output_dim)

    def forward(self, batch):
        return {ENCODER_OUT: torch.sin(self.proj(batch[Columns.OBS]))}


class FourierPPO(DefaultPPOTorchRLModule):
    """The extension recipe: override setup, keep everything else."""

    def setup(self):
        super().setup()
        width = self.encoder.output_dim
        self.encoder = FourierEncoder(self.observation_space.shape[0], width)
        if self.vf_encoder is not None:
            self.vf_encoder = FourierEncoder(self.observation_space.shape[0], width)


def test_subclass_replaces_the_encoder_in_setup():
    module = FourierPPO(observation_space=BOX, action_space=DISCRETE,
                        model_config={**SMALL, "vf_share_layers": False})
    assert isinstance(module.encoder, FourierEncoder)
    batch = {Columns.OBS: obs_batch(BOX, 4)}
    assert rlmodules.compute_actions(module, batch)[Columns.ACTIONS].shape == (4,)
    loss_of(module, "ppo", batch).backward()
    assert module.encoder.proj.weight.grad is not None
    assert module.vf_encoder.proj.weight.grad is not None


class FourierCatalog(PPOCatalog):
    """A catalog that changes one decision: the encoder."""

    def build_encoder(self, model_config=None):
        config = model_config or self.model_config
        return FourierEncoder(self.observation_space.shape[0], config.fcnet_hiddens[-1])


class FourierPlugin:
    @rlmodules.hookimpl
    def rlmodules_catalogs(self):
        return {"fourier_ppo": FourierCatalog}


def test_custom_catalog_by_registered_name():
    with registry.isolated_registry(autoload=False):
        registry.register_plugin(FourierPlugin(), name="fourier")
        module = RLModuleSpec(module_class="ppo", observation_space=BOX, action_space=DISCRETE,
                              model_config=SMALL, catalog_class="fourier_ppo").build()
        assert isinstance(module.catalog, FourierCatalog)
        assert isinstance(module.encoder, FourierEncoder)
        batch = {Columns.OBS: obs_batch(BOX, 4)}
        assert module.compute_values(batch).shape == (4,)


# --- stateful encoders (a recurrent plugin answering use_lstm) ----------------------------------
class RecurrentEncoder(Encoder):
    """h_t = tanh(W x_t + h_{t-1}) over whatever encodes the observation."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.output_dim = inner.output_dim
        self.cell = nn.Linear(inner.output_dim, inner.output_dim)

    def get_initial_state(self):
        return {"h": torch.zeros(self.output_dim)}

    def forward(self, batch):
        x = self.inner(batch)[ENCODER_OUT]  # [B, T, H]
        h = batch[Columns.STATE_IN]["h"]  # [B, H]
        outs = []
        for t in range(x.shape[1]):
            h = torch.tanh(self.cell(x[:, t]) + h)
            outs.append(h)
        return {ENCODER_OUT: torch.stack(outs, 1), Columns.STATE_OUT: {"h": h}}


class RecurrentPlugin:
    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_build_encoder(self, observation_space, model_config, catalog):
        if not model_config.use_lstm:
            return None
        return RecurrentEncoder(catalog.build_encoder(model_config | {"use_lstm": False}))


@pytest.fixture
def recurrent_plugin():
    with registry.isolated_registry(autoload=False):
        registry.register_plugin(RecurrentPlugin(), name="recurrent")
        yield


def _initial(module, batch_size):
    return torch.utils._pytree.tree_map(lambda s: s.expand(batch_size, *s.shape),
                                        module.get_initial_state())


@pytest.mark.usefixtures("recurrent_plugin")
@pytest.mark.parametrize("share", [True, False])
def test_stateful_ppo(share):
    module = ppo(use_lstm=True, vf_share_layers=share)
    state = module.get_initial_state()
    assert module.is_stateful()
    if share:
        assert set(state) == {"h"} and state["h"].shape == (16,)
    else:
        assert set(state) == {"actor", "critic"} and state["critic"]["h"].shape == (16,)

    state_in = _initial(module, 4)
    for _ in range(3):  # an acting loop: [B, ...] observations, state in and out
        out = rlmodules.compute_actions(module, {Columns.OBS: obs_batch(BOX, 4),
                                                 Columns.STATE_IN: state_in})
        assert out[Columns.ACTIONS].shape == (4,)
        assert torch.utils._pytree.tree_structure(out[Columns.STATE_OUT]) == \
            torch.utils._pytree.tree_structure(state_in)
        state_in = out[Columns.STATE_OUT]
    if not share:  # the critic's state advanced with the actor's
        assert not torch.equal(state_in["critic"]["h"], torch.zeros(4, 16))

    batch = {Columns.OBS: obs_batch(BOX, 4, 5), Columns.STATE_IN: _initial(module, 4)}
    out = module.forward_train(batch)
    assert out[Columns.ACTION_DIST_INPUTS].shape == (4, 5, 3)
    values = module.compute_values(batch, out[Columns.EMBEDDINGS])
    assert values.shape == (4, 5)
    torch.testing.assert_close(values, module.compute_values(batch))

    slim = DefaultPPOTorchRLModule(observation_space=BOX, action_space=DISCRETE,
                                   inference_only=True,
                                   model_config={**SMALL, "use_lstm": True,
                                                 "vf_share_layers": share})
    slim.set_state(module.get_state())
    assert set(slim.get_initial_state()) == ({"h"} if share else {"actor"})
    acted = rlmodules.compute_actions(slim, {Columns.OBS: obs_batch(BOX, 4),
                                             Columns.STATE_IN: _initial(slim, 4)}, explore=False)
    assert acted[Columns.ACTIONS].shape == (4,)


@pytest.mark.usefixtures("recurrent_plugin")
def test_stateful_bc_and_dqn():
    for cls in (DefaultBCTorchRLModule, DefaultDQNTorchRLModule):
        module = cls(observation_space=BOX, action_space=DISCRETE,
                     model_config={**SMALL, "use_lstm": True})
        out = rlmodules.compute_actions(module, {Columns.OBS: obs_batch(BOX, 2),
                                                 Columns.STATE_IN: _initial(module, 2)})
        assert out[Columns.ACTIONS].shape == (2,) and out[Columns.STATE_OUT]["h"].shape == (2, 16)


# --- DQN ------------------------------------------------------------------------------------------
def dqn(**config):
    return DefaultDQNTorchRLModule(observation_space=BOX, action_space=DISCRETE,
                                   model_config={**SMALL, **config})


def test_dueling_q_is_value_plus_centred_advantage():
    module = dqn(dueling=True)
    batch = {Columns.OBS: obs_batch(BOX, 5)}
    q = module.compute_q_values(batch)[Columns.QF_PREDS]
    features = module.encoder(batch)[ENCODER_OUT]
    torch.testing.assert_close(q.mean(-1), module.vf(features).squeeze(-1))
    assert not hasattr(dqn(dueling=False).vf, "forward")


def test_greedy_actions_and_inference_outputs():
    module = dqn()
    batch = {Columns.OBS: obs_batch(BOX, 5)}
    out = rlmodules.compute_actions(module, batch, explore=True)
    q = out[Columns.QF_PREDS]
    assert torch.equal(out[Columns.ACTIONS], q.argmax(-1))
    assert torch.equal(out[Columns.ACTION_LOGP], torch.zeros(5))
    assert torch.equal(rlmodules.compute_actions(module, batch, explore=False)[Columns.ACTIONS],
                       q.argmax(-1))


def test_distributional_q_is_the_mean_of_the_value_distribution():
    module = dqn(num_atoms=11, v_min=-5.0, v_max=5.0)
    out = module.forward_train({Columns.OBS: obs_batch(BOX, 4)})
    from rlmodules.plugins.dqn import ATOMS, QF_PROBS

    probs = out[QF_PROBS]
    assert probs.shape == (4, 3, 11)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4, 3))
    torch.testing.assert_close(out[Columns.QF_PREDS], (probs * out[ATOMS]).sum(-1))
    assert out[ATOMS].tolist() == torch.linspace(-5, 5, 11).tolist()


def test_target_networks_follow_sync():
    module = dqn()
    batch = {Columns.OBS: obs_batch(BOX, 5)}
    assert all(not p.requires_grad for p in module.target_encoder.parameters())
    same = module.forward_target(batch)[Columns.QF_PREDS]
    torch.testing.assert_close(same, module.compute_q_values(batch)[Columns.QF_PREDS])

    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    loss_of(module, "dqn", batch).backward()
    optimizer.step()
    online = module.compute_q_values(batch)[Columns.QF_PREDS].detach()
    torch.testing.assert_close(module.forward_target(batch)[Columns.QF_PREDS], same)
    before = {k: v.clone() for k, v in module.target_af.state_dict().items()}
    module.sync_target_networks(tau=0.25)
    for key, value in module.target_af.state_dict().items():
        expected = 0.75 * before[key] + 0.25 * module.af.state_dict()[key]
        torch.testing.assert_close(value, expected)
    module.sync_target_networks()
    torch.testing.assert_close(module.forward_target(batch)[Columns.QF_PREDS], online)


@pytest.mark.parametrize("tau", [0.0, 1.5, "1"])
def test_bad_tau_is_a_config_error(tau):
    with pytest.raises(ConfigError, match=rf"0 < tau <= 1.*got tau={tau!r}"):
        dqn().sync_target_networks(tau=tau)


@pytest.mark.parametrize("double_q", [True, False])
def test_next_q_values_double_q(double_q):
    module = dqn(double_q=double_q, dueling=False)
    with torch.no_grad():  # online prefers action 0, target prefers action 2
        for af, best in ((module.af, 0), (module.target_af, 2)):
            out = af[-1]
            out.weight.zero_()
            out.bias.copy_(torch.tensor([1.0, 2.0, 3.0]))
            out.bias[best] = 10.0
    next_q = module.compute_next_q_values({Columns.NEXT_OBS: obs_batch(BOX, 4)})
    expected = 1.0 if double_q else 10.0  # target's Q of the online (or its own) argmax
    assert torch.equal(next_q[Columns.QF_TARGET_NEXT_PREDS], torch.full((4,), expected))


def test_distributional_next_q_values():
    from rlmodules.plugins.dqn import QF_TARGET_NEXT_PROBS

    module = dqn(num_atoms=5)
    out = module.compute_next_q_values({Columns.NEXT_OBS: obs_batch(BOX, 4)})
    assert out[QF_TARGET_NEXT_PROBS].shape == (4, 5)
    torch.testing.assert_close((out[QF_TARGET_NEXT_PROBS] * module.atoms).sum(-1),
                               out[Columns.QF_TARGET_NEXT_PREDS])


def test_next_q_values_need_next_observations():
    with pytest.raises(rlmodules.BatchError, match=r"under 'new_obs'; the batch has \['obs'\]"):
        dqn().compute_next_q_values({Columns.OBS: obs_batch(BOX, 2)})


def test_inference_only_dqn_has_no_targets():
    module = DefaultDQNTorchRLModule(observation_space=BOX, action_space=DISCRETE,
                                     inference_only=True, model_config=SMALL)
    assert not any(k.startswith("target_") for k in module.get_state())
    assert not any(k.startswith("target_") for k in dqn().get_state(inference_only=True))
    with pytest.raises(RuntimeError, match="inference_only=True and has no target networks"):
        module.make_target_networks()
    with pytest.raises(RuntimeError, match="has no target networks"):
        module.forward_target({Columns.OBS: obs_batch(BOX, 2)})


@pytest.mark.parametrize(("config", "message"), [
    ({"num_atoms": 0}, r"num_atoms must be an int >= 1.*got 0"),
    ({"num_atoms": 51, "v_min": 1.0, "v_max": -1.0}, r"needs v_min < v_max.*v_min=1.0"),
    ({"duelling": True}, r"Did you mean 'dueling'"),
])
def test_dqn_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        dqn(**config)


def test_dqn_checkpoint_round_trip(tmp_path):
    module = dqn(num_atoms=3)
    module.save_to_path(tmp_path / "ckpt")
    loaded = rlmodules.RLModule.from_checkpoint(tmp_path / "ckpt")
    batch = {Columns.OBS: obs_batch(BOX, 2)}
    torch.testing.assert_close(loaded.forward_target(batch)[Columns.QF_PREDS],
                               module.forward_target(batch)[Columns.QF_PREDS])
