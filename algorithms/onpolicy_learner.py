"""The on-policy learner (PPO, BC): minibatch epochs over a sampled batch of every module id.

One ``multi.forward_train({module_id: minibatch})`` per minibatch, the modules' losses
summed, ONE gradient step over all parameters, so a MultiRLModule's shared layers get one
update per step. An algorithm provides :meth:`OnPolicyLearner.prepare` (rollouts →
training rows) and :meth:`OnPolicyLearner.compute_loss_for_module`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from .learner import Learner
from .rollout import num_rows, tree_map

__all__ = ["OnPolicyLearner", "TrainRows"]

#: Rows of one module: tensors with a leading row axis, plus how many env steps a row holds.
TrainRows = dict[str, Any]


class OnPolicyLearner(Learner):
    """Minibatch epochs and the summed loss over module ids, one optimizer (``lr``).

    Example (inside an algorithm)::

        metrics = learner.update(rollouts, timestep=algo_timesteps)
    """

    adam_eps = 1e-5

    def __init__(self, *, module: Any, config: Any, generator: torch.Generator) -> None:
        super().__init__(module=module, config=config, generator=generator)
        #: True during the last epoch: losses may skip diagnostics-only work before it.
        self.final_epoch = True

    # --- to be provided by an algorithm ----------------------------------------------------------
    def prepare(self, rollouts: Mapping[str, Mapping[str, Any]]
                ) -> tuple[dict[str, TrainRows], dict[str, int]]:
        """``({module_id: rows}, {module_id: env steps per row})`` from sampler rollouts."""
        raise NotImplementedError(f"{type(self).__name__} must implement prepare()")

    def compute_loss_for_module(
        self, module_id: str, batch: Mapping[str, Any], fwd_out: Mapping[str, Any],
        timestep: int,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The scalar loss of one module on one minibatch and detached metrics. Losses
        and metrics are means over the minibatch's (unmasked) rows, so data-parallel
        learners can weight each shard's by its share of the rows."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_loss_for_module()")

    def prepare_minibatch(self, minibatch: dict[str, Any]) -> dict[str, Any]:
        """Whole-minibatch transforms before the loss (e.g. PPO's advantage normalisation):
        data-parallel learners apply them before taking their shard."""
        return minibatch

    # --- the update ------------------------------------------------------------------------------
    def update(self, rollouts: Mapping[str, Mapping[str, Any]], *, timestep: int
               ) -> dict[str, float]:
        """Minibatch epochs over the prepared rollouts; metrics averaged over the minibatches
        of the last epoch (diagnostics are only computed there, see ``final_epoch``).

        Modules without trainable weights (a random or heuristic opponent) act but are not
        trained: their rollouts are left out here."""
        rollouts = {mid: ro for mid, ro in rollouts.items() if self._trainable(mid)}
        t = self.config.training_settings
        self.set_learning_rates(timestep)
        self.module.train()
        self.check_parameters_linked()
        rows, steps_per_row = self.prepare(self.to_device(rollouts))
        collected: dict[str, list[torch.Tensor]] = {}
        count = final_count = 0
        for epoch in range(t["num_epochs"]):
            self.final_epoch = epoch == t["num_epochs"] - 1
            for minibatch in self._minibatches(rows, steps_per_row, t["minibatch_size"]):
                metrics = self._step(minibatch, timestep)
                count += 1
                if self.final_epoch:
                    final_count += 1
                    for key, value in metrics.items():
                        collected.setdefault(key, []).append(value)
        if self.data_parallel is None:
            out = {key: torch.stack(values).mean().item() for key, values in collected.items()}
        else:  # this shard's weighted share: the learners' shares add up to the means
            out = {key: torch.stack(values).sum().item() / final_count
                   for key, values in collected.items()}
        out["learner/lr"] = self.optimizer.param_groups[0]["lr"]
        out["learner/num_minibatch_steps"] = count
        return out

    def compute_losses(self, batch: Mapping[str, Any], timestep: int
                       ) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        """The minibatch's modules through one ``forward_train``, their losses summed (on a
        data-parallel learner: its shard, each module's loss weighted by its share)."""
        minibatch = self.prepare_minibatch(dict(batch))
        weights: dict[str, float] = {}
        if self.data_parallel is not None:
            minibatch, weights = self.data_parallel.shard(minibatch)
        fwd_out = self.module.forward_train(minibatch) if minibatch else {}
        losses = []
        metrics: dict[str, torch.Tensor] = {}
        for module_id, module_batch in minibatch.items():
            loss, module_metrics = self.compute_loss_for_module(
                module_id, module_batch, fwd_out[module_id], timestep
            )
            if weights:
                loss = loss * weights[module_id]
                module_metrics = {k: v * weights[module_id] for k, v in module_metrics.items()}
            losses.append(loss)
            metrics.update({f"{module_id}/{k}": v for k, v in module_metrics.items()})
        total = torch.stack(losses).sum() if len(losses) > 1 else losses[0] if losses else None
        metrics["learner/total_loss"] = torch.zeros(()) if total is None else total.detach()
        return total, metrics

    def _trainable(self, module_id: str) -> bool:
        module = self.module[module_id]
        return isinstance(module, torch.nn.Module) and any(
            p.requires_grad for p in module.parameters())

    def _minibatches(self, rows: Mapping[str, TrainRows], steps_per_row: Mapping[str, int],
                     minibatch_size: int) -> Iterator[dict[str, Any]]:
        """Shuffled minibatches; every module id's rows split into the same number of parts."""
        sizes = {mid: num_rows(r) for mid, r in rows.items()}
        per_minibatch = {mid: max(1, minibatch_size // steps_per_row[mid]) for mid in rows}
        parts = max([math.ceil(sizes[mid] / per_minibatch[mid]) for mid in rows if sizes[mid]]
                    or [0])
        if parts == 0:
            return
        if parts == 1:  # one minibatch of everything: order does not matter
            yield {mid: r for mid, r in rows.items() if sizes[mid]}
            return
        splits = {
            mid: torch.randperm(sizes[mid], generator=self.generator).tensor_split(parts)
            for mid in rows if sizes[mid]
        }
        for i in range(parts):
            minibatch = {}
            for mid, index_parts in splits.items():
                index = index_parts[i]
                if len(index):
                    minibatch[mid] = tree_map(lambda x, ix=index: x[ix], rows[mid])
            yield minibatch
