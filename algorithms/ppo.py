"""PPO: the clipped-surrogate policy gradient with GAE (Schulman et al. 2017).

Values come from ``module.compute_values(batch)``, called on the train batch before any
``forward_train`` (RLlib's order: a module may prepare the batch there, e.g. split an
action mask off a Dict observation, and ``forward_train`` sees that). A module without
``compute_values`` (e.g. a plain policy-gradient module) trains with a zero baseline:
its advantages are the GAE of the rewards with ``V = 0`` (lambda-discounted returns) and
it gets no value loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from rlmodules.columns import Columns

from .config import PPOConfig
from .layout import FlatLayout, SequenceLayout
from .onpolicy import OnPolicyAlgorithm
from .onpolicy_learner import OnPolicyLearner, TrainRows
from .ppo_math import (
    clipped_surrogate_loss,
    compute_gae,
    masked_mean,
    normalize_advantages,
    value_loss,
)
from .schedules import schedule_value

__all__ = ["PPO", "PPOConfig", "PPOLearner"]

_DEFAULT_MAX_SEQ_LEN = 20


class PPOLearner(OnPolicyLearner):
    """Advantages with GAE, then the clipped surrogate + value + entropy loss per module."""

    def prepare(self, rollouts: Mapping[str, Mapping[str, Any]]
                ) -> tuple[dict[str, TrainRows], dict[str, int]]:
        layouts = {mid: self._layout(mid, ro) for mid, ro in rollouts.items()}
        batches = {mid: layouts[mid].value_batch(ro) for mid, ro in rollouts.items()}
        values = self._values_on_grid(batches, layouts)
        t = self.config.training_settings
        rows, steps_per_row = {}, {}
        for mid, rollout in rollouts.items():
            layout = layouts[mid]
            grid_values = values.get(mid)  # None: no critic, a zero baseline
            baseline = grid_values if grid_values is not None else \
                np.zeros(layout.grid_shape, dtype=np.float32)
            advantages, targets = compute_gae(
                rollout["rewards"].numpy(), baseline, rollout["terminateds"].numpy(),
                rollout["truncateds"].numpy(), rollout["loss_mask"].numpy(),
                gamma=t["gamma"], lambda_=t["lambda_"],
            )
            columns = {
                Columns.ACTIONS: rollout["actions"],
                Columns.ACTION_LOGP: rollout["action_logp"],
                Columns.ADVANTAGES: torch.from_numpy(advantages),
                Columns.VALUE_TARGETS: torch.from_numpy(targets),
            }
            if grid_values is not None:
                columns[Columns.VF_PREDS] = torch.from_numpy(grid_values[:-1].copy())
            rows[mid] = layout.train_rows(batches[mid], columns)
            steps_per_row[mid] = layout.steps_per_row()
        return rows, steps_per_row

    def _layout(self, module_id: str, rollout: Mapping[str, Any]) -> Any:
        module = self.module[module_id]
        if not module.is_stateful():
            return FlatLayout(rollout)
        max_seq_len = (module.model_config or {}).get("max_seq_len", _DEFAULT_MAX_SEQ_LEN)
        return SequenceLayout(rollout, int(max_seq_len))

    def _values_on_grid(self, batches: Mapping[str, dict[str, Any]],
                        layouts: Mapping[str, Any]) -> dict[str, Any]:
        """Value estimates on every ``[T + 1, N]`` grid cell of modules with a critic
        (``compute_values`` may change its batch: the train rows are cut from it)."""
        with torch.no_grad():
            return {
                mid: layouts[mid].values_to_grid(self.module[mid].compute_values(batch))
                for mid, batch in batches.items()
                if hasattr(self.module[mid], "compute_values")
            }

    def prepare_minibatch(self, minibatch: dict[str, Any]) -> dict[str, Any]:
        """Advantages normalised over each module's whole minibatch."""
        if not self.config.training_settings["normalize_advantages"]:
            return minibatch
        return {mid: {**batch, Columns.ADVANTAGES: normalize_advantages(
                    batch[Columns.ADVANTAGES], batch.get(Columns.LOSS_MASK))}
                for mid, batch in minibatch.items()}

    def compute_loss_for_module(
        self, module_id: str, batch: Mapping[str, Any], fwd_out: Mapping[str, Any],
        timestep: int,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        t = self.config.training_settings
        module = self.module[module_id]
        mask = batch.get(Columns.LOSS_MASK)
        dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        logp = dist.logp(batch[Columns.ACTIONS])
        advantages = batch[Columns.ADVANTAGES]
        clip_param = schedule_value(t["clip_param"], timestep)
        surrogate, ratio = clipped_surrogate_loss(
            logp, batch[Columns.ACTION_LOGP], advantages, clip_param
        )
        policy_loss = masked_mean(surrogate, mask)
        entropy_coeff = schedule_value(t["entropy_coeff"], timestep)
        loss = policy_loss
        metrics = {"policy_loss": policy_loss.detach()}
        if entropy_coeff > 0:
            entropy = masked_mean(dist.entropy(), mask)
            loss = loss - entropy_coeff * entropy
            metrics["entropy"] = entropy.detach()
        if Columns.VF_PREDS in batch:
            values = module.compute_values(batch, embeddings=fwd_out.get(Columns.EMBEDDINGS))
            vf_loss = value_loss(values, batch[Columns.VALUE_TARGETS], t["vf_clip_param"], mask)
            loss = loss + t["vf_loss_coeff"] * vf_loss
            metrics["vf_loss"] = vf_loss.detach()
        if self.final_epoch:
            metrics.update(_diagnostics(dist, logp, batch, ratio, clip_param, mask))
        return loss, metrics


def _diagnostics(dist: Any, logp: torch.Tensor, batch: Mapping[str, Any], ratio: torch.Tensor,
                 clip_param: float, mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Entropy, approximate KL (Schulman's k3 estimator) and the clipped fraction."""
    with torch.no_grad():
        log_ratio = logp - batch[Columns.ACTION_LOGP]
        return {
            "entropy": masked_mean(dist.entropy(), mask),
            "approx_kl": masked_mean(ratio - 1.0 - log_ratio, mask),
            "clip_fraction": masked_mean(((ratio - 1.0).abs() > clip_param).float(), mask),
        }


class PPO(OnPolicyAlgorithm):
    """Proximal Policy Optimization over gymnasium vector envs; built by ``PPOConfig``.

    Example::

        algo = PPOConfig().environment("CartPole-v1").debugging(seed=0).build()
        while algo.train()["episode_return_mean"] < 475:
            pass
    """

    default_module_class = "rlmodules/ppo"
    learner_class = PPOLearner
