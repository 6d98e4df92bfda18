"""Built-in action distributions: closed forms, sampling statistics, shapes, structure, errors."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import rlmodules
import torch
from rlmodules import BatchError, Distribution, SpaceError, registry
from rlmodules.catalog import default_action_dist_cls
from rlmodules.plugins.distributions import (
    Bernoulli,
    Categorical,
    Deterministic,
    MultiCategorical,
    default_distribution_name,
)
from rlmodules.plugins.gaussians import DiagGaussian, SquashedGaussian
from rlmodules.plugins.multi_distribution import MultiDistribution
from torch import distributions as td

BOX2 = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
NAMES = {
    "categorical": Categorical,
    "diag_gaussian": DiagGaussian,
    "squashed_gaussian": SquashedGaussian,
    "deterministic": Deterministic,
    "multi_categorical": MultiCategorical,
    "multi_distribution": MultiDistribution,
    "bernoulli": Bernoulli,
}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def configured(space):
    """The class the installed plugins choose for ``space``, configured for it."""
    return default_action_dist_cls(space)


# --- registration, choice and configuration -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_builtin_name_resolves_to_its_class(name):
    assert registry.get("distribution", name) is NAMES[name]
    assert issubclass(NAMES[name], rlmodules.Distribution)


@pytest.mark.parametrize(
    ("space", "name"),
    [
        (gym.spaces.Discrete(4), "categorical"),
        (gym.spaces.MultiDiscrete([2, 3]), "multi_categorical"),
        (BOX2, "diag_gaussian"),
        (gym.spaces.MultiBinary(3), "bernoulli"),
        (gym.spaces.Tuple([gym.spaces.Discrete(2)]), "multi_distribution"),
        (gym.spaces.Dict({"a": BOX2}), "multi_distribution"),
        (gym.spaces.Box(-1, 1, (2, 2)), None),
        (gym.spaces.MultiDiscrete([[2, 3]]), None),
        (gym.spaces.MultiBinary([2, 2]), None),
        (gym.spaces.Text(5), None),
    ],
)
def test_default_distribution_name_per_space(space, name):
    assert default_distribution_name(space) == name


def test_for_space_is_cached_per_space_and_knows_its_width():
    first = Categorical.for_space(gym.spaces.Discrete(3, start=2))
    assert Categorical.for_space(gym.spaces.Discrete(3, start=2)) is first  # equal, not same
    assert Categorical.for_space(gym.spaces.Discrete(3)) is not first
    assert first.for_space(gym.spaces.Discrete(3, start=2)) is first  # reconfiguring
    assert issubclass(first, Categorical) and first.input_dim == 3 and first.start == 2
    assert first.space == gym.spaces.Discrete(3, start=2)
    assert Categorical.input_dim is None and Categorical.space is None


def test_a_plugin_distribution_gets_the_width_check_from_for_space():
    from rlmodules import Distribution

    class PointMass(Distribution):  # a plugin's class: its from_logits checks nothing
        def __init__(self, loc):
            self.loc = loc

        @classmethod
        def from_logits(cls, logits):
            return cls(logits)

        @classmethod
        def required_input_dim(cls, space, **kwargs):
            return int(space.shape[0])

        sample = logp = entropy = kl = to_deterministic = None

    dist_cls = PointMass.for_space(BOX2)
    assert torch.equal(dist_cls.from_logits(torch.ones(3, 2)).loc, torch.ones(3, 2))
    with pytest.raises(SpaceError, match=r"PointMass for action space .* width 2 .* \(3, 5\)"):
        dist_cls.from_logits(torch.ones(3, 5))
    assert PointMass.from_logits(torch.ones(3, 5)).loc.shape == (3, 5)  # unconfigured: as is


@pytest.mark.parametrize(
    ("cls", "space", "width"),
    [
        (Categorical, gym.spaces.Discrete(5), 5),
        (MultiCategorical, gym.spaces.MultiDiscrete([2, 3, 4]), 9),
        (Bernoulli, gym.spaces.MultiBinary(3), 3),
        (DiagGaussian, BOX2, 4),
        (SquashedGaussian, BOX2, 4),
        (Deterministic, BOX2, 2),
        (MultiDistribution, gym.spaces.Tuple([gym.spaces.Discrete(3), BOX2]), 7),
    ],
)
def test_required_input_dim_and_wrong_width_error(cls, space, width):
    assert cls.required_input_dim(space) == width
    dist_cls = cls.for_space(space)
    assert dist_cls.input_dim == width
    dist_cls.from_logits(torch.zeros(4, width))  # the right width builds
    with pytest.raises(SpaceError) as info:
        dist_cls.from_logits(torch.zeros(4, width + 1))
    message = str(info.value)
    assert str(space) in message and f"width {width}" in message
    assert f"got shape {(4, width + 1)}" in message


@pytest.mark.parametrize(
    ("cls", "space", "wanted"),
    [
        (Categorical, BOX2, "needs a Discrete action space"),
        (MultiCategorical, gym.spaces.Discrete(3), "needs a 1-D MultiDiscrete"),
        (Bernoulli, gym.spaces.MultiBinary([2, 2]), "needs a 1-D MultiBinary"),
        (DiagGaussian, gym.spaces.Box(-1, 1, (2, 3)), "needs a 1-D Box"),
        (SquashedGaussian, gym.spaces.Box(-np.inf, np.inf, (2,)), "needs a bounded 1-D Box"),
        (Deterministic, gym.spaces.Discrete(2), "needs a 1-D Box"),
        (MultiDistribution, BOX2, "needs a Tuple or Dict"),
    ],
)
def test_unsupported_space_is_a_space_error_naming_it(cls, space, wanted):
    for call in (cls.required_input_dim, cls.for_space):
        with pytest.raises(SpaceError, match=wanted) as info:
            call(space)
        assert repr(space) in str(info.value)


def test_space_error_is_also_a_value_error():
    with pytest.raises(ValueError):
        Categorical.for_space(BOX2)


# --- categorical ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lead", [(6,), (3, 5)])
def test_categorical_closed_forms_match_torch(lead):
    logits, other = torch.randn(*lead, 4), torch.randn(*lead, 4)
    dist, ref = Categorical.from_logits(logits), td.Categorical(logits=logits)
    actions = dist.sample()
    assert actions.shape == lead and actions.dtype == torch.int64
    torch.testing.assert_close(dist.logp(actions), ref.log_prob(actions))
    torch.testing.assert_close(dist.entropy(), ref.entropy())
    torch.testing.assert_close(
        dist.kl(Categorical.from_logits(other)),
        td.kl_divergence(ref, td.Categorical(logits=other)),
    )


def test_categorical_sample_frequencies_match_probabilities():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    dist = Categorical.from_logits(probs.log().expand(20000, 4))
    freq = torch.bincount(dist.sample(), minlength=4).float() / 20000
    torch.testing.assert_close(freq, probs, atol=0.015, rtol=0)


def test_categorical_with_start_offsets_actions_and_accepts_them_in_logp():
    dist_cls = Categorical.for_space(gym.spaces.Discrete(3, start=-1))
    logits = torch.tensor([[0.0, 1.0, 2.0]]).expand(3000, 3)
    dist = dist_cls.from_logits(logits)
    actions = dist.sample()
    assert set(actions.unique().tolist()) == {-1, 0, 1}
    assert dist.to_deterministic().sample().tolist() == [1] * 3000
    three = dist_cls.from_logits(logits[:3])
    torch.testing.assert_close(three.logp(torch.tensor([-1, 0, 1])), logits[0].log_softmax(-1))


def test_categorical_masked_actions_are_never_drawn_and_stay_finite():
    logits = torch.tensor([[0.0, -math.inf, 0.0, -math.inf]]).expand(4000, 4).clone()
    logits.requires_grad_(True)
    dist = Categorical.from_logits(logits)
    assert set(dist.sample().unique().tolist()) == {0, 2}
    entropy = dist.entropy()
    torch.testing.assert_close(entropy, torch.full((4000,), math.log(2)))
    kl = dist.kl(Categorical.from_logits(torch.zeros(4000, 4)))
    torch.testing.assert_close(kl, torch.full((4000,), math.log(2)))
    (entropy.sum() + kl.sum()).backward()
    assert torch.isfinite(logits.grad).all()


def test_categorical_logp_rejects_actions_of_the_wrong_shape():
    dist = Categorical.from_logits(torch.zeros(5, 3))
    with pytest.raises(BatchError, match=r"actions of shape \(5,\).*got \(5, 1\)"):
        dist.logp(torch.zeros(5, 1, dtype=torch.long))


def test_categorical_logp_accepts_numpy_actions():
    dist = Categorical.from_logits(torch.zeros(2, 4))
    torch.testing.assert_close(dist.logp(np.array([1, 3])), torch.full((2,), -math.log(4)))


def test_kl_against_another_kind_is_a_space_error():
    with pytest.raises(SpaceError, match="Categorical.kl needs another Categorical, got DiagG"):
        Categorical.from_logits(torch.zeros(2, 2)).kl(DiagGaussian.from_logits(torch.zeros(2, 2)))
    with pytest.raises(SpaceError, match=r"same size, got \(2, 2\) and \(2, 3\)"):
        Categorical.from_logits(torch.zeros(2, 2)).kl(Categorical.from_logits(torch.zeros(2, 3)))


def test_rsample_without_a_reparameterisation_says_what_to_use():
    with pytest.raises(NotImplementedError, match="no reparameterised sample; use sample()"):
        Bernoulli.from_logits(torch.zeros(2, 2)).rsample()


def test_categorical_rsample_is_a_straight_through_one_hot():
    logits = torch.tensor([[0.0, 5.0, -5.0]] * 64, requires_grad=True)
    sample = Categorical.from_logits(logits).rsample()
    assert sample.shape == (64, 3)
    assert torch.equal(sample.detach().sum(-1), torch.ones(64))  # one-hot forward
    assert set(sample.detach().unique().tolist()) <= {0.0, 1.0}
    weights = torch.tensor([1.0, 2.0, 3.0])
    (sample * weights).sum().backward()
    probs = logits.detach().softmax(-1)[0]  # gradient of the softmax (straight-through)
    expected = probs * (weights - (probs * weights).sum())
    torch.testing.assert_close(logits.grad[0], expected)


def test_multi_categorical_rsample_concatenates_one_hots():
    dist = MultiCategorical.from_logits(torch.zeros(5, 5, requires_grad=True), input_lens=[3, 2])
    sample = dist.rsample()
    assert sample.shape == (5, 5) and sample.requires_grad
    assert torch.equal(sample.detach()[:, :3].sum(-1), torch.ones(5))
    assert torch.equal(sample.detach()[:, 3:].sum(-1), torch.ones(5))


# --- multi-categorical ----------------------------------------------------------------------------
@pytest.mark.parametrize("nvec", [[3, 2, 4], [3, 3]])
@pytest.mark.parametrize("lead", [(6,), (2, 5)])
def test_multi_categorical_is_the_sum_of_independent_categoricals(nvec, lead):
    dist_cls = MultiCategorical.for_space(gym.spaces.MultiDiscrete(nvec))
    logits, other = torch.randn(*lead, sum(nvec)), torch.randn(*lead, sum(nvec))
    dist = dist_cls.from_logits(logits)
    refs = [td.Categorical(logits=part) for part in logits.split(nvec, -1)]
    others = [td.Categorical(logits=part) for part in other.split(nvec, -1)]
    actions = dist.sample()
    assert actions.shape == (*lead, len(nvec))
    expected_logp = sum(r.log_prob(actions[..., i]) for i, r in enumerate(refs))
    torch.testing.assert_close(dist.logp(actions), expected_logp)
    torch.testing.assert_close(dist.entropy(), sum(r.entropy() for r in refs))
    torch.testing.assert_close(
        dist.kl(dist_cls.from_logits(other)),
        sum(td.kl_divergence(r, o) for r, o in zip(refs, others)),
    )
    greedy = dist.to_deterministic().sample()
    per_dim = [part.argmax(-1) for part in logits.split(nvec, -1)]
    assert greedy.tolist() == torch.stack(per_dim, -1).tolist()


def test_multi_categorical_frequencies_and_start_offsets():
    space = gym.spaces.MultiDiscrete([2, 3], start=[5, -1])
    dist_cls = MultiCategorical.for_space(space)
    probs0, probs1 = torch.tensor([0.25, 0.75]), torch.tensor([0.5, 0.2, 0.3])
    logits = torch.cat([probs0.log(), probs1.log()]).expand(20000, 5)
    dist = dist_cls.from_logits(logits)
    actions = dist.sample()
    assert all(space.contains(a) for a in actions[:50].numpy())
    freq0 = torch.bincount(actions[:, 0] - 5, minlength=2).float() / 20000
    freq1 = torch.bincount(actions[:, 1] + 1, minlength=3).float() / 20000
    torch.testing.assert_close(freq0, probs0, atol=0.015, rtol=0)
    torch.testing.assert_close(freq1, probs1, atol=0.015, rtol=0)
    torch.testing.assert_close(
        dist.logp(torch.tensor([[6, 0]])[[0] * 20000]),
        torch.full((20000,), math.log(0.75 * 0.2)),
    )


def test_unconfigured_multi_categorical_needs_input_lens():
    dist = MultiCategorical.from_logits(torch.zeros(4, 5), input_lens=[2, 3])
    assert dist.sample().shape == (4, 2)
    with pytest.raises(SpaceError, match="needs input_lens"):
        MultiCategorical.from_logits(torch.zeros(4, 5))
    with pytest.raises(SpaceError, match=r"input_lens \[2, 2\] needs .* width 4"):
        MultiCategorical.from_logits(torch.zeros(4, 5), input_lens=[2, 2])


# --- bernoulli ------------------------------------------------------------------------------------
def test_bernoulli_closed_forms_and_frequencies():
    logits, other = torch.randn(7, 3), torch.randn(7, 3)
    dist = Bernoulli.for_space(gym.spaces.MultiBinary(3)).from_logits(logits)
    ref = td.Independent(td.Bernoulli(logits=logits), 1)
    actions = dist.sample()
    assert actions.shape == (7, 3) and set(actions.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(dist.logp(actions), ref.log_prob(actions))
    torch.testing.assert_close(dist.logp(actions.long()), ref.log_prob(actions))
    torch.testing.assert_close(dist.entropy(), ref.entropy())
    torch.testing.assert_close(
        dist.kl(Bernoulli.from_logits(other)),
        td.kl_divergence(ref, td.Independent(td.Bernoulli(logits=other), 1)),
    )
    p = torch.tensor([0.1, 0.5, 0.9])
    draws = Bernoulli.from_logits(torch.logit(p).expand(20000, 3)).sample()
    torch.testing.assert_close(draws.mean(0), p, atol=0.015, rtol=0)
    assert Bernoulli.from_logits(torch.tensor([[-1.0, 2.0]])).to_deterministic().sample().tolist() \
        == [[0.0, 1.0]]


# --- gaussians ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lead", [(6,), (3, 4)])
def test_diag_gaussian_closed_forms_match_torch(lead):
    logits, other = torch.randn(*lead, 6), torch.randn(*lead, 6)
    dist = DiagGaussian.for_space(gym.spaces.Box(-1, 1, (3,))).from_logits(logits)

    def ref_of(x):
        mean, log_std = x.chunk(2, -1)
        return td.Independent(td.Normal(mean, log_std.exp()), 1)

    ref = ref_of(logits)
    actions = dist.sample()
    assert actions.shape == (*lead, 3) and not actions.requires_grad
    torch.testing.assert_close(dist.logp(actions), ref.log_prob(actions))
    torch.testing.assert_close(dist.entropy(), ref.entropy())
    torch.testing.assert_close(
        dist.kl(DiagGaussian.from_logits(other)), td.kl_divergence(ref, ref_of(other))
    )
    assert dist.to_deterministic().sample().equal(logits[..., :3])


def test_diag_gaussian_sampling_statistics_and_rsample_gradient():
    mean, log_std = torch.tensor([1.0, -2.0]), torch.tensor([0.0, math.log(0.5)])
    logits = torch.cat([mean, log_std]).expand(40000, 4).clone().requires_grad_(True)
    dist = DiagGaussian.from_logits(logits)
    draws = dist.sample()
    torch.testing.assert_close(draws.mean(0), mean, atol=0.02, rtol=0)
    torch.testing.assert_close(draws.std(0), log_std.exp(), atol=0.02, rtol=0)
    dist.rsample().sum().backward()
    assert logits.grad is not None
    torch.testing.assert_close(logits.grad[:, :2], torch.ones(40000, 2))  # d(mean + σε)/dmean


def test_diag_gaussian_clamps_log_std():
    dist = DiagGaussian.from_logits(torch.tensor([[0.0, 500.0], [0.0, -500.0]]))
    assert dist.log_std[:, 0].tolist() == [DiagGaussian.LOG_STD_MAX, DiagGaussian.LOG_STD_MIN]
    assert torch.isfinite(dist.logp(torch.zeros(2, 1))).all()


def _squashed_reference(mean, log_std, low, high):
    return td.Independent(
        td.TransformedDistribution(
            td.Normal(mean, log_std.exp()),
            [td.TanhTransform(), td.AffineTransform((high + low) / 2, (high - low) / 2)],
        ),
        1,
    )


@pytest.mark.parametrize("lead", [(6,), (2, 3)])
def test_squashed_gaussian_logp_matches_the_transformed_normal(lead):
    space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 10.0], np.float32))
    dist_cls = SquashedGaussian.for_space(space)
    logits = torch.randn(*lead, 4) * 0.5
    dist = dist_cls.from_logits(logits)
    mean, log_std = logits.chunk(2, -1)
    ref = _squashed_reference(mean, log_std, torch.tensor([-2.0, 0.0]), torch.tensor([2.0, 10.0]))
    actions = dist.sample()
    assert actions.shape == (*lead, 2)
    assert all(space.contains(a) for a in actions.reshape(-1, 2).numpy())
    torch.testing.assert_close(dist.logp(actions), ref.log_prob(actions), atol=1e-4, rtol=1e-4)
    copy = actions.clone()  # not the sampled tensor: logp inverts the squash
    torch.testing.assert_close(dist.logp(copy), ref.log_prob(actions), atol=1e-3, rtol=1e-3)
    greedy = dist.to_deterministic().sample()
    torch.testing.assert_close(greedy, torch.tensor([0.0, 5.0]) + torch.tensor([2.0, 5.0])
                               * mean.tanh())


def test_squashed_gaussian_logp_is_finite_for_saturated_actions():
    logits = torch.tensor([[30.0, -5.0], [-30.0, -5.0]], requires_grad=True)
    dist = SquashedGaussian.from_logits(logits)
    actions = dist.sample()
    assert actions.abs().eq(1.0).all()  # tanh saturated in float32
    exact = dist.logp(actions)  # uses the exact pre-squash draw
    pre = dist._last[1]
    expected = (
        td.Normal(logits[:, :1], logits[:, 1:].exp()).log_prob(pre)
        + 2 * (pre.abs() + torch.log1p(torch.exp(-2 * pre.abs())) - math.log(2))  # -log sech²u
    ).sum(-1)
    torch.testing.assert_close(exact, expected, atol=1e-3, rtol=1e-4)
    inverted = dist.logp(torch.tensor([[1.0], [-1.0]]))  # exactly at the bounds
    assert torch.isfinite(inverted).all()
    inverted.sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_squashed_gaussian_kl_and_entropy():
    space = gym.spaces.Box(-3.0, 3.0, (2,))
    dist_cls = SquashedGaussian.for_space(space)
    p, q = torch.randn(5, 4) * 0.3, torch.randn(5, 4) * 0.3
    kl = dist_cls.from_logits(p).kl(dist_cls.from_logits(q))
    torch.testing.assert_close(kl, DiagGaussian.from_logits(p).kl(DiagGaussian.from_logits(q)))
    logits = torch.tensor([[0.3, -0.5, 0.0, -1.0]]).expand(40000, 4)
    dist = dist_cls.from_logits(logits)
    monte_carlo = -dist.logp(dist.sample()).mean()
    assert abs(dist.entropy().mean() - monte_carlo) < 0.02
    with pytest.raises(SpaceError, match="same action space"):
        dist_cls.from_logits(p).kl(SquashedGaussian.from_logits(q))


def test_squashed_gaussian_unconfigured_uses_unit_bounds():
    draws = SquashedGaussian.from_logits(torch.tensor([[0.0, 1.0]]).expand(1000, 2)).sample()
    assert draws.abs().max() <= 1.0 and draws.abs().max() > 0.9


def test_deterministic_point_mass():
    dist = Deterministic.for_space(BOX2).from_logits(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert dist.sample().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert dist.logp(torch.tensor([[1.0, 2.0], [3.0, 0.0]])).tolist() == [0.0, -math.inf]
    assert dist.entropy().tolist() == [0.0, 0.0]
    other = Deterministic.from_logits(torch.tensor([[1.0, 2.0], [0.0, 4.0]]))
    assert dist.kl(other).tolist() == [0.0, math.inf]
    scalar = Categorical.from_logits(torch.tensor([[0.0, 3.0], [2.0, 1.0]])).to_deterministic()
    assert scalar.sample().tolist() == [1, 0] and scalar.entropy().shape == (2,)
    assert scalar.logp(torch.tensor([1, 1])).tolist() == [0.0, -math.inf]


# --- structured -----------------------------------------------------------------------------------
NESTED = gym.spaces.Tuple([
    gym.spaces.Discrete(3, start=1),
    gym.spaces.Dict({"aim": BOX2, "buttons": gym.spaces.MultiBinary(2)}),
    gym.spaces.MultiDiscrete([2, 4]),
])
NESTED_WIDTH = 3 + (4 + 2) + 6  # gymnasium sorts Dict keys: aim before buttons


@pytest.mark.parametrize("lead", [(5,), (2, 3)])
def test_multi_distribution_over_nested_tuple_and_dict(lead):
    dist_cls = MultiDistribution.for_space(NESTED)
    assert dist_cls.input_dim == NESTED_WIDTH and dist_cls.input_lens == (3, 6, 6)
    logits, other = torch.randn(*lead, NESTED_WIDTH), torch.randn(*lead, NESTED_WIDTH)
    dist = dist_cls.from_logits(logits)
    actions = dist.sample()
    assert isinstance(actions, tuple) and set(actions[1]) == {"aim", "buttons"}
    assert actions[0].shape == lead and actions[1]["aim"].shape == (*lead, 2)
    assert actions[1]["buttons"].shape == (*lead, 2) and actions[2].shape == (*lead, 2)
    flat = [a.reshape(-1, *a.shape[len(lead):]).numpy() for a in
            (actions[0], actions[1]["aim"].clamp(-1, 1), actions[1]["buttons"], actions[2])]
    assert all(NESTED.contains((int(d), {"aim": a, "buttons": b.astype(np.int8)}, m))
               for d, a, b, m in zip(*flat))

    # logp / entropy / kl are the sums over the components, each built on its own slice.
    cat = Categorical.for_space(NESTED[0]).from_logits(logits[..., :3])
    aim = DiagGaussian.from_logits(logits[..., 3:7])
    buttons = Bernoulli.from_logits(logits[..., 7:9])
    multi = MultiCategorical.from_logits(logits[..., 9:], input_lens=[2, 4])
    parts = [(cat, actions[0]), (aim, actions[1]["aim"]), (buttons, actions[1]["buttons"]),
             (multi, actions[2])]
    torch.testing.assert_close(dist.logp(actions), sum(d.logp(a) for d, a in parts))
    torch.testing.assert_close(dist.entropy(), sum(d.entropy() for d, _ in parts))
    other_dist = dist_cls.from_logits(other)
    assert dist.kl(other_dist).shape == lead
    torch.testing.assert_close(dist.kl(dist), torch.zeros(lead), atol=1e-6, rtol=0)
    greedy = dist.to_deterministic().sample()
    assert greedy[0].equal(logits[..., :3].argmax(-1) + 1)
    assert greedy[1]["aim"].equal(logits[..., 3:5])


def test_multi_distribution_component_frequencies():
    space = gym.spaces.Dict({"a": gym.spaces.Discrete(2), "b": gym.spaces.Discrete(3)})
    logits = torch.tensor([0.25, 0.75, 0.6, 0.3, 0.1]).log().expand(20000, 5)
    actions = MultiDistribution.for_space(space).from_logits(logits).sample()
    torch.testing.assert_close(torch.bincount(actions["a"]).float() / 20000,
                               torch.tensor([0.25, 0.75]), atol=0.015, rtol=0)
    torch.testing.assert_close(torch.bincount(actions["b"]).float() / 20000,
                               torch.tensor([0.6, 0.3, 0.1]), atol=0.015, rtol=0)


def test_multi_distribution_rejects_values_of_the_wrong_structure():
    space = gym.spaces.Dict({"a": gym.spaces.Discrete(2), "b": gym.spaces.Discrete(3)})
    dist = MultiDistribution.for_space(space).from_logits(torch.zeros(4, 5))
    with pytest.raises(BatchError, match=r"dict with keys \['a', 'b'\], got \['a'\]"):
        dist.logp({"a": torch.zeros(4, dtype=torch.long)})
    tuple_dist = MultiDistribution.for_space(gym.spaces.Tuple([BOX2, BOX2])).from_logits(
        torch.zeros(4, 8))
    with pytest.raises(BatchError, match="a tuple of 2 components, got 1 items"):
        tuple_dist.logp((torch.zeros(4, 2),))


def test_multi_distribution_names_an_unsupported_component():
    space = gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.Box(-1, 1, (2, 2))])
    with pytest.raises(SpaceError, match=r"component 1 of action space Tuple\(") as info:
        MultiDistribution.for_space(space)
    assert "Box(-1.0, 1.0, (2, 2), float32)" in str(info.value)


def test_unconfigured_multi_distribution_takes_rllib_style_arguments():
    dist = MultiDistribution.from_logits(
        torch.zeros(3, 5),
        child_distribution_cls_struct={"move": Categorical, "aim": DiagGaussian},
        input_lens=[3, 2],
    )
    actions = dist.sample()
    assert actions["move"].shape == (3,) and actions["aim"].shape == (3, 1)
    with pytest.raises(SpaceError, match="needs child_distribution_cls_struct"):
        MultiDistribution.from_logits(torch.zeros(3, 5))
    with pytest.raises(SpaceError, match="needs input_lens"):
        MultiDistribution.from_logits(torch.zeros(3, 5), child_distribution_cls_struct=(
            Categorical, DiagGaussian))


def test_components_follow_an_installed_plugins_choice():
    class SquashBoxes:
        @rlmodules.hookimpl(tryfirst=True)
        def rlmodules_action_dist_cls(self, action_space, model_config, catalog):
            return "squashed_gaussian" if isinstance(action_space, gym.spaces.Box) else None

    space = gym.spaces.Tuple([gym.spaces.Discrete(2), BOX2])
    default_cls = MultiDistribution.for_space(space)
    plugin = SquashBoxes()
    registry.register_plugin(plugin, "squash-boxes")
    try:
        squashing_cls = MultiDistribution.for_space(space)
    finally:
        registry.unregister_plugin("squash-boxes")
    assert issubclass(default_cls.children[1], DiagGaussian)
    assert issubclass(squashing_cls.children[1], SquashedGaussian)
    assert MultiDistribution.for_space(space) is default_cls


def test_a_plugin_distribution_subclass_gets_for_space_for_free():
    class Tempered(Categorical):
        def sample(self):
            return Categorical.from_logits(self.logits / 2).sample() + self.start

    dist_cls = Tempered.for_space(gym.spaces.Discrete(4, start=3))
    assert issubclass(dist_cls, Tempered) and dist_cls.input_dim == 4
    assert dist_cls.from_logits(torch.zeros(10, 4)).sample().min() >= 3
    assert isinstance(dist_cls.from_logits(torch.zeros(1, 4)), Distribution)
