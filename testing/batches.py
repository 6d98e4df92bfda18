"""Synthetic forward batches sampled from a module's spaces, and tensor-tree helpers.

Observations and actions are drawn from (a seeded copy of) the spaces, so every value is a
legal element of its space; the caller's spaces and global RNGs are left untouched.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns

__all__ = [
    "sample_space",
    "acting_batch",
    "train_batch",
    "batched_initial_state",
    "tree_leaves",
    "tree_map",
    "tree_index",
    "tree_mismatch",
]


def sample_space(space: gym.Space, lead: tuple[int, ...], seed: int) -> Any:
    """``prod(lead)`` samples of ``space`` stacked to leading dims ``lead``, as tensors."""
    rng_space = copy.deepcopy(space)
    rng_space.seed(seed)
    samples = [rng_space.sample() for _ in range(math.prod(lead))]
    return _stack(space, samples, lead)


def _stack(space: gym.Space, samples: list[Any], lead: tuple[int, ...]) -> Any:
    if isinstance(space, gym.spaces.Dict):
        return {k: _stack(s, [x[k] for x in samples], lead) for k, s in space.spaces.items()}
    if isinstance(space, gym.spaces.Tuple):
        return tuple(_stack(s, [x[i] for x in samples], lead) for i, s in enumerate(space.spaces))
    array = np.stack([np.asarray(x) for x in samples])
    array = array.reshape(lead + array.shape[1:])
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return torch.as_tensor(array)


def batched_initial_state(module: Any, batch_size: int) -> Any:
    """``get_initial_state()`` with a batch axis of ``batch_size`` in front of every leaf."""
    return tree_map(
        module.get_initial_state(),
        lambda x: x.unsqueeze(0).expand(batch_size, *x.shape).clone(),
    )


def acting_batch(module: Any, batch_size: int, seed: int, *, time: int = 1) -> dict[str, Any]:
    """A batch as the public acting forwards see it: ``[B, ...]``, or ``[B, T, ...]`` plus
    ``state_in`` for a stateful module."""
    stateful = module.is_stateful()
    lead = (batch_size, time) if stateful else (batch_size,)
    batch: dict[str, Any] = {Columns.OBS: sample_space(module.observation_space, lead, seed)}
    if stateful:
        batch[Columns.STATE_IN] = batched_initial_state(module, batch_size)
    return batch


def train_batch(module: Any, batch_size: int, seq_len: int, seed: int) -> dict[str, Any]:
    """A training batch with the usual columns; ``[B, T, ...]`` chunks plus ``seq_lens``
    (of mixed lengths) and ``state_in`` for a stateful module."""
    stateful = module.is_stateful()
    lead = (batch_size, seq_len) if stateful else (batch_size,)
    batch: dict[str, Any] = {
        Columns.OBS: sample_space(module.observation_space, lead, seed),
        Columns.NEXT_OBS: sample_space(module.observation_space, lead, seed + 1),
        Columns.ACTIONS: sample_space(module.action_space, lead, seed + 2),
        Columns.REWARDS: torch.linspace(-1.0, 1.0, math.prod(lead)).reshape(lead),
        Columns.TERMINATEDS: torch.zeros(lead, dtype=torch.bool),
        Columns.TRUNCATEDS: torch.zeros(lead, dtype=torch.bool),
    }
    if stateful:
        batch[Columns.STATE_IN] = batched_initial_state(module, batch_size)
        batch[Columns.SEQ_LENS] = mixed_seq_lens(batch_size, seq_len)
    return batch


def mixed_seq_lens(batch_size: int, seq_len: int) -> torch.Tensor:
    """Sequence lengths ``[T, T-1, ..., 1, T, ...]``: full and padded chunks in one batch."""
    return torch.tensor([seq_len - (i % seq_len) for i in range(batch_size)], dtype=torch.int32)


# --- tensor trees -----------------------------------------------------------------------------
def tree_leaves(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, leaf)`` pairs of a nested dict / tuple / list, paths like ``"state_out/h"``."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield from tree_leaves(value, f"{prefix}/{key}" if prefix else str(key))
    elif isinstance(tree, (tuple, list)):
        for i, value in enumerate(tree):
            yield from tree_leaves(value, f"{prefix}/{i}" if prefix else str(i))
    else:
        yield prefix, tree


def tree_map(tree: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to every leaf of a nested dict / tuple / list."""
    if isinstance(tree, Mapping):
        return {k: tree_map(v, fn) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(v, fn) for v in tree)
    return fn(tree)


def tree_index(tree: Any, index: Any) -> Any:
    """Index every array / tensor leaf (e.g. one batch row or one time step)."""
    return tree_map(tree, lambda x: x[index] if hasattr(x, "__getitem__") else x)


def tree_mismatch(
    expected: Any, actual: Any, *, atol: float = 1e-6, rtol: float = 1e-5
) -> str | None:
    """``None`` if both trees hold equal tensors (within tolerance), else what differs."""
    left, right = dict(tree_leaves(expected)), dict(tree_leaves(actual))
    if left.keys() != right.keys():
        return f"keys differ: {sorted(left)} vs {sorted(right)}"
    for path, a in left.items():
        b = right[path]
        if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
            if not (a is b or a == b):
                return f"{path!r}: {a!r} vs {b!r}"
            continue
        if a.shape != b.shape:
            return f"{path!r}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
        a64, b64 = a.detach().double(), b.detach().double()
        if not torch.allclose(a64, b64, atol=atol, rtol=rtol, equal_nan=True):
            diff = (a64 - b64).abs().nan_to_num(nan=math.inf).max().item()
            return f"{path!r}: max |difference| {diff:.3g}"
    return None
