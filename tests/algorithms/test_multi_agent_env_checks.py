"""A multi-agent env that returns an agent outside ``possible_agents``, or an observation
outside the agent's space, gets an error naming the agent and the space."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from rlmodules import ConfigError, MultiRLModuleSpec, RLModuleSpec
from rlmodules.algorithms import MultiAgentSampler, PPOConfig
from rlmodules.envs import MultiAgentCartPole

BOX = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Misbehaving(MultiAgentCartPole):
    """MultiAgentCartPole that, from step ``at`` on, returns ``bad`` for agent 1 (an
    observation, or ``("agent", id)`` to report an agent it never declared)."""

    def __init__(self, config=None):
        config = dict(config or {})
        self.at, self.bad = config.pop("at"), config.pop("bad")
        self.steps = 0
        super().__init__(config)

    def reset(self, seed=None, options=None):
        self.steps = 0
        obs, infos = super().reset(seed=seed, options=options)
        return self._spoil(obs), infos

    def step(self, actions):
        self.steps += 1
        obs, rewards, terms, truncs, infos = super().step(actions)
        if isinstance(self.bad, tuple) and self.bad[0] == "reward" and self.steps >= self.at:
            rewards[self.bad[1]] = 1.0
            return obs, rewards, terms, truncs, infos
        return self._spoil(obs), rewards, terms, truncs, infos

    def _spoil(self, obs):
        if self.steps >= self.at and not isinstance(self.bad, tuple) and 1 in obs:
            obs = {**obs, 1: self.bad}
        if self.steps >= self.at and isinstance(self.bad, tuple) and self.bad[0] == "new":
            obs = {**obs, self.bad[1]: obs[0]}
        return obs


def _sampler(**config):
    env = Misbehaving(config)
    spec = MultiRLModuleSpec(observation_space=env.observation_space(0),
                             action_space=env.action_space(0),
                             rl_module_specs=RLModuleSpec(module_class="ppo",
                                                          model_config={"fcnet_hiddens": [8]}))
    return MultiAgentSampler(env_creator=lambda: Misbehaving(config),
                             multi_module=spec.build(["p"]),
                             policy_mapping_fn=lambda agent, episode, **kw: "p", seed=0)


SPACE = str(gym.make("CartPole-v1").observation_space)


@pytest.mark.parametrize(("at", "bad", "got"), [
    (0, np.full(4, np.nan, np.float32), "ndarray of shape (4,) [nan nan nan nan]"),
    (3, np.full(4, np.nan, np.float32), "ndarray of shape (4,) [nan nan nan nan]"),
    (3, np.zeros(5, np.float32), "ndarray of shape (5,) [0. 0. 0. 0. 0.]"),
    (3, np.full(4, 1e9, np.float32), "ndarray of shape (4,) [1.e+09 1.e+09 1.e+09 1.e+09]"),
    (0, "up", "str 'up'"),
])
def test_an_observation_outside_its_space_names_the_agent_and_the_space(at, bad, got):
    with pytest.raises(ConfigError) as caught:
        _sampler(at=at, bad=bad).sample(5)
    assert str(caught.value) == (
        f"Misbehaving returned an observation for agent 1 outside its observation space "
        f"{SPACE}: {got}; return observations inside observation_space(1)")


@pytest.mark.parametrize(("bad", "what"), [(("new", 7), "an observation"),
                                           (("reward", "ghost"), "a reward")])
def test_an_agent_outside_possible_agents_is_named(bad, what):
    with pytest.raises(ConfigError) as caught:
        _sampler(at=2, bad=bad).sample(5)
    assert str(caught.value) == (
        f"Misbehaving returned {what} for agent {bad[1]!r}, which is not in its "
        f"possible_agents (0, 1); list every agent the env can return in possible_agents")


def test_float64_observations_of_a_float32_space_are_fine():
    """Many envs return float64: the checks are about shape, bounds and NaN, not dtype."""
    _sampler(at=0, bad=np.zeros(4, np.float64)).sample(3)


def test_training_reports_it_as_our_error():
    config = (PPOConfig().environment(Misbehaving, env_config={"at": 2, "bad": np.zeros(5)})
              .training(train_batch_size=32, minibatch_size=32, num_epochs=1))
    algo = config.build()
    with pytest.raises(ConfigError, match=r"agent 1 outside its observation space Box"):
        algo.train()
    algo.stop()
