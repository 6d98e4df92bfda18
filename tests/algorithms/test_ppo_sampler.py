"""The vector-env sampler: next-step autoreset, exact episodes, state carried per env."""

import gymnasium as gym
import numpy as np
import torch
from rlmodules import Columns, RLModuleSpec, TorchRLModule
from rlmodules.algorithms import VectorEnvSampler
from rlmodules.algorithms.sampler import EpisodeResult


class Countdown(gym.Env):
    """obs = steps left; reward = 1, 2, 3, ... ; terminates after ``length`` steps."""

    observation_space = gym.spaces.Box(0.0, 100.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length=3):
        self.length = length

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([self.length], np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.array([self.length - self.t], np.float32)
        return obs, float(self.t), self.t == self.length, False, {}


class StepCounter(TorchRLModule):
    """Stateful: the state counts the steps since the episode start."""

    def setup(self):
        self.logits = torch.nn.Parameter(torch.zeros(2))

    def get_initial_state(self):
        return {"h": torch.zeros(1)}

    def _forward(self, batch, **kwargs):
        obs = batch[Columns.OBS]
        h = batch[Columns.STATE_IN]["h"]
        return {
            Columns.ACTION_DIST_INPUTS: self.logits.expand(*obs.shape[:2], 2),
            Columns.STATE_OUT: {"h": h + 1},
        }


def _sampler(env_creator, module_class="ppo", num_envs=2):
    probe = env_creator()
    module = RLModuleSpec(module_class=module_class, observation_space=probe.observation_space,
                          action_space=probe.action_space,
                          model_config=None if module_class != "ppo" else {"fcnet_hiddens": [8]},
                          ).build()
    return VectorEnvSampler(env_creator=env_creator, multi_module=module.as_multi_rl_module(),
                            num_envs=num_envs, seed=0)


def test_rollout_layout_masks_the_reset_step_and_keeps_the_final_obs():
    sampler = _sampler(lambda: Countdown(3))
    ro = sampler.sample(8)["default_policy"]
    assert ro["obs"].shape == (9, 2, 1) and ro["actions"].shape == (8, 2)
    assert ro["action_logp"].shape == (8, 2)
    env0 = {k: ro[k][:, 0].tolist() for k in ("rewards", "terminateds", "loss_mask")}
    assert env0["rewards"] == [1, 2, 3, 0, 1, 2, 3, 0]
    assert env0["terminateds"] == [False, False, True, False, False, False, True, False]
    assert env0["loss_mask"] == [True, True, True, False, True, True, True, False]
    # row 3 holds the final observation (0 steps left), row 4 the reset one (3 left)
    assert ro["obs"][:, 0, 0].tolist() == [3, 2, 1, 0, 3, 2, 1, 0, 3]
    sampler.close()


def test_episode_returns_and_lengths_are_exact_across_rollouts():
    sampler = _sampler(lambda: Countdown(5), num_envs=3)
    sampler.sample(4)  # every episode is cut by the end of this rollout...
    assert sampler.pop_episodes() == []
    sampler.sample(4)  # ...and finishes in the next
    assert sampler.pop_episodes() == [EpisodeResult(15.0, 5)] * 3
    sampler.close()


def test_truncation_is_flagged_and_its_final_obs_kept():
    sampler = _sampler(lambda: gym.wrappers.TimeLimit(Countdown(10), max_episode_steps=2))
    ro = sampler.sample(4)["default_policy"]
    assert ro["truncateds"][:, 0].tolist() == [False, True, False, False]
    assert ro["terminateds"][:, 0].tolist() == [False] * 4
    assert ro["obs"][2, 0, 0].item() == 8  # the final obs of the truncated episode
    assert sampler.pop_episodes() == [EpisodeResult(3.0, 2)] * 2
    sampler.close()


def test_state_is_carried_per_env_and_reset_at_episode_starts():
    sampler = _sampler(lambda: Countdown(3), module_class=StepCounter)
    ro = sampler.sample(6)["default_policy"]
    h = ro["state_in"]["h"][:, 0, 0].tolist()
    # rows 0-2 act in the episode, row 3 is its final obs (state continues), row 4 restarts
    assert h == [0, 1, 2, 3, 0, 1, 2]
    sampler.close()


def test_async_vector_env_gives_the_same_layout():
    probe = Countdown(3)
    module = RLModuleSpec(module_class="ppo", observation_space=probe.observation_space,
                          action_space=probe.action_space,
                          model_config={"fcnet_hiddens": [8]}).build()
    sampler = VectorEnvSampler(env_creator=Countdown, multi_module=module.as_multi_rl_module(),
                               num_envs=2, vectorize_mode="async", seed=0)
    ro = sampler.sample(4)["default_policy"]
    assert ro["loss_mask"][:, 1].tolist() == [True, True, True, False]
    sampler.close()


def test_run_episodes_takes_episodes_round_by_round_not_by_completion():
    lengths = iter([2, 6, 2, 6])  # the probe env, then env copies 0 and 1 ... alternate

    def creator():
        return Countdown(next(lengths))

    probe = creator()
    module = RLModuleSpec(module_class="ppo", observation_space=probe.observation_space,
                          action_space=probe.action_space,
                          model_config={"fcnet_hiddens": [8]}).build()
    sampler = VectorEnvSampler(env_creator=creator, multi_module=module.as_multi_rl_module(),
                               num_envs=2, seed=0, explore=False)
    episodes = sampler.run_episodes(4, seed=1)
    # env 0 finishes three short episodes before env 1 finishes one long one
    assert [(e.episode_return, e.length) for e in episodes] == [(21.0, 6), (3.0, 2)] * 2
    sampler.close()
