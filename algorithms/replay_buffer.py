"""Replay buffers for off-policy learning: uniform and prioritized, with n-step returns.

Storage is numpy: one ring array per leaf of the (possibly nested ``Dict``/``Tuple``)
observation and action trees, allocated on the first :meth:`ReplayBuffer.add`, so a capacity
counts transitions. N-step returns are formed on insertion (one window per env slot), so a
sampled transition already holds ``R = sum_k gamma^k r_k`` and the discount ``gamma^n`` of its
bootstrap. The state (arrays, RNG, priorities) round-trips through :meth:`get_state` /
:meth:`set_state` as flat arrays plus JSON, for safetensors checkpoints; windows still open
when it is saved belong to episodes a resumed run does not continue, and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rlmodules.errors import CheckpointError, ConfigError

from .dqn_math import n_step_return
from .offpolicy_config import check_replay_buffer_config

__all__ = ["ReplayBuffer", "PrioritizedReplayBuffer", "SumTree", "make_replay_buffer"]

def make_replay_buffer(config: Mapping[str, Any], *, n_step: int, gamma: float,
                       seed: int | None) -> ReplayBuffer:
    """The buffer ``replay_buffer_config`` describes (see
    :func:`~rlmodules.algorithms.offpolicy_config.check_replay_buffer_config`)."""
    check_replay_buffer_config(config)
    capacity = config.get("capacity", 100_000)
    if config.get("type", "uniform") == "uniform":
        return ReplayBuffer(capacity=capacity, n_step=n_step, gamma=gamma, seed=seed)
    return PrioritizedReplayBuffer(capacity=capacity, n_step=n_step, gamma=gamma, seed=seed,
                                   alpha=config.get("alpha", 0.6), beta=config.get("beta", 0.4))


class ReplayBuffer:
    """A ring of the last ``capacity`` transitions, sampled uniformly with replacement.

    Example::

        buffer = ReplayBuffer(capacity=50_000, n_step=3, gamma=0.99, seed=0)
        buffer.add(obs, actions, rewards, next_obs, terminateds, truncateds)  # [N, ...] each
        batch = buffer.sample(64)   # {"obs", "actions", "rewards", "new_obs", ...}: [64, ...]
    """

    def __init__(self, *, capacity: int, n_step: int = 1, gamma: float = 0.99,
                 seed: int | None = None) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ConfigError(f"replay buffer capacity must be an int >= 1, got {capacity!r}")
        if not isinstance(n_step, int) or isinstance(n_step, bool) or n_step < 1:
            raise ConfigError(f"n_step must be an int >= 1, got {n_step!r}")
        self.capacity = capacity
        self.n_step = n_step
        self.gamma = float(gamma)
        self.rng = np.random.default_rng(seed)
        self._storage: dict[str, Any] | None = None  # field -> tree of [capacity, ...] arrays
        self._next = 0
        self._size = 0
        self._added = 0
        self._windows: list[list[tuple[Any, ...]]] = []  # per env slot, n-step only

    def __len__(self) -> int:
        return self._size

    @property
    def num_added(self) -> int:
        """Transitions added over the buffer's life (evicted ones included)."""
        return self._added

    # --- adding ------------------------------------------------------------------------------
    def add(self, obs: Any, actions: Any, rewards: np.ndarray, next_obs: Any,
            terminateds: np.ndarray, truncateds: np.ndarray,
            valid: np.ndarray | None = None) -> None:
        """One env step of N slots (leading axis N on every leaf); ``valid`` False marks
        slots whose step the env ignored (the reset step of next-step autoreset)."""
        rewards = np.asarray(rewards, dtype=np.float32)
        terminateds = np.asarray(terminateds, dtype=bool)
        truncateds = np.asarray(truncateds, dtype=bool)
        keep = np.ones(rewards.shape[0], bool) if valid is None else np.asarray(valid, bool)
        if self.n_step == 1:
            rows = np.flatnonzero(keep)
            if len(rows) == len(keep):
                rows = slice(None)  # type: ignore[assignment]
            self._write({
                "obs": _tree_take(obs, rows), "actions": _tree_take(actions, rows),
                "rewards": rewards[rows], "new_obs": _tree_take(next_obs, rows),
                "terminateds": terminateds[rows],
                "discounts": np.full(rewards[rows].shape, self.gamma, np.float32),
            })
            return
        if not self._windows:
            self._windows = [[] for _ in range(len(keep))]
        for i in np.flatnonzero(keep):
            window = self._windows[i]
            window.append((_tree_take(obs, i), _tree_take(actions, i), rewards[i],
                           _tree_take(next_obs, i), terminateds[i]))
            if terminateds[i] or truncateds[i]:  # the episode ended: flush every window
                while window:
                    self._emit(window)
                    window.pop(0)
            elif len(window) == self.n_step:
                self._emit(window)
                window.pop(0)

    def _emit(self, window: list[tuple[Any, ...]]) -> None:
        """The n-step transition starting at ``window[0]`` (``len(window)`` steps)."""
        ret, discount = n_step_return(np.array([w[2] for w in window]), self.gamma)
        first, last = window[0], window[-1]
        self._write({
            "obs": _tree_take(first[0], None), "actions": _tree_take(first[1], None),
            "rewards": np.array([ret], np.float32), "new_obs": _tree_take(last[3], None),
            "terminateds": np.array([last[4]]),
            "discounts": np.array([discount], np.float32),
        })

    def _write(self, rows: dict[str, Any]) -> None:
        count = int(rows["rewards"].shape[0])
        if count == 0:
            return
        if self._storage is None:
            self._storage = {k: _tree_map(lambda x: _ring_like(x, self.capacity), v)
                             for k, v in rows.items()}
        index = (self._next + np.arange(count)) % self.capacity
        for key, value in rows.items():
            _tree_assign(self._storage[key], index, value)
        self._on_write(index)
        self._next = int((self._next + count) % self.capacity)
        self._size = min(self._size + count, self.capacity)
        self._added += count

    def _on_write(self, index: np.ndarray) -> None:
        """Hook for subclasses: rows ``index`` were just (over)written."""

    # --- sampling ------------------------------------------------------------------------------
    def sample(self, batch_size: int) -> dict[str, Any]:
        """``batch_size`` transitions drawn uniformly with replacement."""
        self._check_can_sample(batch_size)
        return self._gather(self.rng.integers(0, self._size, batch_size))

    def _check_can_sample(self, batch_size: int) -> None:
        if self._size == 0:
            raise ValueError("cannot sample from an empty replay buffer; add transitions first")

    def _gather(self, index: np.ndarray) -> dict[str, Any]:
        assert self._storage is not None
        return {k: _tree_map(lambda x: x[index], v) for k, v in self._storage.items()}

    # --- state ----------------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """``(arrays, json_data)``: the filled rows as flat named arrays, the rest as JSON."""
        arrays: dict[str, np.ndarray] = {}
        structure = None
        if self._storage is not None:
            structure = {k: _tree_structure(v) for k, v in self._storage.items()}
            for key, tree in self._storage.items():
                for path, leaf in _tree_leaves(tree, key):
                    arrays[path] = np.ascontiguousarray(leaf[: self._size])
        data = {"type": type(self).__name__, "capacity": self.capacity, "n_step": self.n_step,
                "gamma": self.gamma, "next": self._next, "size": self._size,
                "added": self._added, "rng": self.rng.bit_generator.state,
                "structure": structure}
        return arrays, data

    def set_state(self, arrays: Mapping[str, np.ndarray], data: Mapping[str, Any]) -> None:
        """Load :meth:`get_state` output into a buffer of the same type and capacity, whole
        or not at all: the JSON is checked against its schema (``ReplayBufferData``) and the
        arrays against it before anything changes."""
        checked = self._checked_state(arrays, data)
        size = checked.size
        self._storage = None
        if checked.structure is not None:
            self._storage = {
                key: _tree_from_leaves(structure, key, arrays, self.capacity, size)
                for key, structure in checked.structure.items()}
        self._next, self._size, self._added = checked.next, size, checked.added
        self.rng.bit_generator.state = data["rng"]
        self._windows = []

    def _checked_state(self, arrays: Mapping[str, np.ndarray], data: Mapping[str, Any]) -> Any:
        from rlmodules.checkpoint import structure

        from .checkpoint_schema import ReplayBufferData, structure_leaves

        checked = structure(dict(data), ReplayBufferData, source="the saved replay buffer")
        for key, mine in (("type", type(self).__name__), ("capacity", self.capacity),
                          ("n_step", self.n_step)):
            if getattr(checked, key) != mine:
                raise CheckpointError(
                    f"the saved replay buffer has {key}={getattr(checked, key)!r}, this one "
                    f"{key}={mine!r}; resume with the replay_buffer_config and n_step it was "
                    f"saved with"
                )
        for name in structure_leaves(checked.structure):  # every leaf, with `size` rows
            saved = arrays.get(name)
            rows = None if saved is None or not np.ndim(saved) else len(saved)
            if rows != checked.size:
                raise CheckpointError(
                    f"the saved replay buffer's array {name!r} has {rows} rows (None: it is "
                    f"missing), its metadata says {checked.size}")
        return checked


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al. 2016): ``P(i) = p_i^alpha / sum p^alpha``
    with importance weights ``(N P(i))^-beta`` normalised by their maximum. New transitions
    get the highest priority seen; :meth:`update_priorities` takes the TD errors.

    Example::

        batch = buffer.sample(64)                       # adds "weights" and "indices"
        buffer.update_priorities(batch["indices"], td_errors)
    """

    def __init__(self, *, capacity: int, n_step: int = 1, gamma: float = 0.99,
                 seed: int | None = None, alpha: float = 0.6, beta: float = 0.4) -> None:
        super().__init__(capacity=capacity, n_step=n_step, gamma=gamma, seed=seed)
        for name, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"prioritized replay {name} must be a number >= 0, "
                                  f"got {value!r}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self._tree = SumTree(capacity)
        self._max_priority = 1.0

    def _on_write(self, index: np.ndarray) -> None:
        self._tree.set(index, np.full(len(index), self._max_priority ** self.alpha))

    def sample(self, batch_size: int) -> dict[str, Any]:
        self._check_can_sample(batch_size)
        total = self._tree.total()
        # Stratified: one draw from each of batch_size equal slices of the priority mass.
        bounds = (np.arange(batch_size) + self.rng.random(batch_size)) * (total / batch_size)
        index = np.minimum(self._tree.find(bounds), self._size - 1)
        probs = self._tree.get(index) / total
        weights = (self._size * probs) ** -self.beta
        weights /= (self._size * self._tree.min() / total) ** -self.beta
        batch = self._gather(index)
        batch["weights"] = weights.astype(np.float32)
        batch["indices"] = index
        return batch

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Set ``p_i = |td_error_i| + 1e-6`` for the sampled ``indices``."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + 1e-6
        self._max_priority = max(self._max_priority, float(priorities.max()))
        self._tree.set(np.asarray(indices), priorities ** self.alpha)

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays, data = super().get_state()
        arrays["priorities"] = self._tree.get(np.arange(self._size))
        data.update(alpha=self.alpha, beta=self.beta, max_priority=self._max_priority)
        return arrays, data

    def set_state(self, arrays: Mapping[str, np.ndarray], data: Mapping[str, Any]) -> None:
        super().set_state(arrays, data)
        self._tree = SumTree(self.capacity)
        self._tree.set(np.arange(self._size), np.asarray(arrays["priorities"], np.float64))
        self._max_priority = float(data["max_priority"])

    def _checked_state(self, arrays: Mapping[str, np.ndarray], data: Mapping[str, Any]) -> Any:
        from rlmodules.checkpoint import TensorSpec, check_tensors

        checked = super()._checked_state(arrays, data)
        check_tensors(arrays, {"priorities": TensorSpec(
            (checked.size,), "float64", finite=True, above=0.0)},
            source="the saved replay buffer", exact=False)
        return checked


class SumTree:
    """Sums and minima over ``capacity`` leaves in two binary trees; every operation is
    vectorised over a batch of leaves (a batch update or search is ``log2(capacity)`` numpy
    steps)."""

    def __init__(self, capacity: int) -> None:
        self.leaves = 1 << max(0, (capacity - 1).bit_length())
        self.sums = np.zeros(2 * self.leaves)
        self.mins = np.full(2 * self.leaves, np.inf)

    def set(self, index: np.ndarray, values: np.ndarray) -> None:
        node = np.asarray(index) + self.leaves
        self.sums[node] = values
        self.mins[node] = values
        while node[0] > 1:
            node = np.unique(node // 2)
            self.sums[node] = self.sums[2 * node] + self.sums[2 * node + 1]
            self.mins[node] = np.minimum(self.mins[2 * node], self.mins[2 * node + 1])

    def get(self, index: np.ndarray) -> np.ndarray:
        return self.sums[np.asarray(index) + self.leaves]

    def total(self) -> float:
        return float(self.sums[1])

    def min(self) -> float:
        """The smallest value set (unset leaves are inf)."""
        return float(self.mins[1])

    def find(self, mass: np.ndarray) -> np.ndarray:
        """For each prefix mass, the leaf where the running sum passes it."""
        node = np.ones(len(mass), dtype=np.int64)
        mass = mass.copy()
        while node[0] < self.leaves:
            left = self.sums[2 * node]
            right = mass >= left
            mass -= np.where(right, left, 0.0)
            node = 2 * node + right
        return node - self.leaves


# --- numpy trees -----------------------------------------------------------------------------
def _tree_map(fn: Any, tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return tuple(_tree_map(fn, v) for v in tree)
    return fn(tree)


def _tree_take(tree: Any, rows: Any) -> Any:
    """Rows ``rows`` of every leaf (``None``: the leaf with a new leading axis of 1)."""
    if rows is None:
        return _tree_map(lambda x: np.asarray(x)[None], tree)
    return _tree_map(lambda x: np.asarray(x)[rows], tree)


def _ring_like(rows: np.ndarray, capacity: int) -> np.ndarray:
    dtype = np.float32 if rows.dtype == np.float64 else rows.dtype
    return np.zeros((capacity, *rows.shape[1:]), dtype=dtype)


def _tree_assign(storage: Any, index: np.ndarray, rows: Any) -> None:
    if isinstance(storage, Mapping):
        for k in storage:
            _tree_assign(storage[k], index, rows[k])
    elif isinstance(storage, tuple):
        for s, r in zip(storage, rows):
            _tree_assign(s, index, r)
    else:
        storage[index] = rows


def _tree_structure(tree: Any) -> Any:
    """JSON: ``{"dict": {key: sub}}``, ``{"tuple": [sub, ...]}`` or ``None`` for a leaf."""
    if isinstance(tree, Mapping):
        return {"dict": {k: _tree_structure(v) for k, v in tree.items()}}
    if isinstance(tree, tuple):
        return {"tuple": [_tree_structure(v) for v in tree]}
    return None


def _tree_leaves(tree: Any, prefix: str) -> list[tuple[str, np.ndarray]]:
    if isinstance(tree, Mapping):
        return [leaf for k, v in tree.items() for leaf in _tree_leaves(v, f"{prefix}/{k}")]
    if isinstance(tree, tuple):
        return [leaf for i, v in enumerate(tree) for leaf in _tree_leaves(v, f"{prefix}/{i}")]
    return [(prefix, tree)]


def _tree_from_leaves(structure: Any, prefix: str, arrays: Mapping[str, np.ndarray],
                      capacity: int, size: int) -> Any:
    if isinstance(structure, dict) and "dict" in structure:
        return {k: _tree_from_leaves(s, f"{prefix}/{k}", arrays, capacity, size)
                for k, s in structure["dict"].items()}
    if isinstance(structure, dict) and "tuple" in structure:
        return tuple(_tree_from_leaves(s, f"{prefix}/{i}", arrays, capacity, size)
                     for i, s in enumerate(structure["tuple"]))
    saved = np.asarray(arrays[prefix])
    ring = np.zeros((capacity, *saved.shape[1:]), dtype=saved.dtype)
    ring[:size] = saved
    return ring
