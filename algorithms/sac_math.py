"""The SAC math as small functions, unit-tested on their own (Haarnoja et al. 2018,
"Soft Actor-Critic Algorithms and Applications"): the soft TD target, the actor and
temperature losses, and the automatic entropy target. ``*_discrete`` forms take the
expectation over a categorical policy in closed form (Christodoulou 2019).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import torch

__all__ = [
    "target_entropy_auto",
    "soft_td_targets",
    "actor_loss",
    "alpha_loss",
    "soft_next_value_discrete",
    "actor_loss_discrete",
]


def target_entropy_auto(action_space: gym.Space) -> float:
    """The entropy target of ``target_entropy="auto"``.

    Box: ``-dim(A)`` for actions in ``[-1, 1]`` (the paper's heuristic), moved to the Box's
    scale by ``sum log((high - low) / 2)``, because the squashed Gaussian's log-density here
    includes the rescaling to the bounds. Discrete: ``0.98 log |A|``, just under the uniform
    policy's entropy.
    """
    if isinstance(action_space, gym.spaces.Discrete):
        return 0.98 * math.log(int(action_space.n))
    if isinstance(action_space, gym.spaces.Box):
        half_width = (action_space.high.astype(np.float64) - action_space.low) / 2.0
        return float(-action_space.shape[0] + np.log(half_width).sum())
    raise TypeError(f"SAC takes Box or Discrete actions, got {action_space}")


def soft_td_targets(rewards: torch.Tensor, discounts: torch.Tensor, terminateds: torch.Tensor,
                    next_q_min: torch.Tensor, next_logp: torch.Tensor, alpha: torch.Tensor
                    ) -> torch.Tensor:
    """``y = R + gamma^n (1 - terminated) (min_j Q'_j(s', a') - alpha log pi(a'|s'))`` with
    ``a' ~ pi(s')`` (eq. 3 with the soft value of eq. 3's V)."""
    not_done = (~terminateds).to(rewards.dtype)
    return rewards + discounts * not_done * (next_q_min - alpha * next_logp)


def actor_loss(logp: torch.Tensor, q_min: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``E[alpha log pi(a|s) - min_j Q_j(s, a)]`` for reparameterised ``a ~ pi(s)`` (eq. 7)."""
    return (alpha * logp - q_min).mean()


def alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float
               ) -> torch.Tensor:
    """``-E[log_alpha (log pi(a|s) + H_target)]`` (eq. 18 in log space): alpha grows while
    the policy's entropy ``-log pi`` is below the target and shrinks above it."""
    return -(log_alpha * (logp.detach() + target_entropy)).mean()


def soft_next_value_discrete(next_probs: torch.Tensor, next_q_min: torch.Tensor,
                             alpha: torch.Tensor) -> torch.Tensor:
    """``V(s') = sum_a pi(a|s') (min_j Q'_j(s', a) - alpha log pi(a|s'))`` ``[B]``."""
    return (next_probs * (next_q_min - alpha * _safe_log(next_probs))).sum(-1)


def actor_loss_discrete(probs: torch.Tensor, q_min: torch.Tensor, alpha: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(E_s[sum_a pi(a|s) (alpha log pi(a|s) - min_j Q_j(s, a))], E_s[sum_a pi log pi])``:
    the loss and the expected log-probability the temperature loss uses."""
    logp = _safe_log(probs)
    expected_logp = (probs * logp).sum(-1)
    return (probs * (alpha * logp - q_min)).sum(-1).mean(), expected_logp


def _safe_log(probs: torch.Tensor) -> torch.Tensor:
    return probs.clamp_min(1e-8).log()
