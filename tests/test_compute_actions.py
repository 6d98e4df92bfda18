"""compute_actions: the action step for single, stateful and multi-agent modules."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import (
    BatchError,
    Columns,
    MultiRLModule,
    RLModuleSpec,
    SpaceError,
    TorchRLModule,
    compute_actions,
)

OBS = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
ACT = gym.spaces.Discrete(3)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


class LogitsPolicy(TorchRLModule):
    """Returns action_dist_inputs only; records what its forward saw."""

    def setup(self):
        self.pi = torch.nn.Linear(4, self.action_space.n)
        self.seen = []

    def _forward(self, batch, **kwargs):
        self.seen.append(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


class GreedyActions(TorchRLModule):
    """Picks its own actions (the seeds' "actions used as-is" case)."""

    def setup(self):
        self.q = torch.nn.Linear(4, self.action_space.n)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTIONS: self.q(batch[Columns.OBS]).argmax(-1)}


class ActionsAndLogits(TorchRLModule):
    """Returns fixed actions and the logits they came from (logp is computed for them)."""

    def setup(self):
        self.pi = torch.nn.Linear(4, self.action_space.n)

    def _forward(self, batch, **kwargs):
        logits = self.pi(batch[Columns.OBS])
        return {
            Columns.ACTIONS: torch.full(logits.shape[:-1], 2),
            Columns.ACTION_DIST_INPUTS: logits,
        }


class RunningSum(TorchRLModule):
    """A stateful module: its state is the running sum of observations; obs are [B, T, 4]."""

    def setup(self):
        self.pi = torch.nn.Linear(4, self.action_space.n)
        self.seen = []

    def get_initial_state(self):
        return {"sum": torch.zeros(4)}

    def _forward(self, batch, **kwargs):
        obs = batch[Columns.OBS]
        self.seen.append(tuple(obs.shape))
        sums = batch[Columns.STATE_IN]["sum"].unsqueeze(1) + obs.cumsum(1)
        return {
            Columns.ACTION_DIST_INPUTS: self.pi(sums),
            Columns.STATE_OUT: {"sum": sums[:, -1]},
        }


def build(cls, obs=OBS, act=ACT):
    return cls(observation_space=obs, action_space=act)


# --- the two paths of the seeds -------------------------------------------------------------------
def test_exploration_samples_and_adds_logp_and_prob():
    module = build(LogitsPolicy)
    obs = torch.randn(6, 4)
    out = compute_actions(module, {Columns.OBS: obs}, explore=True)
    log_probs = module.pi(obs).log_softmax(-1).detach()
    actions = out[Columns.ACTIONS]
    assert actions.shape == (6,) and actions.dtype == torch.int64
    expected = log_probs.gather(-1, actions[:, None])[:, 0]
    torch.testing.assert_close(out[Columns.ACTION_LOGP], expected)
    torch.testing.assert_close(out[Columns.ACTION_PROB], expected.exp())
    assert not out[Columns.ACTION_LOGP].requires_grad


def test_exploration_frequencies_follow_the_policy():
    module = build(LogitsPolicy)
    obs = torch.randn(1, 4).expand(30000, 4)
    actions = compute_actions(module, {Columns.OBS: obs})[Columns.ACTIONS]
    probs = module.pi(obs[:1]).softmax(-1)[0].detach()
    torch.testing.assert_close(torch.bincount(actions, minlength=3) / 30000, probs,
                               atol=0.015, rtol=0)


def test_inference_is_greedy_and_adds_no_logp():
    module = build(LogitsPolicy)
    obs = torch.randn(6, 4)
    out = compute_actions(module, {Columns.OBS: obs}, explore=False)
    assert out[Columns.ACTIONS].equal(module.pi(obs).argmax(-1))
    assert Columns.ACTION_LOGP not in out and Columns.ACTION_PROB not in out


@pytest.mark.parametrize("explore", [True, False])
def test_actions_returned_by_the_module_are_used_as_is(explore):
    module = build(GreedyActions)
    obs = torch.randn(5, 4)
    out = compute_actions(module, {Columns.OBS: obs}, explore=explore)
    assert out[Columns.ACTIONS].equal(module.q(obs).argmax(-1))
    assert set(out) == {Columns.ACTIONS}


