"""The PPO math as small functions (Schulman et al. 2016, 2017), unit-tested on their own.

Rollouts are time-major: ``[T, N]`` for T steps of N env slots, values ``[T + 1, N]`` (the
last row values the observation after the final step). ``loss_mask`` is False on rows
whose action the env ignored (the reset step of next-step autoreset); such rows neither
learn nor pass advantage back in time.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "compute_gae",
    "masked_mean",
    "normalize_advantages",
    "clipped_surrogate_loss",
    "value_loss",
]


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    terminateds: np.ndarray,
    truncateds: np.ndarray,
    loss_mask: np.ndarray,
    *,
    gamma: float,
    lambda_: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimates and value targets, both ``[T, N]``.

    ``delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)`` and
    ``A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}`` (GAE paper, eq. 16), where
    ``done = terminated or truncated``: a truncated step still bootstraps from the value of
    its final observation ``values[t + 1]`` but does not chain into the next episode.
    Targets are ``A_t + V(s_t)``; masked rows get 0 for both.

    Example::

        adv, targets = compute_gae(r, v, term, trunc, mask, gamma=0.99, lambda_=0.95)
    """
    steps = rewards.shape[0]
    advantages = np.zeros_like(rewards, dtype=np.float32)
    not_terminated = 1.0 - terminateds.astype(np.float32)
    continues = 1.0 - (terminateds | truncateds).astype(np.float32)
    mask = loss_mask.astype(np.float32)
    deltas = rewards + gamma * values[1:] * not_terminated - values[:-1]
    running = np.zeros(rewards.shape[1:], dtype=np.float32)
    for t in range(steps - 1, -1, -1):
        running = (deltas[t] + gamma * lambda_ * continues[t] * running) * mask[t]
        advantages[t] = running
    targets = (advantages + values[:-1]) * mask
    return advantages, targets.astype(np.float32)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``x`` over entries where ``mask`` is true (all entries when it is None).

    An all-false mask gives 0, not NaN, so padded minibatches cannot poison a step.
    """
    if mask is None:
        return x.mean()
    weights = mask.to(x.dtype)
    return (x * weights).sum() / weights.sum().clamp_min(1.0)


def normalize_advantages(advantages: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero mean, unit standard deviation over the unmasked entries (masked ones stay 0)."""
    if mask is None:  # one fused kernel for the statistics: this runs every minibatch
        std, mean = torch.std_mean(advantages, correction=0)
        return (advantages - mean) / (std + 1e-8)
    mean = masked_mean(advantages, mask)
    var = masked_mean((advantages - mean) ** 2, mask)
    normalized = (advantages - mean) / (var.sqrt() + 1e-8)
    return normalized * mask.to(advantages.dtype)


def clipped_surrogate_loss(
    logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip_param: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample PPO policy loss ``-min(r A, clip(r, 1 - eps, 1 + eps) A)`` (PPO eq. 7)
    and the ratio ``r = exp(logp - old_logp)``.

    Computed as ``-A * clamp(r, lo, hi)`` with ``hi = 1 + eps`` where ``A >= 0`` and
    ``lo = 1 - eps`` where ``A < 0`` (the other bound open): the same value and gradient as
    the ``min`` form in fewer autograd nodes, as the bounds need no gradient.
    """
    ratio = torch.exp(logp - old_logp)
    positive = advantages >= 0
    lower = torch.where(positive, -math.inf, 1.0 - clip_param)
    upper = torch.where(positive, 1.0 + clip_param, math.inf)
    return -advantages * ratio.clamp(lower, upper), ratio


def value_loss(
    values: torch.Tensor, targets: torch.Tensor, vf_clip_param: float | None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared error ``(V - target)^2`` over the unmasked entries, each term capped at
    ``vf_clip_param`` if given (RLlib's value-loss clipping)."""
    if vf_clip_param is None and mask is None:  # one fused kernel, forward and backward
        return torch.nn.functional.mse_loss(values, targets)
    squared = (values - targets) ** 2
    if vf_clip_param is not None:
        squared = squared.clamp(max=vf_clip_param)
    return masked_mean(squared, mask)
