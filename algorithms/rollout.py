"""The per-module rollout layout samplers produce and learners consume, and tree helpers.

A sampler returns ``{module_id: rollout}``. A rollout holds time-major tensors over T
steps of N slots (env copies, or agent slots of a multi-agent sampler):

=================  =================  =====================================================
key                shape              meaning
=================  =================  =====================================================
``obs``            ``[T + 1, N, ...]``  observation acted on at each step; row T is the one
                                      after the last step (bootstraps the unfinished episode)
``actions``        ``[T, N, ...]``    the sampled actions (unclipped)
``action_logp``    ``[T, N]``         their log-probability under the sampling policy
``rewards``        ``[T, N]``         reward that followed each action
``terminateds``    ``[T, N]``         the episode ended in a terminal state at this step
``truncateds``     ``[T, N]``         the episode was cut off (time limit) at this step
``loss_mask``      ``[T, N]``         False where the env ignored the action (the reset step
                                      of gymnasium's next-step autoreset, or an idle agent)
``state_in``       ``[T + 1, N, ...]``  stateful modules only: the state each step acted with
=================  =================  =====================================================

After a step with ``terminated or truncated`` at row t, row t + 1 holds that episode's
final observation (its value bootstraps a truncation) and is masked out; the next episode
starts at row t + 2 with the module's initial state. Observations, states and actions may
be nested dicts/tuples of tensors (dict and tuple spaces).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["initial_state", "tree_map", "tree_stack", "num_rows", "to_tensor"]


def tree_map(fn: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` to every leaf of nested dicts / tuples / lists; with ``rest`` (trees of
    the same structure), ``fn`` gets the leaves at the same place in each tree."""
    if isinstance(tree, Mapping):
        return {k: tree_map(fn, v, *(r[k] for r in rest)) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(fn, *leaves) for leaves in zip(tree, *rest))
    return fn(tree, *rest)


def tree_stack(trees: Sequence[Any]) -> Any:
    """Stack a list of same-structured trees of tensors along a new leading axis."""
    return tree_map(lambda *leaves: torch.stack([to_tensor(x) for x in leaves]), *trees)


def num_rows(tree: Any) -> int:
    """The leading-axis length of the first leaf of ``tree`` (0 for an empty tree)."""
    while isinstance(tree, (Mapping, tuple, list)):
        if not tree:
            return 0
        tree = next(iter(tree.values())) if isinstance(tree, Mapping) else tree[0]
    return int(tree.shape[0])


def to_tensor(x: Any) -> torch.Tensor:
    """A tensor from env data, with the dtypes modules expect (float64 and bool → float32),
    the same conversion ``compute_actions`` applies."""
    if isinstance(x, torch.Tensor):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64 or array.dtype == np.bool_:
        array = array.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(array))


def initial_state(module: Any) -> Any:
    """``module.get_initial_state()`` with tensor leaves (a module may give numpy arrays)."""
    return tree_map(to_tensor, module.get_initial_state())