def test_given_actions_with_dist_inputs_get_their_logp_when_exploring():
    module = build(ActionsAndLogits)
    obs = torch.randn(5, 4)
    out = compute_actions(module, {Columns.OBS: obs}, explore=True)
    assert out[Columns.ACTIONS].tolist() == [2] * 5
    torch.testing.assert_close(out[Columns.ACTION_LOGP], module.pi(obs).log_softmax(-1)[:, 2])
    greedy = compute_actions(module, {Columns.OBS: obs}, explore=False)
    assert greedy[Columns.ACTIONS].tolist() == [2] * 5 and Columns.ACTION_LOGP not in greedy


def test_outputs_are_ordinary_tensors_a_loss_can_reuse():
    module = build(LogitsPolicy)
    obs = torch.randn(4, 4)
    out = compute_actions(module, {Columns.OBS: obs})
    assert not out[Columns.ACTION_LOGP].is_inference()
    new_logp = module.pi(obs).log_softmax(-1).gather(-1, out[Columns.ACTIONS][:, None])[:, 0]
    (new_logp - out[Columns.ACTION_LOGP]).exp().sum().backward()  # the PPO ratio
    assert module.pi.weight.grad is not None


# --- inputs ---------------------------------------------------------------------------------------
def test_numpy_observations_become_float32_tensors():
    module = build(LogitsPolicy)
    out = compute_actions(module, {Columns.OBS: np.zeros((3, 4), np.float64)}, for_env=True)
    seen = module.seen[-1]
    assert isinstance(seen, torch.Tensor) and seen.dtype == torch.float32 and seen.shape == (3, 4)
    env_actions = out[Columns.ACTIONS_FOR_ENV]
    assert isinstance(env_actions, np.ndarray) and env_actions.dtype == np.int64
    assert env_actions.shape == (3,) and all(ACT.contains(a) for a in env_actions)


def test_tensor_batches_pass_through_without_copies():
    module = build(LogitsPolicy)
    obs = torch.randn(2, 4)
    compute_actions(module, {Columns.OBS: obs})
    assert module.seen[-1] is obs


def test_numpy_observations_go_to_the_module_device_and_nothing_goes_to_the_cpu():
    module = build(LogitsPolicy).to("meta")  # a meta tensor cannot be copied to the CPU
    out = compute_actions(module, {Columns.OBS: np.zeros((3, 4))}, explore=True)
    assert module.seen[-1].device.type == "meta"
    assert all(out[k].device.type == "meta" for k in
               (Columns.ACTIONS, Columns.ACTION_LOGP, Columns.ACTION_PROB))


def test_a_batch_that_is_not_a_dict_is_a_batch_error():
    with pytest.raises(BatchError, match=r"needs a dict batch such as \{'obs': observations\}, "
                                         r"got Tensor"):
        compute_actions(build(LogitsPolicy), torch.zeros(2, 4))


def test_a_module_without_actions_or_dist_inputs_is_a_batch_error():
    class Silent(TorchRLModule):
        check_io = False

        def _forward(self, batch, **kwargs):
            return {"logits": batch[Columns.OBS]}

    with pytest.raises(BatchError, match="Silent returned neither 'actions' nor "
                                         "'action_dist_inputs', so no action can be chosen"):
        compute_actions(build(Silent), {Columns.OBS: torch.zeros(1, 4)})


def test_wrong_logits_width_names_the_space_and_width():
    module = build(LogitsPolicy, act=gym.spaces.Discrete(3))
    module.pi = torch.nn.Linear(4, 5)
    with pytest.raises(SpaceError, match=r"Discrete\(3\) needs action_dist_inputs of width 3"):
        compute_actions(module, {Columns.OBS: torch.zeros(2, 4)})


# --- stateful -------------------------------------------------------------------------------------
def test_stateful_module_gets_a_time_axis_and_returns_state_out():
    module = build(RunningSum)
    state = {"sum": torch.zeros(2, 4)}
    obs = np.ones((2, 4))
    for step in range(1, 4):
        out = compute_actions(module, {Columns.OBS: obs, Columns.STATE_IN: state}, for_env=True)
        assert module.seen[-1] == (2, 1, 4)
        state = out[Columns.STATE_OUT]
        assert state["sum"].tolist() == [[float(step)] * 4] * 2
        assert out[Columns.ACTIONS].shape == (2,) and out[Columns.ACTION_LOGP].shape == (2,)
        assert out[Columns.ACTION_DIST_INPUTS].shape == (2, 3)
        assert out[Columns.ACTIONS_FOR_ENV].shape == (2,)


