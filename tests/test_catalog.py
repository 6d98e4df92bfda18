"""Catalog: encoders per observation space, heads, initialisation, decision hooks."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import rlmodules
import torch
from rlmodules import Catalog, ConfigError, Encoder, SpaceError, registry
from rlmodules.catalog import ENCODER_OUT
from rlmodules.distribution import Distribution
from torch import nn

BOX = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


TWO_ACTIONS = gym.spaces.Discrete(2)


def catalog(obs=BOX, act=TWO_ACTIONS, **config):
    return Catalog(observation_space=obs, action_space=act,
                   model_config={"fcnet_hiddens": [16], **config})


def test_discrete_observations_are_one_hot_from_the_space_start():
    encoder = catalog(gym.spaces.Discrete(3, start=5), fcnet_hiddens=[]).build_encoder()
    assert encoder.output_dim == 3
    out = encoder({"obs": torch.tensor([5, 7, 6])})[ENCODER_OUT]
    assert torch.equal(out, torch.eye(3)[[0, 2, 1]])


def test_nested_observations_are_flattened_in_space_order():
    space = gym.spaces.Dict({
        "pos": gym.spaces.Box(-1, 1, (2,)),
        "grid": gym.spaces.Box(0, 1, (2, 2)),
        "parts": gym.spaces.Tuple([gym.spaces.MultiDiscrete([2, 3]), gym.spaces.MultiBinary(2)]),
    })
    encoder = catalog(space, fcnet_hiddens=[]).build_encoder()
    assert encoder.output_dim == 4 + 2 + (2 + 3) + 2
    obs = {
        "grid": torch.arange(4.0).reshape(1, 2, 2),
        "parts": (torch.tensor([[1, 2]]), torch.tensor([[1, 0]], dtype=torch.int8)),
        "pos": torch.tensor([[0.5, -0.5]]),
    }
    out = encoder({"obs": obs})[ENCODER_OUT]
    expected = [0, 1, 2, 3, 0, 1, 0, 0, 1, 1, 0, 0.5, -0.5]  # gymnasium sorts Dict keys
    assert out.tolist() == [expected]


def test_stateless_encoders_accept_a_time_axis():
    space = gym.spaces.Tuple([gym.spaces.Discrete(4), BOX])
    encoder = catalog(space).build_encoder()
    obs = (torch.randint(0, 4, (5, 7)), torch.zeros(5, 7, 3))
    assert encoder({"obs": obs})[ENCODER_OUT].shape == (5, 7, 16)
    assert encoder.get_initial_state() == {}


@pytest.mark.parametrize(
    ("space", "config", "message"),
    [
        (gym.spaces.Box(0, 255, (84, 84, 3), np.uint8), {}, r"pip install rlmodules-cnn"),
        (gym.spaces.Box(0, 1, (4, 5)), {}, r"FlattenObservation"),
        (BOX, {"use_lstm": True}, r"use_lstm=True needs .*pip install rlmodules-lstm"),
        (gym.spaces.Text(5), {}, r"Text\(.*rlmodules_build_encoder hook"),
        (gym.spaces.Dict({"t": gym.spaces.Text(3)}), {}, r"Built in: Box \(1-D\), Discrete"),
    ],
)
def test_unsupported_observations_name_the_fix(space, config, message):
    with registry.isolated_registry(autoload=False), pytest.raises(SpaceError, match=message):
        catalog(space, **config).build_encoder()


def test_unsupported_actions_name_the_hook():
    message = (r"no installed plugin provides an action distribution "
               r"for Text\(.*rlmodules_action_dist_cls hook")
    with registry.isolated_registry(autoload=False), pytest.raises(SpaceError, match=message):
        catalog(act=gym.spaces.Text(4)).get_action_dist_cls()


def test_policy_head_width_follows_the_distribution():
    assert catalog(act=gym.spaces.Discrete(5)).action_dist_input_dim == 5
    head = catalog(act=gym.spaces.Box(-1, 1, (2,))).build_pi_head(16)
    assert head(torch.zeros(4, 16)).shape == (4, 4)


def test_free_log_std_is_a_learned_input_independent_parameter():
    cat = catalog(act=gym.spaces.Box(-1, 1, (3,)), free_log_std=True)
    head = cat.build_pi_head(16)
    out = head(torch.randn(4, 16))
    assert out.shape == (4, 6)
    log_std = out[:, 3:]
    assert torch.equal(log_std, torch.zeros(4, 3))
    log_std.sum().backward()
    assert head.log_std.grad is not None and torch.equal(head.log_std.grad, torch.full((3,), 4.0))
    assert sum(p.numel() for n, p in head.named_parameters() if n != "log_std") == 16 * 3 + 3


def test_free_log_std_needs_a_gaussian_policy():
    with pytest.raises(ConfigError, match=r"free_log_std=True needs a Gaussian action "
                                          r"distribution .*the action distribution is "
                                          r"Categorical for Discrete\(2\). Set free_log_std="):
        catalog(free_log_std=True).build_pi_head(16)


def test_log_stds_are_clipped():
    head = catalog(act=gym.spaces.Box(-1, 1, (2,)), log_std_clip_param=0.5).build_pi_head(16)
    mean, log_std = head(1e3 * torch.randn(64, 16)).chunk(2, -1)
    assert log_std.abs().max() <= 0.5 and mean.abs().max() > 0.5
    unclipped = catalog(act=gym.spaces.Box(-1, 1, (2,)), log_std_clip_param=float("inf"))
    assert isinstance(unclipped.build_pi_head(16), nn.Sequential)


def _svd(layer: nn.Linear) -> torch.Tensor:
    return torch.linalg.svdvals(layer.weight.detach())


def test_default_initialisation_is_orthogonal_with_common_gains():
    cat = catalog(act=gym.spaces.Discrete(4), fcnet_hiddens=[32, 32])
    encoder = cat.build_encoder()
    pi, vf = cat.build_pi_head(32), cat.build_vf_head(32)
    for layer in [m for m in encoder.modules() if isinstance(m, nn.Linear)]:
        torch.testing.assert_close(_svd(layer), torch.full_like(_svd(layer), math.sqrt(2)))
        assert torch.count_nonzero(layer.bias) == 0
    torch.testing.assert_close(_svd(pi[-1]), torch.full((4,), 0.01))
    torch.testing.assert_close(_svd(vf[-1]), torch.ones(1))


def test_layers_wider_than_512_keep_pytorchs_default_init_and_no_qr_runs(monkeypatch):
    from rlmodules.catalog import ORTHOGONAL_MAX_COST

    qr_shapes = []
    real_qr = torch.linalg.qr
    monkeypatch.setattr(torch.linalg, "qr",
                        lambda a, *args, **kw: qr_shapes.append(tuple(a.shape))
                        or real_qr(a, *args, **kw))
    cat = catalog(act=gym.spaces.Discrete(4), fcnet_hiddens=[1024, 1024, 512])
    layers = [m for m in cat.build_encoder().modules() if isinstance(m, nn.Linear)]
    assert ORTHOGONAL_MAX_COST == 512**3
    wide = layers[1].weight.detach()  # 1024 x 1024: PyTorch's kaiming-uniform bound
    assert wide.abs().max() <= 1 / math.sqrt(1024) and wide.std() > 0.01
    assert max(qr_shapes, key=lambda shape: min(shape)) == (1024, 3)  # only cheap QRs ran
    torch.testing.assert_close(_svd(layers[0]), torch.full((3,), math.sqrt(2)))


def test_orthogonal_init_runs_on_one_thread_and_restores_the_thread_count(monkeypatch):
    seen = []
    real = torch.nn.init.orthogonal_
    monkeypatch.setattr(torch.nn.init, "orthogonal_",
                        lambda t, **kw: seen.append(torch.get_num_threads()) or real(t, **kw))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        catalog(fcnet_kernel_initializer="orthogonal").build_encoder()
        catalog().build_encoder()
        assert seen == [1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_named_initializers_with_kwargs():
    cat = catalog(
        fcnet_kernel_initializer="constant", fcnet_kernel_initializer_kwargs={"val": 0.25},
        fcnet_bias_initializer="ones",
        head_fcnet_hiddens=[8], head_fcnet_kernel_initializer="xavier_uniform_",
        head_fcnet_kernel_initializer_kwargs={"gain": 2.0},
    )
    layer = cat.build_encoder().net[0]
    assert torch.all(layer.weight == 0.25) and torch.all(layer.bias == 1.0)
    head = cat.build_pi_head(16)
    bound = 2.0 * math.sqrt(6 / (16 + 8))  # xavier_uniform's bound, gain 2
    assert head[0].weight.abs().max() <= bound and head[0].weight.std() > bound / 4
    assert head[-1].weight.abs().max() > 0.1  # the named initializer, not the 0.01 default


def test_same_seed_gives_the_same_weights():
    def weights(seed):
        torch.manual_seed(seed)
        cat = catalog(act=gym.spaces.Box(-1, 1, (2,)), head_fcnet_hiddens=[8])
        return [p.detach().clone() for m in (cat.build_encoder(), cat.build_pi_head(16),
                                             cat.build_vf_head(16)) for p in m.parameters()]

    first, again, other = weights(0), weights(0), weights(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


# --- decision hooks -----------------------------------------------------------------------------
class Polar(gym.spaces.Space):
    """A custom observation space the built-ins do not know: (radius, angle)."""

    def __init__(self):
        super().__init__(shape=(2,), dtype=np.float32)


class PolarEncoder(Encoder):
    def __init__(self, model_config):
        super().__init__()
        self.output_dim = model_config.fcnet_hiddens[-1]
        self.net = nn.Linear(3, self.output_dim)

    def forward(self, batch):
        r, theta = batch["obs"].unbind(-1)
        cartesian = torch.stack([r * theta.cos(), r * theta.sin(), r], dim=-1)
        return {ENCODER_OUT: self.net(cartesian)}


class Tanh01(Distribution):
    """A stand-in distribution a plugin could choose for Box actions."""

    @classmethod
    def from_logits(cls, logits, **kwargs):
        return cls()

    @classmethod
    def required_input_dim(cls, space, **kwargs):
        return 7

    def sample(self): ...
    def logp(self, value): ...
    def entropy(self): ...
    def kl(self, other): ...
    def to_deterministic(self): ...


class PolarPlugin:
    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_build_encoder(self, observation_space, model_config, catalog):
        if isinstance(observation_space, Polar):
            return PolarEncoder(model_config)
        return None

    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_action_dist_cls(self, action_space, model_config, catalog):
        return Tanh01 if isinstance(action_space, gym.spaces.Box) else None


def test_a_plugin_teaches_the_default_catalog_a_new_space():
    with registry.isolated_registry(autoload=False):
        with pytest.raises(SpaceError, match="no installed plugin builds an encoder"):
            catalog(Polar()).build_encoder()
        registry.register_plugin(PolarPlugin(), name="polar")
        encoder = catalog(Polar()).build_encoder()
        assert isinstance(encoder, PolarEncoder)
        assert isinstance(catalog(BOX).build_encoder(), nn.Module)  # others still built in
        cat = catalog(Polar(), act=gym.spaces.Box(-1, 1, (2,)))
        assert issubclass(cat.get_action_dist_cls(), Tanh01) and cat.action_dist_input_dim == 7
        assert catalog(act=gym.spaces.Discrete(3)).action_dist_input_dim == 3

        from rlmodules.plugins import DefaultPPOTorchRLModule

        module = DefaultPPOTorchRLModule(observation_space=Polar(),
                                         action_space=gym.spaces.Discrete(3),
                                         model_config={"fcnet_hiddens": [8]})
        obs = torch.rand(4, 2)
        assert rlmodules.compute_actions(module, {"obs": obs})["actions"].shape == (4,)
        assert module.compute_values({"obs": obs}).shape == (4,)
    with registry.isolated_registry(autoload=False), pytest.raises(SpaceError):
        catalog(Polar()).build_encoder()  # the plugin was local to its isolated registry
