"""The math that decides whether DQN and SAC learn, through the algorithms' own pieces:
what the replay buffer stores at terminations, truncations and across rounds (1- and
n-step), epsilon-greedy exploration, target-network updates, Double-Q, the C51 projection
and the SAC temperature."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import Columns
from rlmodules.algorithms import DQNConfig, SACConfig
from rlmodules.algorithms.dqn_math import c51_projection, huber_td_loss
from rlmodules.algorithms.offpolicy_learner import polyak_update
from rlmodules.errors import ConfigError

GAMMA = 0.5
END = 4  # every episode ends after 4 steps


class Counter(gym.Env):
    """Observes its step count t; the step to t pays reward t; at t = 4 the episode is
    terminated or (``{"ending": "truncated"}``) truncated."""

    observation_space = gym.spaces.Box(0.0, 100.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, config=None):
        self.ending = (config or {}).get("ending", "terminated")
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t == END
        return (np.array([self.t], np.float32), float(self.t),
                done and self.ending == "terminated", done and self.ending == "truncated", {})


def stored_transitions(ending, n_step):
    """The replay buffer after 2 envs x 3 rounds of 5 steps (no learning yet)."""
    algo = (DQNConfig().environment(Counter, env_config={"ending": ending})
            .env_runners(num_envs_per_env_runner=2, rollout_fragment_length=5)
            .training(gamma=GAMMA, n_step=n_step, min_sample_timesteps_per_iteration=30,
                      num_steps_sampled_before_learning_starts=10**6)
            .rl_module(model_config={"fcnet_hiddens": [8]})
            .debugging(seed=0).build())
    algo.train()
    algo.stop()
    arrays, _ = algo.replay_buffer.get_state()
    return {k: arrays[k] for k in ("obs", "new_obs", "rewards", "terminateds", "discounts")}


@pytest.mark.parametrize("ending", ["terminated", "truncated"])
@pytest.mark.parametrize("n_step", [1, 3])
def test_stored_transitions_bootstrap_from_the_last_observation_unless_terminated(
        ending, n_step):
    data = stored_transitions(ending, n_step)
    # 15 steps per env: episodes of 4 steps, each followed by the ignored reset step.
    assert len(data["obs"]) == 2 * 12
    for obs, new_obs, reward, terminated, discount in zip(*data.values()):
        s, m = int(obs[0]), min(n_step, END - int(obs[0]))
        # Never a transition into the reset observation: the window stops at the final one.
        assert new_obs[0] == s + m
        assert reward == pytest.approx(sum(GAMMA**k * (s + 1 + k) for k in range(m)))
        assert discount == pytest.approx(GAMMA**m)
        # Only a termination cuts the bootstrap; a truncated episode keeps its value.
        assert terminated == (ending == "terminated" and s + m == END)


def test_epsilon_greedy_replaces_that_share_of_greedy_actions_by_uniform_ones():
    algo = (DQNConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=4, rollout_fragment_length=500)
            .training(epsilon=[[0, 1.0], [1000, 0.2]],
                      num_steps_sampled_before_learning_starts=0)
            .rl_module(model_config={"fcnet_hiddens": [8]}).debugging(seed=0).build())
    assert [algo.exploration_fraction(t) for t in (0, 500, 1000, 10**6)] == \
        pytest.approx([1.0, 0.6, 0.2, 0.2])
    greedy = algo.get_module().forward_inference
    algo.sampler.random_fraction = 0.2
    rollout = algo.sampler.sample(500)["default_policy"]
    obs = rollout["obs"][:-1].reshape(-1, 4)
    best = greedy({Columns.OBS: obs})[Columns.QF_PREDS].argmax(-1)
    # A uniform action differs from the greedy one half the time (2 actions): 0.2 / 2.
    differ = (rollout["actions"].reshape(-1) != best).float().mean().item()
    algo.stop()
    assert differ == pytest.approx(0.1, abs=0.02)


def test_polyak_update_moves_targets_by_tau_and_copies_at_one():
    online, target = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        online.weight.fill_(1.0)
        target.weight.fill_(0.0)
        online.running_mean.fill_(3.0)
    polyak_update([(online, target)], 0.25)
    torch.testing.assert_close(target.weight, torch.full((2,), 0.25))
    torch.testing.assert_close(target.running_mean, torch.full((2,), 3.0))  # buffers: copied
    polyak_update([(online, target)], 1.0)
    torch.testing.assert_close(target.weight, online.weight)


def small_dqn(**training):
    return (DQNConfig().environment("CartPole-v1")
            .env_runners(rollout_fragment_length=64)
            .training(**{"num_steps_sampled_before_learning_starts": 10**6,
                         "min_sample_timesteps_per_iteration": 64, "lr": 1e-2, **training})
            .rl_module(model_config={"fcnet_hiddens": [16]}).debugging(seed=0).build())


def target_weights(algo):
    return [p.detach().clone() for _, t in algo.get_module().get_target_network_pairs()
            for p in t.parameters()]


def test_hard_target_copies_happen_every_target_network_update_freq_env_steps():
    algo = small_dqn(target_network_update_freq=100, tau=1.0)
    algo.train()
    batch = algo.replay_buffer.sample(32)
    copies = []
    for timestep in (0, 50, 99, 100, 150, 199, 200):
        before = target_weights(algo)
        online = [p.detach().clone() for o, _ in algo.get_module().get_target_network_pairs()
                  for p in o.parameters()]
        algo.learner.update(batch, timestep=timestep)
        after = target_weights(algo)
        changed = any(not torch.equal(a, b) for a, b in zip(before, after))
        if changed:  # a copy of the online weights as they were before this step
            assert all(torch.equal(a, o) for a, o in zip(after, online))
        copies.append(changed)
    algo.stop()
    assert copies == [False, False, False, True, False, False, True]


@pytest.mark.parametrize("double_q", [True, False])
def test_the_dqn_loss_bootstraps_from_the_target_net_at_the_chosen_next_action(double_q):
    algo = small_dqn(double_q=double_q, dueling=False)
    algo.train()
    module = algo.get_module()
    with torch.no_grad():  # make the target net disagree with the online one
        for _, target in module.get_target_network_pairs():
            for p in target.parameters():
                p.add_(torch.randn_like(p))
    batch = {k: torch.from_numpy(v) for k, v in algo.replay_buffer.sample(64).items()}
    loss, _ = algo.learner.compute_losses(batch, timestep=0)
    with torch.no_grad():
        q = module.compute_q_values({Columns.OBS: batch[Columns.OBS]})[Columns.QF_PREDS]
        q_next_online = module.compute_q_values({Columns.OBS: batch[Columns.NEXT_OBS]})
        q_next_target = module.forward_target({Columns.OBS: batch[Columns.NEXT_OBS]})
        chooser = q_next_online if double_q else q_next_target
        next_action = chooser[Columns.QF_PREDS].argmax(-1, keepdim=True)
        next_q = q_next_target[Columns.QF_PREDS].gather(-1, next_action).squeeze(-1)
        y = batch["rewards"] + batch["discounts"] * (~batch["terminateds"]).float() * next_q
        chosen = q.gather(-1, batch["actions"].long()[:, None]).squeeze(-1)
        expected = huber_td_loss(chosen, y).mean()
    algo.stop()
    torch.testing.assert_close(loss.detach(), expected)


def c51_reference(rewards, discounts, terminateds, probs, atoms):
    """Bellemare et al. 2017, Algorithm 1, one atom at a time (float64)."""
    z = atoms.double().tolist()
    v_min, v_max, n = z[0], z[-1], len(z)
    delta = (v_max - v_min) / (n - 1)
    out = np.zeros(probs.shape)
    for i in range(len(rewards)):
        for j in range(n):
            gamma = 0.0 if terminateds[i] else float(discounts[i])
            tz = min(max(float(rewards[i]) + gamma * z[j], v_min), v_max)
            b = min((tz - v_min) / delta, n - 1)
            low, up = math.floor(b), math.ceil(b)
            p = float(probs[i, j])
            if low == up:
                out[i, low] += p
            else:
                out[i, low] += p * (up - b)
                out[i, up] += p * (b - low)
    return out


@pytest.mark.parametrize("v_min, v_max, num_atoms", [(-10.0, 10.0, 51), (0.0, 500.0, 16),
                                                     (0.1, 0.7, 30), (-1.0, 1.0, 2)])
def test_c51_projection_matches_algorithm_1_and_conserves_probability(v_min, v_max,
                                                                      num_atoms):
    # (0, 500, 16) and (0.1, 0.7, 30): (v_max - v_min) / delta rounds above N - 1 in float32.
    generator = torch.Generator().manual_seed(0)
    atoms = torch.linspace(v_min, v_max, num_atoms)
    batch = 64
    scale = v_max - v_min
    rewards = (torch.rand(batch, generator=generator) - 0.5) * 3 * scale
    rewards[:4] = torch.tensor([v_max + 1.0, v_min - 1.0, 0.0, atoms[1].item()])
    discounts = torch.rand(batch, generator=generator)
    discounts[:4] = 1.0
    terminateds = torch.rand(batch, generator=generator) < 0.2
    probs = torch.rand(batch, num_atoms, generator=generator).softmax(-1)
    m = c51_projection(rewards, discounts, terminateds, probs, atoms)
    torch.testing.assert_close(m.sum(-1), torch.ones(batch))
    np.testing.assert_allclose(m.numpy(), c51_reference(rewards, discounts, terminateds,
                                                        probs, atoms), atol=1e-5)


def pendulum_sac(target_entropy):
    return (SACConfig().environment("Pendulum-v1")
            .training(target_entropy=target_entropy, alpha_lr=0.1, train_batch_size=32,
                      num_steps_sampled_before_learning_starts=10**6,
                      min_sample_timesteps_per_iteration=64)
            .env_runners(rollout_fragment_length=64)
            .rl_module(model_config={"fcnet_hiddens": [16]}).debugging(seed=0).build())


@pytest.mark.parametrize("target_entropy, direction", [(-5.0, -1), (5.0, 1)])
def test_the_temperature_falls_above_the_entropy_target_and_rises_below_it(target_entropy,
                                                                            direction):
    # A fresh policy on Pendulum has an entropy near 1.4 (in the Box's scale).
    algo = pendulum_sac(target_entropy)
    algo.train()
    batch = algo.replay_buffer.sample(32)
    alphas = [algo.learner.log_alpha.item()]
    for step in range(5):
        metrics, _ = algo.learner.update(batch, timestep=step)
        alphas.append(algo.learner.log_alpha.item())
    algo.stop()
    assert metrics["entropy"] > -5.0 and metrics["entropy"] < 5.0
    assert all(direction * (b - a) > 0 for a, b in zip(alphas, alphas[1:])), alphas


def test_the_auto_entropy_target_is_minus_dim_a_in_the_unit_box():
    algo = pendulum_sac("auto")
    algo.stop()
    # Pendulum's torque is in [-2, 2]: -1 on [-1, 1], plus log 2 for the rescaling.
    assert algo.learner.target_entropy == pytest.approx(-1.0 + math.log(2.0))


@pytest.mark.parametrize("config_class", [DQNConfig, SACConfig])
def test_observation_normalisation_is_refused_where_raw_observations_are_replayed(
        config_class):
    env = "CartPole-v1" if config_class is DQNConfig else "Pendulum-v1"
    config = config_class().environment(env).env_runners(observation_filter="MeanStdFilter")
    with pytest.raises(ConfigError, match=rf"{config_class.__name__} replays raw "
                       r"observations; set observation_filter='NoFilter'"):
        config.build()
