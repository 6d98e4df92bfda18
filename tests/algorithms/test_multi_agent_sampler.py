"""The multi-agent sampler, env protocol and module building, through the public API."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import ConfigError, MultiRLModule, MultiRLModuleSpec, RLModuleSpec
from rlmodules.algorithms import MultiAgentSampler, PPOConfig
from rlmodules.envs import MultiAgentCartPole, check_parallel_env
from rlmodules.errors import BatchError

BOX = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class CountingMultiRLModule(MultiRLModule):
    """Counts acting forwards, to check one forward per env step over all module ids."""

    calls: list[dict[str, int]]

    def setup(self):
        super().setup()
        self.calls = []

    def _forward_exploration(self, batch, **kwargs):
        self.calls.append({mid: len(b["obs"]) for mid, b in batch.items()})
        return super()._forward_exploration(batch, **kwargs)


def _multi(ids, obs_space, act_space, cls=MultiRLModule):
    spec = MultiRLModuleSpec(multi_rl_module_class=cls, observation_space=obs_space,
                             action_space=act_space,
                             rl_module_specs=RLModuleSpec(module_class="bc",
                                                          model_config={"fcnet_hiddens": [8]}))
    return spec.build(ids)


def _cartpole_sampler(num_agents=2, num_envs=2, mapping=lambda a, e, **kw: f"p{a}", **kw):
    env = MultiAgentCartPole(config={"num_agents": num_agents})
    multi = _multi(["p0", "p1"], env.observation_space(0), env.action_space(0),
                   CountingMultiRLModule)
    sampler = MultiAgentSampler(
        env_creator=lambda: MultiAgentCartPole(config={"num_agents": num_agents}),
        multi_module=multi, policy_mapping_fn=mapping, num_envs=num_envs, seed=0, **kw)
    return sampler, multi


def test_each_agent_routed_to_its_module_with_one_forward_per_step():
    sampler, multi = _cartpole_sampler()
    rollouts = sampler.sample(60)
    assert sorted(rollouts) == ["p0", "p1"]
    assert len(multi.calls) == 60  # one forward per env step over all module ids
    assert multi.calls[0] == {"p0": 2, "p1": 2}  # both agents of both env copies
    for module_id, rollout in rollouts.items():
        steps, lanes = rollout["loss_mask"].shape
        assert lanes == 2  # one lane per env copy for this agent
        assert rollout["obs"].shape == (steps + 1, lanes, 4)
        assert rollout["actions"].shape == rollout["action_logp"].shape == (steps, lanes)
        # Every acting agent's step is one unmasked row (episode breaks are masked).
        assert int(rollout["loss_mask"].sum()) == sum(c.get(module_id, 0) for c in multi.calls)
        done = rollout["terminateds"] | rollout["truncateds"]
        assert not (done & ~rollout["loss_mask"]).any()
        # The row after a finished episode holds its final obs and is masked out.
        t, n = torch.nonzero(done[:-1], as_tuple=True)
        assert not rollout["loss_mask"][t + 1, n].any()


def test_shared_mapping_puts_all_agents_in_one_module():
    sampler, _ = _cartpole_sampler(num_agents=3, num_envs=1, mapping=lambda a, e, **kw: "p1")
    rollouts = sampler.sample(20)
    assert list(rollouts) == ["p1"]
    assert rollouts["p1"]["loss_mask"].shape[1] == 3
    assert int(rollouts["p1"]["loss_mask"][0].sum()) == 3


def test_agents_finish_at_different_times_and_episode_ends_when_all_are_done():
    sampler, _ = _cartpole_sampler(num_agents=2, num_envs=1, explore=True)
    sampler.sample(400)
    episodes = sampler.pop_episodes()
    assert episodes
    uneven = [e for e in episodes if e.agents[0].length != e.agents[1].length]
    assert uneven, "CartPole poles fall at different steps"
    for episode in episodes:
        assert episode.length == max(ep.length for ep in episode.agents.values())
        assert all(ep.terminated or ep.truncated for ep in episode.agents.values())
        assert episode.module_ids == {0: "p0", 1: "p1"}
        assert episode.episode_return == sum(ep.episode_return for ep in episode.agents.values())


class TurnTakingEnv:
    """Two agents that act in turns; both are rewarded every step; ends after 6 steps."""

    def __init__(self, config=None):
        self.possible_agents = ["a", "b"]
        self.agents = []

    def observation_space(self, agent):
        return BOX

    def action_space(self, agent):
        return gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        self.agents, self.t = ["a", "b"], 0
        return {"a": np.full(3, 0.0, np.float32)}, {"a": {}}

    def step(self, actions):
        mover = "a" if self.t % 2 == 0 else "b"
        assert list(actions) == [mover], f"only {mover} may act, got {list(actions)}"
        self.t += 1
        done = self.t == 6
        nxt = "b" if mover == "a" else "a"
        obs = {nxt: np.full(3, self.t / 10, np.float32)}
        rewards = {"a": 1.0, "b": 10.0}
        terms = {"a": done, "b": done}
        if done:
            self.agents = []
            obs = {"a": np.zeros(3, np.float32), "b": np.zeros(3, np.float32)}
        return obs, rewards, terms, {"a": False, "b": False}, {}


def test_turn_taking_agents_have_no_idle_rows_and_collect_rewards_between_turns():
    multi = _multi(["pa", "pb"], BOX, gym.spaces.Discrete(2))
    sampler = MultiAgentSampler(env_creator=TurnTakingEnv, multi_module=multi,
                                policy_mapping_fn=lambda a, e, **kw: f"p{a}", seed=0)
    rollouts = sampler.sample(6)
    a, b = rollouts["pa"], rollouts["pb"]
    # a acted at t = 0, 2, 4 and b at t = 1, 3, 5: three real rows each, none idle.
    assert a["loss_mask"][:, 0].tolist() == [True, True, True]
    assert b["loss_mask"][:, 0].tolist() == [True, True, True]
    # a's steps collect the rewards of its own step and b's following step: 1 + 1.
    assert a["rewards"][:, 0].tolist() == [2.0, 2.0, 2.0]
    # b's first step collects the rewards from its turn on (10 + 10), its last only 10.
    assert b["rewards"][:, 0].tolist() == [20.0, 20.0, 10.0]
    assert a["terminateds"][:, 0].tolist() == [False, False, True]
    assert b["terminateds"][:, 0].tolist() == [False, False, True]
    assert torch.allclose(a["obs"][:3, 0, 0], torch.tensor([0.0, 0.2, 0.4]))
    assert torch.allclose(b["obs"][:3, 0, 0], torch.tensor([0.1, 0.3, 0.5]))
    episode, = sampler.pop_episodes()
    assert episode.agents["a"].episode_return == 6.0
    assert episode.agents["b"].episode_return == 50.0  # b's reward before it first acted is lost


def test_unknown_module_id_from_mapping_is_a_config_error():
    with pytest.raises(ConfigError, match=r"mapped agent 0 to module id 'p7'.*\['p0', 'p1'\]"):
        _cartpole_sampler(mapping=lambda a, e, **kw: "p7")


def test_non_parallel_env_is_rejected_with_what_is_missing():
    with pytest.raises(ConfigError, match=r"object is not a parallel multi-agent env: it "
                                          r"lacks \['reset', 'step', 'possible_agents', "
                                          r"'observation_space', 'action_space'\]. .*"
                                          r"\(and agents after reset\)"):
        check_parallel_env(object())
    with pytest.raises(ConfigError, match="must be a method taking an agent id"):
        check_parallel_env(_AttributeSpaces())


class _AttributeSpaces:
    possible_agents = agents = [0]
    observation_space = action_space = BOX

    def reset(self):
        pass

    def step(self):
        pass


def test_multi_agent_cartpole_follows_the_parallel_api():
    env = MultiAgentCartPole(config={"num_agents": 3})
    assert env.possible_agents == [0, 1, 2] and env.agents == []
    obs, infos = env.reset(seed=3)
    assert sorted(obs) == sorted(infos) == [0, 1, 2] and env.num_agents == 3
    again, _ = MultiAgentCartPole(config={"num_agents": 3}).reset(seed=3)
    assert all(np.array_equal(obs[a], again[a]) for a in obs)
    obs, rewards, terms, truncs, infos = env.step({0: 0, 1: 1, 2: 0})
    assert set(obs) == set(rewards) == set(terms) == set(truncs) == {0, 1, 2}
    assert env.observation_space(1) == gym.make("CartPole-v1").observation_space


@pytest.mark.parametrize(("config", "message"), [
    ({"num_agents": 0}, r"'num_agents' must be a positive int, got 0"),
    ({"num_agents": "2"}, r"must be a positive int, got '2'"),
    ({"agents": 2}, r"unknown config keys \['agents'\]; it takes only 'num_agents'"),
])
def test_multi_agent_cartpole_bad_config(config, message):
    with pytest.raises(ConfigError, match=message):
        MultiAgentCartPole(config=config)


def test_multi_agent_cartpole_bad_actions_and_agents():
    env = MultiAgentCartPole(config={"num_agents": 2})
    env.reset(seed=0)
    with pytest.raises(BatchError, match=r"got actions for \[0\] \(missing \[1\], not live \[\]\)"):
        env.step({0: 1})
    with pytest.raises(BatchError, match=r"has no agent 5; its agents are \[0, 1\]"):
        env.observation_space(5)


def _ppo(**multi_agent):
    return (PPOConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
            .multi_agent(**multi_agent)
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1))


def test_policies_without_mapping_fn_is_a_config_error():
    with pytest.raises(ConfigError, match=r"several module ids but no policy_mapping_fn"):
        _ppo(policies={"p0", "p1"}).build()


def test_policies_must_be_a_collection_of_ids():
    with pytest.raises(ConfigError, match=r"collection of module ids.*got str: 'p0'"):
        _ppo(policies="p0").build()


def test_mapping_to_an_undeclared_policy_is_a_config_error_at_build():
    config = _ppo(policies={"p0"}, policy_mapping_fn=lambda a, e, **kw: f"p{a}")
    with pytest.raises(ConfigError, match=r"agent 1 to module id 'p1'.*not among.*\['p0'\]"):
        config.build()


def test_one_rl_module_spec_serves_every_policy_and_ppo_trains_them():
    algo = (_ppo(policies={"p0", "p1"}, policy_mapping_fn=lambda a, e, **kw: f"p{a}")
            .rl_module(rl_module_spec=RLModuleSpec(model_config={"fcnet_hiddens": [16]}))
            .debugging(seed=0).build())
    assert list(algo.module.keys()) == ["p0", "p1"]
    assert all(m.model_config.fcnet_hiddens == [16] for m in algo.module.values())
    result = algo.train()
    assert {"p0/policy_loss", "p0/vf_loss", "p1/policy_loss", "p1/vf_loss"} <= set(result)
    assert result["num_env_steps_sampled_lifetime"] == 64
    evaluation = algo.evaluate(num_episodes=2)
    assert evaluation["num_episodes"] == 2 and evaluation["episode_return_mean"] > 0
    algo.stop()


def test_turn_taking_across_sample_calls_keeps_episode_returns():
    multi = _multi(["pa", "pb"], BOX, gym.spaces.Discrete(2))
    sampler = MultiAgentSampler(env_creator=TurnTakingEnv, multi_module=multi,
                                policy_mapping_fn=lambda a, e, **kw: f"p{a}", seed=0)
    rows = sum(int(ro["loss_mask"].sum()) for n in (1, 2, 3, 6)
               for ro in sampler.sample(n).values())
    assert rows == 12  # every turn is one row, whatever the sample() boundaries
    episodes = sampler.pop_episodes()
    assert [(e.agents["a"].episode_return, e.agents["b"].episode_return) for e in episodes] \
        == [(6.0, 50.0), (6.0, 50.0)]
