"""Learner: turns rollouts into gradient steps on the algorithm's MultiRLModule.

One ``multi.forward_train({module_id: minibatch})`` per minibatch, the modules' losses
summed, ONE optimizer step over all parameters, so a MultiRLModule's shared layers get
one update per step. Algorithms subclass it with :meth:`Learner.prepare` (rollouts →
training rows) and :meth:`Learner.compute_loss_for_module`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch
from rlmodules.multi_rl_module import MultiRLModule

from .flat_params import FlatParameters
from .rollout import tree_map
from .schedules import schedule_value

__all__ = ["Learner", "TrainRows", "optimizer_state", "checked_optimizer_state", "fast_adam"]

#: Optimizer state fields held once per flat buffer, not per element (Adam's step count).
_PER_BUFFER_FIELDS = frozenset({"step"})
#: Rows of one module: tensors with a leading row axis, plus how many env steps a row holds.
TrainRows = dict[str, Any]


class Learner:
    """Optimizer, minibatch epochs and the summed loss over module ids.

    Example (inside an algorithm)::

        metrics = learner.update(rollouts, timestep=algo_timesteps)
    """

    def __init__(self, *, module: MultiRLModule, config: Any, generator: torch.Generator) -> None:
        self.module = module
        self.config = config
        self.generator = generator
        self.param_names = _parameter_names(module)
        self.flat = FlatParameters(p for p in module.parameters() if p.requires_grad)
        lr = schedule_value(config.training_settings["lr"], 0)
        self.optimizer = torch.optim.Adam(self.flat.buffers, lr=lr, eps=1e-5,
                                          **fast_adam(self.flat.buffers))
        self.final_epoch = True
        #: Set on each of several data-parallel learners (see ``distributed_learner``):
        #: shards every minibatch and sums the weighted gradients over the learners.
        self.data_parallel: Any = None

    # --- to be provided by an algorithm ----------------------------------------------------------
    def prepare(self, rollouts: Mapping[str, Mapping[str, Any]]
                ) -> tuple[dict[str, TrainRows], dict[str, int]]:
        """``({module_id: rows}, {module_id: env steps per row})`` from sampler rollouts."""
        raise NotImplementedError

    def compute_loss_for_module(
        self, module_id: str, batch: Mapping[str, Any], fwd_out: Mapping[str, Any],
        timestep: int,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The scalar loss of one module on one minibatch and detached metrics. Losses
        and metrics are means over the minibatch's (unmasked) rows, so data-parallel
        learners can weight each shard's by its share of the rows."""
        raise NotImplementedError

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
        for group in self.optimizer.param_groups:
            group["lr"] = schedule_value(t["lr"], timestep)
        self.module.train()
        if not self.flat.is_linked():
            raise RuntimeError(
                "the module's parameters were replaced (e.g. by module.to() or assigning "
                "param.data) after the learner was built; move or load the module in place "
                "(load_state_dict / set_state), or build the algorithm again"
            )
        rows, steps_per_row = self.prepare(rollouts)
        collected: dict[str, list[torch.Tensor]] = {}
        count = final_count = 0
        for epoch in range(t["num_epochs"]):
            #: True during the last epoch: losses may skip diagnostics-only work before it.
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

    def _trainable(self, module_id: str) -> bool:
        module = self.module[module_id]
        return isinstance(module, torch.nn.Module) and any(
            p.requires_grad for p in module.parameters())

    def _step(self, minibatch: dict[str, Any], timestep: int) -> dict[str, torch.Tensor]:
        minibatch = self.prepare_minibatch(minibatch)
        weights: dict[str, float] = {}
        if self.data_parallel is not None:
            minibatch, weights = self.data_parallel.shard(minibatch)
        fwd_out = self.module.forward_train(minibatch) if minibatch else {}
        losses = []
        metrics: dict[str, torch.Tensor] = {}
        for module_id, batch in minibatch.items():
            loss, module_metrics = self.compute_loss_for_module(
                module_id, batch, fwd_out[module_id], timestep
            )
            if weights:
                loss = loss * weights[module_id]
                module_metrics = {k: v * weights[module_id] for k, v in module_metrics.items()}
            losses.append(loss)
            metrics.update({f"{module_id}/{k}": v for k, v in module_metrics.items()})
        total = torch.stack(losses).sum() if len(losses) > 1 else \
            losses[0] if losses else torch.zeros(())
        self.flat.zero_grad()
        if losses:
            total.backward()
        if self.data_parallel is not None:
            self.data_parallel.all_reduce_gradients(self.flat)
        grad_clip = self.config.training_settings["grad_clip"]
        if grad_clip is not None:
            metrics["learner/grad_norm"] = self.flat.clip_grad_norm_(grad_clip)
        self.optimizer.step()
        metrics["learner/total_loss"] = total.detach()
        return metrics

    def _minibatches(self, rows: Mapping[str, TrainRows], steps_per_row: Mapping[str, int],
                     minibatch_size: int) -> Iterator[dict[str, Any]]:
        """Shuffled minibatches; every module id's rows split into the same number of parts."""
        sizes = {mid: _num_rows(r) for mid, r in rows.items()}
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

    # --- optimizer state for checkpoints ---------------------------------------------------------
    def get_optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """``(tensors, json_data)``: per-parameter state keyed by parameter name."""
        return optimizer_state(self.optimizer, self.flat, self.param_names)

    def set_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                            data: Mapping[str, Any]) -> None:
        """Load :meth:`get_optimizer_state` output; parameters are matched by name."""
        self.checked_optimizer_state(tensors, data)()

    def checked_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                                data: Mapping[str, Any]) -> Callable[[], None]:
        """Check :meth:`get_optimizer_state` output against this learner (names, shapes,
        groups) and return the function that loads it, which then cannot fail."""
        return checked_optimizer_state(self.optimizer, self.flat, self.param_names, tensors,
                                       data)


