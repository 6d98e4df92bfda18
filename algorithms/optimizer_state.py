"""Optimizer state in checkpoints: per parameter name, whatever the flat-buffer layout.

The learner's optimizers step flat buffers (:class:`~rlmodules.algorithms.flat_params.
FlatParameters`); their state is cut back into per-parameter tensors keyed by parameter
name, so a checkpoint does not depend on that layout, and checked whole against the
optimizer before anything loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from rlmodules.errors import CheckpointError

from .flat_params import FlatParameters

__all__ = ["optimizer_state", "checked_optimizer_state", "fast_adam"]

#: Optimizer state fields held once per flat buffer, not per element (Adam's step count).
_PER_BUFFER_FIELDS = frozenset({"step"})


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


def fast_adam(params: list[torch.nn.Parameter]) -> dict[str, bool]:
    """The fused Adam kernel where torch has one for these parameters (several times
    faster than the per-tensor loop for small networks)."""
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    return {"fused": True} if fusable and params else {}


def _checked_param_groups(saved: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Saved optimizer hyper-parameter groups, checked to match the current groups' keys
    and value types (a loaded group must not fail at the next step)."""
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
