"""Flat parameter buffers under the learner, and gymnasium's vectorised envs in the sampler."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from rlmodules import RLModuleSpec
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.env_creation import RegisteredEnvCreator
from rlmodules.algorithms.flat_params import FlatParameters
from rlmodules.algorithms.sampler import VectorEnvSampler
from rlmodules.envs import StatelessCartPole
from rlmodules.errors import CheckpointError, ConfigError


def _nets(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))


def _loss(net, x):
    return net(x).pow(2).mean()


def test_gradients_land_in_the_flat_buffer_as_plain_autograd_computes_them():
    flat_net, plain_net = _nets(), _nets()
    flat = FlatParameters(list(flat_net.parameters()))
    x = torch.randn(16, 4)
    for _ in range(2):  # the second pass checks that zero_grad really zeroes
        flat.zero_grad()
        _loss(flat_net, x).backward()
    _loss(plain_net, x).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in plain_net.parameters()])
    torch.testing.assert_close(flat.buffers[0].grad, expected)
    for p, q in zip(flat_net.parameters(), plain_net.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


def test_clipping_matches_torch_clip_grad_norm():
    flat_net, plain_net = _nets(), _nets()
    flat = FlatParameters(list(flat_net.parameters()))
    x = torch.randn(16, 4) * 10
    flat.zero_grad()
    _loss(flat_net, x).backward()
    _loss(plain_net, x).backward()
    norm = flat.clip_grad_norm_(0.1)
    expected = torch.nn.utils.clip_grad_norm_(list(plain_net.parameters()), 0.1)
    torch.testing.assert_close(norm, expected)
    for p, q in zip(flat_net.parameters(), plain_net.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


def test_optimizer_steps_on_the_buffer_update_the_module():
    net = _nets()
    flat = FlatParameters(list(net.parameters()))
    optimizer = torch.optim.SGD(flat.buffers, lr=0.5)
    before = [p.detach().clone() for p in net.parameters()]
    net.zero_grad()  # set_to_none: zero_grad() below must re-attach the gradient views
    flat.zero_grad()
    _loss(net, torch.randn(16, 4)).backward()
    optimizer.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, net.parameters()))
    assert flat.is_linked()


def test_parameters_of_several_dtypes_get_one_buffer_each():
    net = _nets()
    net[2].double()
    flat = FlatParameters(list(net.parameters()))
    assert sorted(str(b.dtype) for b in flat.buffers) == ["torch.float32", "torch.float64"]
    assert sum(b.numel() for b in flat.buffers) == sum(p.numel() for p in net.parameters())


def _tiny_ppo(**env_runners):
    return (
        PPOConfig().environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=2, **env_runners)
        .training(train_batch_size=32, minibatch_size=16, num_epochs=1)
        .rl_module(model_config={"fcnet_hiddens": [8]})
        .debugging(seed=0)
    )


def test_replacing_parameters_under_the_learner_is_a_clear_error():
    algo = _tiny_ppo().build()
    try:
        algo.train()
        for param in algo.get_module().parameters():  # as module.to(device) would
            param.data = param.data.clone()
        with pytest.raises(RuntimeError, match="parameters were replaced"):
            algo.train()
    finally:
        algo.stop()


def test_vector_entry_point_mode_trains_on_gymnasiums_vectorised_env():
    algo = _tiny_ppo(gym_env_vectorize_mode="vector_entry_point").build()
    try:
        assert "Vector" in type(algo.sampler.env).__name__  # CartPole's own vector env
        result = algo.train()
        assert result["num_env_steps_sampled_lifetime"] == 32
    finally:
        algo.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [("Acrobot-v1", "does not"), (StatelessCartPole, "gymnasium id")],
)
def test_vector_entry_point_mode_without_one_is_a_clear_error(env, message):
    config = _tiny_ppo(gym_env_vectorize_mode="vector_entry_point").environment(env)
    with pytest.raises(ConfigError, match=message):
        config.build()


def test_optimizer_state_of_another_architecture_is_refused():
    algo = _tiny_ppo().build()
    try:
        algo.train()
        tensors, data = algo.learner.get_optimizer_state()
        first = next(iter(tensors)).rpartition("::")[0]
        partial = {k: v for k, v in tensors.items() if not k.startswith(f"{first}::")}
        with pytest.raises(CheckpointError, match="covers only some of the module's parameters"):
            algo.learner.set_optimizer_state(partial, data)
        extra = dict(tensors, **{"no.such.weight::exp_avg": torch.zeros(1)})
        with pytest.raises(CheckpointError, match="'no.such.weight', which this module lacks"):
            algo.learner.set_optimizer_state(extra, data)
    finally:
        algo.stop()


class _SameStepCartPoles(gym.vector.SyncVectorEnv):
    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, num_envs, **kwargs):
        super().__init__([lambda: gym.make("CartPole-v1")] * num_envs,
                         autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def test_vector_entry_point_resetting_on_the_same_step_is_a_clear_error():
    env = gym.make("CartPole-v1")
    module = RLModuleSpec(module_class="ppo", observation_space=env.observation_space,
                          action_space=env.action_space).build()
    gym.register(id="SameStepCartPole-v0",
                 entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv",
                 vector_entry_point=_SameStepCartPoles)
    try:
        with pytest.raises(ConfigError, match="resets with .*SAME_STEP.*Use 'sync' or 'async'"):
            VectorEnvSampler(env_creator=RegisteredEnvCreator("SameStepCartPole-v0", {}),
                             multi_module=module.as_multi_rl_module(), num_envs=2,
                             vectorize_mode="vector_entry_point")
    finally:
        del gym.registry["SameStepCartPole-v0"]