def optimizer_state(optimizer: torch.optim.Optimizer, flat: FlatParameters,
                    param_names: list[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(tensors, json_data)`` of an optimizer over ``flat``'s buffers, keyed by the names
    of the parameters (``param_names``, in ``flat.params`` order).

    The optimizer steps flat buffers (see :class:`FlatParameters`); its state is cut
    back into per-parameter tensors so checkpoints do not depend on that layout.
    """
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for group, fields in state["state"].items():
        _, indices = flat.groups[group]
        for key, value in fields.items():
            if key not in _PER_BUFFER_FIELDS and isinstance(value, torch.Tensor):
                pieces = flat.split(group, value.detach())
            else:  # per-buffer values (Adam's step count): the same for each parameter
                pieces = [(i, value) for i in indices]
            for i, piece in pieces:
                name = param_names[i]
                if isinstance(piece, torch.Tensor):
                    tensors[f"{name}::{key}"] = piece
                else:
                    scalars.setdefault(name, {})[key] = piece
    groups = [{k: v for k, v in g.items() if k != "params"} for g in state["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def checked_optimizer_state(optimizer: torch.optim.Optimizer, flat: FlatParameters,
                            param_names: list[str], tensors: Mapping[str, torch.Tensor],
                            data: Mapping[str, Any]) -> Callable[[], None]:
    """Check :func:`optimizer_state` output against ``optimizer`` (names, shapes, groups)
    and return the function that loads it, which then cannot fail."""
    from rlmodules.errors import CheckpointError

    index_of = {name: i for i, name in enumerate(param_names)}
    per_param: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        name, _, field = key.rpartition("::")
        if name not in index_of:
            raise CheckpointError(
                f"optimizer state names parameter {name!r}, which this module lacks; the "
                f"checkpoint was made for a different module architecture"
            )
        expected = flat.params[index_of[name]].shape
        if field not in _PER_BUFFER_FIELDS and value.shape != expected:
            raise CheckpointError(
                f"optimizer state {key!r} has shape {tuple(value.shape)}, but parameter "
                f"{name!r} has {tuple(expected)}; the checkpoint was made for a "
                f"different module architecture"
            )
        per_param.setdefault(index_of[name], {})[field] = value
    scalars = data.get("scalars", {})
    for name, fields in scalars.items():
        if name in index_of and isinstance(fields, Mapping):
            per_param.setdefault(index_of[name], {}).update(fields)
    state: dict[int, dict[str, Any]] = {}
    for group, (_, indices) in enumerate(flat.groups):
        fields = [per_param.get(i, {}) for i in indices]
        keys = set(fields[0])
        if any(set(f) != keys for f in fields):
            raise CheckpointError(
                "optimizer state covers only some of the module's parameters; the "
                "checkpoint was made for a different module architecture"
            )
        state[group] = {
            key: flat.join(group, {i: f[key] for i, f in zip(indices, fields)})
            if key not in _PER_BUFFER_FIELDS and isinstance(fields[0][key], torch.Tensor)
            else fields[0][key]
            for key in keys
        }
    groups = [dict(g, params=list(range(len(flat.groups))))
              for g in _checked_param_groups(data.get("param_groups"),
                                             optimizer.param_groups)]
    loadable = {"state": state, "param_groups": groups}
    return lambda: optimizer.load_state_dict(loadable)


def _num_rows(rows: TrainRows) -> int:
    for value in rows.values():
        while isinstance(value, (dict, list, tuple)):
            value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        return int(value.shape[0])
    return 0


def _parameter_names(module: torch.nn.Module) -> list[str]:
    """Names of ``module.parameters()`` in the same order (shared parameters once)."""
    return [name for name, p in module.named_parameters() if p.requires_grad]


def fast_adam(params: list[torch.nn.Parameter]) -> dict[str, bool]:
    """The fused Adam kernel where torch has one for these parameters (several times
    faster than the per-tensor loop for small networks)."""
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    return {"fused": True} if fusable and params else {}


def _checked_param_groups(saved: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Saved optimizer hyper-parameter groups, checked to match the current groups' keys
    and value types (a loaded group must not fail at the next step)."""
    from rlmodules.errors import CheckpointError

    if not isinstance(saved, list) or len(saved) != len(current):
        got = len(saved) if isinstance(saved, list) else type(saved).__name__
        raise CheckpointError(
            f"optimizer state has {got} parameter groups, expected {len(current)}"
        )
    groups = []
    for index, (group, now) in enumerate(zip(saved, current)):
        keys = set(now) - {"params"}
        if not isinstance(group, dict) or set(group) != keys or any(
            type(group[k]) is not type(now[k]) and not (
                isinstance(group[k], (int, float)) and isinstance(now[k], (int, float)))
            and not (isinstance(now[k], tuple) and isinstance(group[k], list))
            for k in keys
        ):
            raise CheckpointError(
                f"optimizer parameter group {index} does not fit this optimizer (it needs "
                f"the settings {sorted(keys)} with their types); the checkpoint was made "
                f"for another optimizer"
            )
        groups.append(dict(group))
    return groups
