"""Reward normalisation (SB3's ``VecNormalize(norm_reward=True)``, rl-zoo's ``normalize``).

Each env keeps a running discounted return ``G <- gamma * G + r`` (zeroed when its episode
ends); the learner sees ``clip(r / sqrt(var(G) + epsilon), -clip, clip)``, where ``var(G)``
is the running variance of all those returns. Rewards are scaled, not shifted, so the sign
of a reward (and what the optimal policy is) does not change. The episode returns the
metrics report stay raw: normalisation applies to the rollout the learner gets, after the
sampler has counted the episodes. In an algorithm checkpoint the statistics are the tensor
file ``reward_normalization`` (float64 ``mean``, ``var`` and ``count`` of shape ``[1]``)
plus ``gamma``, ``clip`` and ``epsilon`` under ``"reward_normalization"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from gymnasium.wrappers.utils import RunningMeanStd
from rlmodules.checkpoint import structure

from .checkpoint_schema import RewardNormalizationSettings, check_obs_statistics

__all__ = ["RewardNormalizer"]


class RewardNormalizer:
    """Running variance of discounted returns, and the reward scaling it defines.

    Example::

        normalizer = RewardNormalizer(gamma=0.99)
        rollout["rewards"] = normalizer.normalize(rollout)   # [T, N], statistics updated
    """

    def __init__(self, *, gamma: float, clip: float = 10.0, epsilon: float = 1e-8) -> None:
        self.gamma = float(gamma)
        self.clip = float(clip)
        self.epsilon = float(epsilon)
        self.stats = RunningMeanStd(shape=())
        self._returns: np.ndarray | None = None  # per env slot; fresh episodes start at 0

    def normalize(self, rollout: Mapping[str, Any]) -> torch.Tensor:
        """The rollout's ``rewards`` ``[T, N]`` scaled; the statistics take in this
        rollout's returns first. Rows outside an episode (``loss_mask`` false) are
        skipped and keep their reward."""
        rewards = rollout["rewards"].numpy().astype(np.float64)
        valid = rollout["loss_mask"].numpy()
        done = (rollout["terminateds"] | rollout["truncateds"]).numpy() & valid
        if self._returns is None or self._returns.shape != rewards.shape[1:]:
            self._returns = np.zeros(rewards.shape[1:], dtype=np.float64)
        returns = np.empty_like(rewards)
        for t in range(rewards.shape[0]):  # G_t = gamma * G_{t-1} + r_t per env
            self._returns = np.where(valid[t], self.gamma * self._returns + rewards[t],
                                     self._returns)
            returns[t] = self._returns
            self._returns = np.where(done[t], 0.0, self._returns)
        if valid.any():
            self.stats.update(returns[valid])
        scale = np.sqrt(self.stats.var + self.epsilon)
        scaled = np.where(valid, np.clip(rewards / scale, -self.clip, self.clip), rewards)
        return torch.from_numpy(scaled.astype(np.float32))

    def reset_episodes(self) -> None:
        """Forget the running returns (the envs start fresh episodes, e.g. after a restore)."""
        self._returns = None

    # --- checkpoints --------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """``(tensors, settings)``: what a checkpoint stores."""
        tensors = {name: torch.tensor([float(getattr(self.stats, name))], dtype=torch.float64)
                   for name in ("mean", "var", "count")}
        return tensors, {"gamma": self.gamma, "clip": self.clip, "epsilon": self.epsilon}

    def check_state(self, tensors: Mapping[str, torch.Tensor], settings: Mapping[str, Any],
                    *, source: object = "the reward statistics") -> None:
        """Raise ``CheckpointError`` unless :meth:`set_state` can take ``(tensors,
        settings)``: finite float64 ``mean`` and ``var > 0`` and ``count >= 0`` of shape
        ``[1]``, ``gamma`` in [0, 1], ``clip`` and ``epsilon`` finite and > 0."""
        structure(dict(settings), RewardNormalizationSettings, source=source)
        check_obs_statistics(dict(tensors), (1,), source=source)

    def set_state(self, tensors: Mapping[str, torch.Tensor], settings: Mapping[str, Any]
                  ) -> None:
        """Restore what :meth:`state` gave, whole or not at all (see :meth:`check_state`)."""
        self.check_state(tensors, settings)
        self.stats.mean, self.stats.var, self.stats.count = (
            float(tensors[name][0]) for name in ("mean", "var", "count"))
        self.gamma, self.clip, self.epsilon = (
            float(settings[name]) for name in ("gamma", "clip", "epsilon"))
        self.reset_episodes()
