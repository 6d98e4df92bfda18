"""Replay buffers: ring storage, n-step windows, nested observations, priorities, state."""

import numpy as np
import pytest
from rlmodules.algorithms import PrioritizedReplayBuffer, ReplayBuffer
from rlmodules.algorithms.replay_buffer import make_replay_buffer
from rlmodules.errors import CheckpointError, ConfigError


def add_steps(buffer, steps, *, num_envs=1, done_at=()):
    """Step t of env i observes 10 * t + i and gets reward t; episodes end at ``done_at``."""
    for t in range(steps):
        obs = np.array([[10.0 * t + i] for i in range(num_envs)], np.float32)
        buffer.add(obs, np.full(num_envs, t), np.full(num_envs, float(t)), obs + 10.0,
                   np.full(num_envs, t in done_at), np.zeros(num_envs, bool))


def test_ring_keeps_the_last_capacity_transitions_and_skips_ignored_rows():
    buffer = ReplayBuffer(capacity=5, seed=0)
    add_steps(buffer, 7)
    assert len(buffer) == 5 and buffer.num_added == 7
    batch = buffer.sample(200)
    assert sorted(set(batch["actions"].tolist())) == [2, 3, 4, 5, 6]
    np.testing.assert_array_equal(batch["new_obs"], batch["obs"] + 10.0)
    assert batch["obs"].dtype == np.float32 and batch["discounts"][0] == pytest.approx(0.99)
    buffer.add(np.zeros((2, 1)), np.array([7, 8]), np.zeros(2), np.zeros((2, 1)),
               np.zeros(2, bool), np.zeros(2, bool), valid=np.array([True, False]))
    assert buffer.num_added == 8


def test_n_step_windows_sum_discounted_rewards_and_stop_at_episode_end():
    buffer = ReplayBuffer(capacity=100, n_step=3, gamma=0.5, seed=0)
    add_steps(buffer, 5, done_at=(4,))      # rewards 0, 1, 2, 3, 4; terminal at t = 4
    rows = {int(a): i for i, a in enumerate(buffer._storage["actions"][: len(buffer)])}
    assert sorted(rows) == [0, 1, 2, 3, 4]
    store = buffer._storage
    first = rows[0]                            # 0 + 0.5 * 1 + 0.25 * 2, bootstrap after 3 steps
    assert store["rewards"][first] == pytest.approx(1.0)
    assert store["discounts"][first] == pytest.approx(0.125)
    assert store["new_obs"][first][0] == pytest.approx(30.0) and not store["terminateds"][first]
    last = rows[3]                             # 3 + 0.5 * 4, then the terminal state
    assert store["rewards"][last] == pytest.approx(5.0)
    assert store["discounts"][last] == pytest.approx(0.25) and store["terminateds"][last]


def test_nested_observations_are_stored_per_leaf():
    buffer = ReplayBuffer(capacity=8, seed=0)
    obs = {"pos": np.ones((2, 3)), "parts": (np.array([1, 2]), np.zeros((2, 2, 2), np.uint8))}
    buffer.add(obs, np.array([0, 1]), np.ones(2), obs, np.zeros(2, bool), np.zeros(2, bool))
    batch = buffer.sample(4)
    assert batch["obs"]["pos"].shape == (4, 3) and batch["obs"]["pos"].dtype == np.float32
    assert batch["obs"]["parts"][0].dtype == np.int64
    assert batch["new_obs"]["parts"][1].shape == (4, 2, 2)


def test_state_round_trip_continues_identically():
    buffer = PrioritizedReplayBuffer(capacity=16, seed=3)
    add_steps(buffer, 10)
    buffer.update_priorities(np.arange(5), np.arange(5.0))
    arrays, data = buffer.get_state()
    other = PrioritizedReplayBuffer(capacity=16, seed=99)
    other.set_state(arrays, data)
    a, b = buffer.sample(8), other.sample(8)
    np.testing.assert_array_equal(a["indices"], b["indices"])
    np.testing.assert_array_equal(a["weights"], b["weights"])
    with pytest.raises(CheckpointError, match=r"the saved replay buffer has capacity=16, "
                       r"this one capacity=32; resume with the replay_buffer_config"):
        PrioritizedReplayBuffer(capacity=32).set_state(arrays, data)


def test_prioritized_sampling_follows_priorities_and_weights_correct_for_it():
    buffer = PrioritizedReplayBuffer(capacity=4, alpha=1.0, beta=1.0, seed=0)
    add_steps(buffer, 2)
    buffer.update_priorities(np.array([0, 1]), np.array([1.0, 3.0]))
    batch = buffer.sample(4000)
    share = np.mean(batch["indices"] == 1)
    assert share == pytest.approx(0.75, abs=0.03)
    # w_i = (N P(i))^-beta / max w: the rarer transition gets weight 1, the other 1/3.
    np.testing.assert_allclose(batch["weights"][batch["indices"] == 0], 1.0, rtol=1e-4)
    np.testing.assert_allclose(batch["weights"][batch["indices"] == 1], 1 / 3, rtol=1e-4)


def test_bad_configs_are_named():
    with pytest.raises(ConfigError, match=r"replay_buffer_config type 'episodes' is not "
                       r"known; use one of \['prioritized', 'uniform'\]"):
        make_replay_buffer({"type": "episodes"}, n_step=1, gamma=0.9, seed=0)
    with pytest.raises(ConfigError, match=r"unknown keys \['alpha'\] for type 'uniform'; it "
                       r"takes type, capacity"):
        make_replay_buffer({"type": "uniform", "alpha": 0.5}, n_step=1, gamma=0.9, seed=0)
    with pytest.raises(ValueError, match="cannot sample from an empty replay buffer"):
        ReplayBuffer(capacity=4).sample(1)
