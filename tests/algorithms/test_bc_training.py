"""Behaviour cloning end to end: expert → recorded episodes → cloned policy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import ConfigError, MultiRLModuleSpec, RLModuleSpec
from rlmodules.algorithms import BCConfig, PPOConfig, record_episodes
from rlmodules.envs import MultiAgentCartPole

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _expert(target_return, max_steps=80_000):
    """A PPO CartPole expert (RL Zoo's settings) trained until its greedy return is high."""
    algo = (PPOConfig().environment("CartPole-v1").env_runners(num_envs_per_env_runner=8)
            .training(lr=[[0, 1e-3], [100_000, 0.0]], clip_param=[[0, 0.2], [100_000, 0.0]],
                      train_batch_size=256, minibatch_size=256, num_epochs=20, gamma=0.98,
                      lambda_=0.8, entropy_coeff=0.0)
            .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
            .debugging(seed=0).build())
    while algo.timesteps < max_steps:
        result = algo.train()
        if result["training_iteration"] % 10 == 0 and result["episode_return_mean"] > 150 \
                and algo.evaluate(num_episodes=5)["episode_return_mean"] >= target_return:
            break
    return algo


def _clone_cartpole(tmp_path, expert, bc_iterations):
    out = tmp_path / "expert"
    recorded = record_episodes(expert.get_module(), expert.env_creator, out, num_episodes=50,
                               env="CartPole-v1", seed=1)
    expert_return = float(np.mean(recorded.returns("default_agent")))
    expert.stop()
    bc = (BCConfig().environment("CartPole-v1").offline_data(input_=str(out))
          .rl_module(model_config={"fcnet_hiddens": [64, 64]}).debugging(seed=0).build())
    first = bc.train()["default_policy/bc_loss"]
    for _ in range(bc_iterations - 1):
        last = bc.train()["default_policy/bc_loss"]
    assert last < first
    cloned = bc.evaluate(num_episodes=20)["episode_return_mean"]
    bc.stop()
    return expert_return, cloned


def test_bc_clones_a_ppo_cartpole_expert_from_50_episodes(tmp_path):
    expert_return, cloned = _clone_cartpole(tmp_path, _expert(450), bc_iterations=60)
    assert expert_return > 400
    assert cloned >= 0.9 * expert_return, (cloned, expert_return)


@pytest.mark.slow
def test_bc_clones_a_strong_cartpole_expert(tmp_path):
    expert = _expert(475, max_steps=150_000)
    expert_return, cloned = _clone_cartpole(tmp_path, expert, bc_iterations=200)
    assert expert_return > 400
    assert cloned >= 0.9 * expert_return, (cloned, expert_return)


def test_bc_continuous_actions_match_the_recorded_policy(tmp_path):
    env = gym.make("Pendulum-v1")
    teacher = RLModuleSpec(module_class="bc", observation_space=env.observation_space,
                           action_space=env.action_space,
                           model_config={"fcnet_hiddens": [16]}).build()
    with torch.no_grad():  # a teacher whose actions span the action range
        for param in teacher.parameters():
            param.normal_(0.0, 0.5)
    recorded = record_episodes(teacher, lambda: gym.make("Pendulum-v1"), tmp_path / "eps",
                               num_episodes=4, env="Pendulum-v1", seed=0)
    columns = recorded.columns()
    assert columns["actions"].shape == (800, 1) and columns["actions"].dtype == np.float32
    algo = (BCConfig().environment("Pendulum-v1").offline_data(input_=str(tmp_path / "eps"))
            .training(lr=3e-3, train_batch_size=800, minibatch_size=100, num_epochs=5)
            .rl_module(model_config={"fcnet_hiddens": [64]}).debugging(seed=0).build())
    obs = torch.as_tensor(columns["obs"])
    low, high = env.action_space.low[0], env.action_space.high[0]

    def action_error():
        with torch.no_grad():
            mean = algo.get_module().forward_inference({"obs": obs})["action_dist_inputs"][:, :1]
        return float(((mean.clamp(low, high) - torch.as_tensor(columns["actions"])) ** 2).mean())

    before = action_error()
    for _ in range(30):
        result = algo.train()
    assert action_error() < 0.2 * before
    assert np.isfinite(result["default_policy/bc_loss"])
    assert algo.evaluate(num_episodes=1)["num_episodes"] == 1
    algo.stop()


def test_bc_multi_agent_routes_each_agents_steps_to_its_module(tmp_path):
    env = MultiAgentCartPole(config={"num_agents": 2})
    teachers = MultiRLModuleSpec(
        observation_space=env.observation_space(0), action_space=env.action_space(0),
        rl_module_specs=RLModuleSpec(module_class="bc", model_config={"fcnet_hiddens": [8]}),
    ).build(["p0", "p1"])
    mapping = lambda agent_id, episode, **kw: f"p{agent_id}"  # noqa: E731
    recorded = record_episodes(teachers, lambda: MultiAgentCartPole(config={"num_agents": 2}),
                               tmp_path / "eps", num_episodes=6, env="MultiAgentCartPole",
                               policy_mapping_fn=mapping, explore=True, seed=0)
    algo = (BCConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
            .multi_agent(policies={"p0", "p1"}, policy_mapping_fn=mapping)
            .offline_data(input_=str(tmp_path / "eps"))
            .training(train_batch_size=256, minibatch_size=64).debugging(seed=0).build())
    for agent_id in (0, 1):
        steps = recorded.columns([agent_id])
        rows = algo.rows[f"p{agent_id}"]
        assert rows["obs"].shape[0] == len(steps["actions"])
        np.testing.assert_array_equal(rows["actions"].numpy(), steps["actions"])
    result = algo.train()
    assert {"p0/bc_loss", "p1/bc_loss"} <= set(result)
    assert algo.evaluate(num_episodes=2)["num_episodes"] == 2
    algo.stop()


def test_bc_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"BCConfig has no recorded episodes: call "
                                          r"\.offline_data\(input_=DIR\)"):
        BCConfig().environment("CartPole-v1").build()
    with pytest.raises(ConfigError, match=r"must be the path of a recorded-episodes directory, "
                                          r"got int: 3"):
        BCConfig().offline_data(input_=3)
    env = gym.make("Pendulum-v1")
    module = RLModuleSpec(module_class="bc", observation_space=env.observation_space,
                          action_space=env.action_space).build()
    record_episodes(module, lambda: gym.make("Pendulum-v1"), tmp_path / "pendulum",
                    num_episodes=1, env="Pendulum-v1")
    config = BCConfig().environment("CartPole-v1").offline_data(input_=str(tmp_path / "pendulum"))
    with pytest.raises(ConfigError, match=r"observation space Box.*recorded from 'Pendulum-v1'"):
        config.build()


def test_bc_config_round_trips_through_json(tmp_path):
    config = BCConfig().environment("CartPole-v1").offline_data(input_=[str(tmp_path)])
    again = BCConfig.from_dict(config.to_dict())
    assert again.input_ == str(tmp_path) and again.lr == 1e-3
