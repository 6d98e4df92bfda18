"""The DQN and SAC math against hand-computed values."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules.algorithms.dqn_math import (
    c51_loss,
    c51_projection,
    greedy_next_q,
    huber_td_loss,
    n_step_return,
    td_targets,
)
from rlmodules.algorithms.sac_math import (
    actor_loss,
    actor_loss_discrete,
    alpha_loss,
    soft_next_value_discrete,
    soft_td_targets,
    target_entropy_auto,
)


def test_n_step_return():
    assert n_step_return(np.array([1.0, 2.0, 4.0]), 0.5) == (1.0 + 1.0 + 1.0, 0.125)


def test_td_targets_bootstrap_only_non_terminal_states():
    y = td_targets(torch.tensor([1.0, 1.0]), torch.tensor([0.9, 0.81]),
                   torch.tensor([False, True]), torch.tensor([10.0, 10.0]))
    torch.testing.assert_close(y, torch.tensor([10.0, 1.0]))


def test_double_q_evaluates_the_online_argmax_with_the_target_net():
    target = torch.tensor([[1.0, 5.0, 2.0]])
    online = torch.tensor([[0.0, 0.0, 9.0]])
    assert greedy_next_q(target, None).item() == 5.0
    assert greedy_next_q(target, online).item() == 2.0


def test_c51_projection_matches_a_hand_computed_example():
    atoms = torch.tensor([-1.0, 0.0, 1.0])
    probs = torch.tensor([[0.2, 0.3, 0.5]])
    # r = 0.5, gamma = 0.5: Tz = 0.5 + 0.5 * z = [0, 0.5, 1.0].
    # z=-1 -> 0 (on atom 1: 0.2); z=0 -> 0.5 (0.15 to atoms 1 and 2); z=1 -> 1 (atom 2: 0.5).
    m = c51_projection(torch.tensor([0.5]), torch.tensor([0.5]), torch.tensor([False]),
                       probs, atoms)
    torch.testing.assert_close(m, torch.tensor([[0.0, 0.35, 0.65]]))
    # Terminal: all mass on r, clamped into the support (r = 3 -> v_max).
    m = c51_projection(torch.tensor([3.0]), torch.tensor([0.5]), torch.tensor([True]),
                       probs, atoms)
    torch.testing.assert_close(m, torch.tensor([[0.0, 0.0, 1.0]]))
    loss = c51_loss(torch.log(torch.tensor([[0.2, 0.3, 0.5]])), torch.tensor([[0.0, 0.0, 1.0]]))
    assert loss.item() == pytest.approx(-math.log(0.5))


def test_huber_is_quadratic_near_zero_and_linear_beyond_one():
    loss = huber_td_loss(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0]))
    torch.testing.assert_close(loss, torch.tensor([0.125, 2.5]))


def test_target_entropy_auto():
    assert target_entropy_auto(gym.spaces.Box(-1.0, 1.0, (3,))) == pytest.approx(-3.0)
    assert target_entropy_auto(gym.spaces.Box(-2.0, 2.0, (1,))) == pytest.approx(
        -1.0 + math.log(2.0))
    assert target_entropy_auto(gym.spaces.Discrete(4)) == pytest.approx(0.98 * math.log(4))


def test_sac_losses():
    alpha = torch.tensor(0.5)
    y = soft_td_targets(torch.tensor([1.0, 1.0]), torch.tensor([0.9, 0.9]),
                        torch.tensor([False, True]), torch.tensor([2.0, 2.0]),
                        torch.tensor([-1.0, -1.0]), alpha)
    torch.testing.assert_close(y, torch.tensor([1.0 + 0.9 * 2.5, 1.0]))
    assert actor_loss(torch.tensor([-1.0, 1.0]), torch.tensor([2.0, 4.0]), alpha).item() == -3.0
    # Entropy (-logp = 2) above the target (1): the gradient on log_alpha is positive, so
    # gradient descent lowers alpha.
    log_alpha = torch.zeros((), requires_grad=True)
    alpha_loss(log_alpha, torch.tensor([-2.0]), target_entropy=1.0).backward()
    assert log_alpha.grad.item() == pytest.approx(1.0)


def test_discrete_sac_expectations():
    probs = torch.tensor([[0.5, 0.5]])
    q = torch.tensor([[1.0, 3.0]])
    alpha = torch.tensor(1.0)
    v = soft_next_value_discrete(probs, q, alpha)
    assert v.item() == pytest.approx(2.0 + math.log(2.0))
    loss, expected_logp = actor_loss_discrete(probs, q, alpha)
    assert loss.item() == pytest.approx(-math.log(2.0) - 2.0)
    assert expected_logp.item() == pytest.approx(-math.log(2.0))