# --- multi-agent ----------------------------------------------------------------------------------
def test_multi_rl_module_acts_per_module_id():
    multi = MultiRLModule()
    box = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
    multi.add_module("cat", build(LogitsPolicy))
    multi.add_module("gauss", RLModuleSpec(
        module_class="ppo", observation_space=OBS, action_space=box,
        model_config={"fcnet_hiddens": [8]}).build())
    multi.add_module("rnn", build(RunningSum))
    batch = {
        "cat": {Columns.OBS: np.zeros((3, 4))},
        "gauss": {Columns.OBS: torch.zeros(5, 4)},
        "rnn": {Columns.OBS: torch.zeros(2, 4), Columns.STATE_IN: {"sum": torch.ones(2, 4)}},
    }
    out = compute_actions(multi, batch, explore=True, for_env=True)
    assert set(out) == {"cat", "gauss", "rnn"}
    assert out["cat"][Columns.ACTIONS].shape == (3,)
    assert out["gauss"][Columns.ACTIONS].shape == (5, 2)
    gauss_env = out["gauss"][Columns.ACTIONS_FOR_ENV]
    assert gauss_env.dtype == np.float32 and np.abs(gauss_env).max() <= 2.0
    assert out["rnn"][Columns.STATE_OUT]["sum"].shape == (2, 4)
    assert all(Columns.ACTION_LOGP in o for o in out.values())
    only_one = compute_actions(multi, {"cat": batch["cat"]}, explore=False)
    assert set(only_one) == {"cat"}


def test_unknown_module_id_is_a_batch_error_listing_the_ids():
    multi = MultiRLModule()
    multi.add_module("p0", build(LogitsPolicy))
    with pytest.raises(BatchError, match=r"module ids \['p1'\] that the MultiRLModule lacks; "
                                         r"it has \['p0'\]"):
        compute_actions(multi, {"p1": {Columns.OBS: torch.zeros(1, 4)}})


# --- the default PPO module -----------------------------------------------------------------------
def ppo(obs_space, act_space, **config):
    return RLModuleSpec(module_class="ppo", observation_space=obs_space, action_space=act_space,
                        model_config={"fcnet_hiddens": [16], **config}).build()


def test_default_ppo_module_plays_a_cartpole_episode():
    env = gym.make("CartPole-v1")
    module = RLModuleSpec(module_class="ppo", observation_space=env.observation_space,
                          action_space=env.action_space).build()
    obs, _ = env.reset(seed=0)
    done, steps = False, 0
    while not done:
        out = compute_actions(module, {Columns.OBS: obs[None]}, explore=True, for_env=True)
        logits = module.forward_exploration({Columns.OBS: torch.as_tensor(obs[None])})[
            Columns.ACTION_DIST_INPUTS]
        expected = logits.log_softmax(-1)[0, out[Columns.ACTIONS][0]]
        torch.testing.assert_close(out[Columns.ACTION_LOGP][0], expected.detach())
        obs, _, terminated, truncated, _ = env.step(out[Columns.ACTIONS_FOR_ENV][0])
        done, steps = terminated or truncated, steps + 1
    assert steps > 1
    greedy = compute_actions(module, {Columns.OBS: obs[None]}, explore=False)
    assert greedy[Columns.ACTIONS].equal(
        module.forward_inference({Columns.OBS: torch.as_tensor(obs[None])})[
            Columns.ACTION_DIST_INPUTS].argmax(-1))


@pytest.mark.parametrize(
    "act_space",
    [
        gym.spaces.Discrete(4, start=10),
        gym.spaces.Box(np.array([-1.0, 0.0], np.float32), np.array([1.0, 5.0], np.float32)),
        gym.spaces.MultiDiscrete([3, 2], start=[1, -1]),
        gym.spaces.MultiBinary(3),
        gym.spaces.Dict({"move": gym.spaces.Discrete(3, start=-1),
                         "aim": gym.spaces.Box(-1.0, 1.0, (2,), np.float32)}),
        gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.MultiBinary(2)]),
    ],
    ids=["discrete-start", "box", "multidiscrete", "multibinary", "dict", "tuple"],
)
@pytest.mark.parametrize("explore", [True, False])
def test_default_ppo_actions_for_env_lie_in_the_action_space(act_space, explore):
    module = ppo(OBS, act_space)
    out = compute_actions(module, {Columns.OBS: np.random.default_rng(0).normal(size=(6, 4))},
                          explore=explore, for_env=True)
    env_actions = out[Columns.ACTIONS_FOR_ENV]
    for row in range(6):
        action = _row(env_actions, row)
        assert act_space.contains(action), (act_space, action)
    if explore:
        assert out[Columns.ACTION_LOGP].shape == (6,)
        assert torch.isfinite(out[Columns.ACTION_LOGP]).all()


