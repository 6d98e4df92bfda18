"""The DQN math as small functions, unit-tested on their own: n-step returns, TD targets
(plain and double Q), the C51 projection and the per-sample losses.

Batches are ``[B]`` transitions; ``discounts`` is ``gamma^n`` of each transition's n-step
bootstrap (fewer steps where the episode ended first).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

__all__ = [
    "n_step_return",
    "td_targets",
    "greedy_next_q",
    "c51_projection",
    "c51_loss",
    "huber_td_loss",
]


def n_step_return(rewards: np.ndarray, gamma: float) -> tuple[float, float]:
    """``(sum_k gamma^k r_k, gamma^n)`` over the ``n = len(rewards)`` steps of a window
    (Sutton & Barto eq. 7.1, without the bootstrap term)."""
    powers = gamma ** np.arange(len(rewards), dtype=np.float64)
    return float((powers * rewards).sum()), float(gamma ** len(rewards))


def td_targets(rewards: torch.Tensor, discounts: torch.Tensor, terminateds: torch.Tensor,
               next_q: torch.Tensor) -> torch.Tensor:
    """``y = R + gamma^n (1 - terminated) Q'(s_{t+n})``: a terminal state bootstraps 0,
    a truncated one its value."""
    return rewards + discounts * (~terminateds).to(rewards.dtype) * next_q


def greedy_next_q(target_q: torch.Tensor, online_q: torch.Tensor | None) -> torch.Tensor:
    """Bootstrap values ``[B]`` from next-state Q-values ``[B, A]``: ``max_a Q'(s', a)``, or
    with ``online_q`` Double DQN's ``Q'(s', argmax_a Q(s', a))`` (van Hasselt et al. 2016)."""
    if online_q is None:
        return target_q.max(-1).values
    return target_q.gather(-1, online_q.argmax(-1, keepdim=True)).squeeze(-1)


def c51_projection(rewards: torch.Tensor, discounts: torch.Tensor, terminateds: torch.Tensor,
                   next_probs: torch.Tensor, atoms: torch.Tensor) -> torch.Tensor:
    """The target distribution ``[B, N]``: ``R + gamma^n z`` projected onto the support
    ``atoms`` ``[N]`` (Bellemare et al. 2017, Algorithm 1).

    Each shifted atom ``Tz_j``, clamped to ``[v_min, v_max]``, splits its probability between
    the two neighbouring atoms in proportion to its distance from them (all of it to one
    atom when it lands exactly on it).
    """
    num_atoms = atoms.numel()
    v_min, v_max = atoms[0], atoms[-1]
    delta = (v_max - v_min) / (num_atoms - 1)
    not_done = (~terminateds).to(rewards.dtype)
    shifted = rewards[:, None] + (discounts * not_done)[:, None] * atoms[None, :]
    # b_j in [0, N - 1]; clamped again because (v_max - v_min) / delta can round above N - 1.
    position = ((shifted.clamp(v_min, v_max) - v_min) / delta).clamp(0, num_atoms - 1)
    lower, upper = position.floor(), position.ceil()
    on_atom = (lower == upper).to(next_probs.dtype)
    to_lower = next_probs * (upper - position + on_atom)
    to_upper = next_probs * (position - lower)
    target = torch.zeros_like(next_probs)
    target.scatter_add_(-1, lower.long(), to_lower)
    target.scatter_add_(-1, upper.long(), to_upper)
    return target


def c51_loss(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy ``-sum_i m_i log p_i`` ``[B]`` of the chosen actions'
    logits ``[B, N]`` against the projected target ``[B, N]``."""
    return -(target_probs * logits.log_softmax(-1)).sum(-1)


def huber_td_loss(q: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-sample Huber loss (delta 1) of the TD error ``[B]`` (Mnih et al. 2015)."""
    return F.smooth_l1_loss(q, targets, reduction="none")