def _row(actions, row):
    if isinstance(actions, dict):
        return {k: _row(v, row) for k, v in actions.items()}
    if isinstance(actions, tuple):
        return tuple(_row(v, row) for v in actions)
    return actions[row]


def test_default_ppo_with_a_time_axis_free_batch_of_dict_observations():
    obs_space = gym.spaces.Dict({"pos": OBS, "mode": gym.spaces.Discrete(3)})
    module = ppo(obs_space, ACT)
    obs = {"pos": np.zeros((4, 4)), "mode": np.array([0, 1, 2, 1])}
    out = compute_actions(module, {Columns.OBS: obs}, explore=True, for_env=True)
    assert out[Columns.ACTIONS].shape == (4,)


def _ppo(observation_space, action_space=ACT):
    return RLModuleSpec(module_class="ppo", observation_space=observation_space,
                        action_space=action_space, model_config={"fcnet_hiddens": [8]}).build()


def test_nested_list_observations_act_like_an_array():
    module = _ppo(OBS)
    rows = [[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 0.0, 0.0]]
    from_list = compute_actions(module, {Columns.OBS: rows}, explore=False)
    from_array = compute_actions(module, {Columns.OBS: np.array(rows)}, explore=False)
    assert torch.equal(from_list[Columns.ACTIONS], from_array[Columns.ACTIONS])
    rows_of_arrays = [np.zeros(4), np.ones(4)]
    assert compute_actions(module, {Columns.OBS: rows_of_arrays})[Columns.ACTIONS].shape == (2,)


_NUMBERS = "compute_actions: batch['obs'] must hold numbers (a tensor, a numpy array or a nested "


@pytest.mark.parametrize(
    "obs, message",
    [
        ("hello", _NUMBERS + "list of numbers), got str 'hello'"),
        (None, _NUMBERS + "list of numbers), got NoneType None"),
        ([[0.0, 1.0], [1.0]], _NUMBERS + "list of numbers), got a ragged list (rows of different "
                                         "lengths)"),
    ],
    ids=["str", "None", "ragged"],
)
def test_observations_that_are_not_numbers_are_a_batch_error(obs, message):
    with pytest.raises(BatchError) as info:
        compute_actions(_ppo(OBS), {Columns.OBS: obs})
    assert str(info.value) == message


@pytest.mark.parametrize("obs, shown", [(np.array([5]), 5), (torch.tensor([-1]), -1)])
def test_out_of_range_discrete_observations_are_a_batch_error(obs, shown):
    module = _ppo(gym.spaces.Discrete(3))
    with pytest.raises(BatchError) as info:
        compute_actions(module, {Columns.OBS: obs})
    assert str(info.value) == (
        f"compute_actions: observations must be integers in [0, 2] for Discrete(3); got {shown}"
    )


def test_a_dict_observation_missing_a_key_is_a_batch_error():
    module = _ppo(gym.spaces.Dict({"pos": OBS, "id": gym.spaces.Discrete(3)}))
    with pytest.raises(BatchError) as info:
        compute_actions(module, {Columns.OBS: {"pos": np.zeros((1, 4), np.float32)}})
    assert str(info.value) == (
        "compute_actions: observations lack the keys ['id'] of the Dict observation space "
        "(they have ['pos']; it needs ['id', 'pos'])"
    )


def test_nan_observations_into_a_gaussian_are_a_batch_error():
    module = _ppo(OBS, gym.spaces.Box(-1.0, 1.0, (2,), np.float32))
    with pytest.raises(BatchError) as info:
        compute_actions(module, {Columns.OBS: np.full((1, 4), np.nan, np.float32)})
    assert str(info.value) == (
        "compute_actions: observations contain NaN (4 of 4 values), which no observation of "
        "Box(-1.0, 1.0, (4,), float32) is (check the env, or the wrapper that normalises it)"
    )
