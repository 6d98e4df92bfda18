"""The schemas of an algorithm checkpoint's files: ``algorithm_state.json``, the observation
statistics, and the off-policy replay buffer with its JSON.

Each is an attrs class checked by ``rlmodules.checkpoint.structure`` (types, ranges, and
no unknown keys) plus :class:`~rlmodules.checkpoint.TensorSpec` s for the arrays, checked
against the algorithm's spaces. A restore runs every check here before it changes
anything (see :func:`~rlmodules.algorithms.checkpoint.restore_algorithm`).
"""

from __future__ import annotations

from typing import Any, NewType

import attrs
import gymnasium as gym
import numpy as np
from rlmodules.checkpoint import (
    Count,
    Finite,
    JSONObject,
    SchemaMismatch,
    TensorEntry,
    TensorSpec,
    check_tensors,
    register_hook,
    requires,
    space_problem,
    structure_value,
)
from rlmodules.errors import CheckpointError

from .config_data import DICT_SECTIONS

__all__ = [
    "AlgorithmState", "NoExtra", "NumpyRngState", "ObsNormalizationSettings", "OffPolicyExtra",
    "ReplayBufferData", "check_obs_statistics", "check_replay_arrays", "stored_tree_specs",
    "structure_leaves",
]

FORMAT = "rlmodules.algorithm"
VERSION = 2  # 2: checksummed state file, classes recorded with their distribution
_U128 = 2**128 - 1


def _between(low: int, high: int, what: str = "an integer") -> Any:
    return requires(lambda v: low <= v <= high, f"{what} from {low} to {high}")


def _positive(value: float) -> bool:
    return value > 0


@attrs.frozen
class PCG64Words:
    """The two 128-bit words of numpy's PCG64 state."""

    state: int = attrs.field(validator=_between(0, _U128))
    inc: int = attrs.field(validator=_between(0, _U128))


@attrs.frozen
class NumpyRngState:
    """A numpy ``Generator``'s ``bit_generator.state`` (PCG64, as ``default_rng`` makes)."""

    bit_generator: str = attrs.field(validator=requires(lambda v: v == "PCG64", "'PCG64'"))
    state: PCG64Words
    has_uint32: int = attrs.field(validator=_between(0, 1))
    uinteger: int = attrs.field(validator=_between(0, 2**32 - 1))


@attrs.frozen
class OptimizerData:
    """The optimizer's JSON part: hyper-parameter groups (checked against the optimizer
    when restored), per-parameter scalars, and the learner's parameter parts."""

    param_groups: list[JSONObject]
    scalars: dict[str, dict[str, Finite]] = attrs.Factory(dict)
    parts: list[str] | None = None


@attrs.frozen
class AlgorithmTensorFiles:
    optimizer: TensorEntry
    rng: TensorEntry
    obs_normalization: TensorEntry | None = None


@attrs.frozen
class ObsNormalizationSettings:
    """How observation statistics normalise: ``clip((obs - mean) / sqrt(var + epsilon))``."""

    clip: Finite = attrs.field(validator=requires(_positive, "a finite number > 0"))
    epsilon: Finite = attrs.field(validator=requires(_positive, "a finite number > 0"))


#: The config sections that hold an object of settings, and the other typed ones.
_OBJECT_SECTIONS = ("env_config", "env_runners", "training", "evaluation", "learners",
                    "rl_module_spec", "model_config")
_TYPED_SECTIONS: dict[str, tuple[tuple[type, ...], str]] = {
    "config_class": ((str,), "an import path of the config class"),
    "policy_mapping_fn": ((str, type(None)), "a name or null"),
    "seed": ((int, type(None)), "an integer or null"),
    "not_serialised": ((list,), "a list of field names"),
}


def _check_config(config: dict[str, Any]) -> None:
    """The config's sections and their kinds; the builder methods check the values."""
    for key, value in config.items():
        if key not in DICT_SECTIONS:
            raise SchemaMismatch(f"one of the sections {list(DICT_SECTIONS)}",
                                 field=("config", key), got=key)
        kinds, what = (((dict, type(None)), "an object or null") if key in _OBJECT_SECTIONS
                       else _TYPED_SECTIONS.get(key, ((object,), "")))
        if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
            raise SchemaMismatch(what, field=("config", key), got=value)


@attrs.frozen
class AlgorithmState:
    """``algorithm_state.json``. The config's values are checked by the config's builder
    methods (``AlgorithmConfig.from_dict``), the optimizer groups against the optimizer,
    ``extra`` by the algorithm family's schema (:class:`OffPolicyExtra`)."""

    format: str = attrs.field(validator=requires(lambda v: v == FORMAT, repr(FORMAT)))
    version: int = attrs.field(validator=_between(1, VERSION))
    algorithm_class: str
    config: JSONObject = attrs.field(validator=lambda _s, _a, value: _check_config(value))
    iteration: Count
    timesteps: Count
    episodes: Count
    recent_returns: list[Finite]
    recent_lengths: list[Count]
    numpy_rng: NumpyRngState
    optimizer: OptimizerData
    tensor_files: AlgorithmTensorFiles
    extra: JSONObject = attrs.Factory(dict)
    obs_normalization: ObsNormalizationSettings | None = None
    metadata_checksum: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.obs_normalization is None) != (self.tensor_files.obs_normalization is None):
            raise SchemaMismatch(
                "settings exactly when tensor_files has an obs_normalization entry",
                field="obs_normalization", got=self.obs_normalization)


def check_obs_statistics(tensors: dict[str, Any], shape: tuple[int, ...], *, source: object
                         ) -> None:
    """Observation statistics fit observations of ``shape``: finite float64 ``mean``,
    ``var > 0`` and ``count >= 0`` of shape ``[1]``."""
    check_tensors(tensors, {
        "mean": TensorSpec(shape, "float64", finite=True),
        "var": TensorSpec(shape, "float64", finite=True, above=0.0),
        "count": TensorSpec((1,), "float64", finite=True, at_least=0.0),
    }, source=source)


# --- the replay buffer --------------------------------------------------------------------------
#: The stored fields of a transition, as the replay buffer names its arrays.
REPLAY_FIELDS = ("obs", "actions", "rewards", "new_obs", "terminateds", "discounts")
_BUFFER_TYPES = ("ReplayBuffer", "PrioritizedReplayBuffer")


#: A stored field's tree: ``null`` (one array), ``{"dict": {key: tree}}`` or
#: ``{"tuple": [tree, ...]}``.
StoredTree = NewType("StoredTree", object)


def _stored_tree(value: Any, _type: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("dict"), dict):
            return {"dict": structure_value(value["dict"], dict[str, StoredTree])}
        if isinstance(value.get("tuple"), list):
            return {"tuple": structure_value(value["tuple"], list[StoredTree])}
    raise SchemaMismatch('null, {"dict": {key: tree}} or {"tuple": [tree, ...]}', got=value)


register_hook(StoredTree, _stored_tree)


@attrs.frozen
class ReplayBufferData:
    """The replay buffer's JSON: its ring position and counts, sampling RNG, the tree
    structure of the stored observations and actions, and the prioritized settings."""

    type: str = attrs.field(validator=requires(lambda v: v in _BUFFER_TYPES,
                                               f"one of {list(_BUFFER_TYPES)}"))
    capacity: Count = attrs.field(validator=requires(lambda v: v >= 1, "an integer >= 1"))
    n_step: Count = attrs.field(validator=requires(lambda v: v >= 1, "an integer >= 1"))
    gamma: Finite
    next: Count
    size: Count
    added: Count
    rng: NumpyRngState
    structure: dict[str, StoredTree] | None
    alpha: Finite | None = None
    beta: Finite | None = None
    max_priority: Finite | None = None

    def __attrs_post_init__(self) -> None:
        expected = {  # a ring written from its start: these follow from `added`
            "size": min(self.added, self.capacity), "next": self.added % self.capacity}
        for field, value in expected.items():
            if getattr(self, field) != value:
                raise SchemaMismatch(f"{value} (from added={self.added} and capacity="
                                     f"{self.capacity})", field=field, got=getattr(self, field))
        prioritized = self.type == "PrioritizedReplayBuffer"
        for field, check, what in (("alpha", lambda v: v >= 0, ">= 0"),
                                   ("beta", lambda v: v >= 0, ">= 0"),
                                   ("max_priority", _positive, "> 0")):
            value = getattr(self, field)
            if prioritized != (value is not None) or (value is not None and not check(value)):
                want = f"a finite number {what}" if prioritized else "no value (uniform replay)"
                raise SchemaMismatch(want, field=field, got=value)
        if (self.structure is None) != (self.added == 0) or (
                self.structure is not None and set(self.structure) != set(REPLAY_FIELDS)):
            raise SchemaMismatch(f"the structure of the fields {list(REPLAY_FIELDS)} once "
                                 f"something was added", field="structure", got=self.structure)


@attrs.define(frozen=True)
class NoExtra:
    """The ``extra`` of an algorithm that saves nothing beyond the common parts (PPO, BC):
    empty, so a key slipped in there is refused rather than ignored."""


@attrs.frozen
class OffPolicyExtra:
    """An off-policy algorithm's ``extra``: the replay buffer and the learner's counters."""

    replay_buffer: ReplayBufferData
    #: The fraction of a gradient step owed to the training intensity.
    owed_updates: Finite = attrs.field(validator=requires(lambda v: 0 <= v < 1,
                                                          "a number from 0 up to 1"))
    last_target_update: Count | None
    file: TensorEntry


def structure_leaves(structure: dict[str, Any] | None) -> list[str]:
    """The array names a checked replay-buffer structure stores (``obs/0``, ``actions``)."""
    def leaves(tree: Any, prefix: str) -> list[str]:
        if tree is None:
            return [prefix]
        if "dict" in tree:
            return [n for k, sub in tree["dict"].items() for n in leaves(sub, f"{prefix}/{k}")]
        return [n for i, sub in enumerate(tree["tuple"]) for n in leaves(sub, f"{prefix}/{i}")]

    return [n for key, tree in (structure or {}).items() for n in leaves(tree, key)]


def stored_tree_specs(observation_space: gym.Space, action_space: gym.Space, size: int
                      ) -> tuple[dict[str, TensorSpec], dict[str, Any]]:
    """``(specs, structure)`` of what a buffer of ``size`` transitions stores for these
    spaces: a ``TensorSpec`` per array name (as ``ReplayBuffer.get_state`` names them) and
    the JSON structure of the fields. Observations are stored as the sampler passes them
    (float64 and bool as float32); actions as the module sees them (Discrete as int64 from
    0, Box as float32)."""
    specs: dict[str, TensorSpec] = {}

    def observations(space: gym.Space, prefix: str) -> Any:
        if isinstance(space, gym.spaces.Dict):
            return {"dict": {k: observations(sub, f"{prefix}/{k}")
                             for k, sub in space.spaces.items()}}
        if isinstance(space, gym.spaces.Tuple):
            return {"tuple": [observations(sub, f"{prefix}/{i}")
                              for i, sub in enumerate(space.spaces)]}
        array = np.asarray(space.sample())
        dtype = np.float32 if array.dtype in (np.float64, np.bool_) else array.dtype
        specs[prefix] = TensorSpec((size, *array.shape), np.dtype(dtype).name)
        return None

    structure = {key: observations(observation_space, key) for key in ("obs", "new_obs")}
    specs["actions"] = (TensorSpec((size,), "int64")
                        if isinstance(action_space, gym.spaces.Discrete)
                        else TensorSpec((size, *action_space.shape), "float32"))
    for key in ("rewards", "discounts"):
        specs[key] = TensorSpec((size,), "float32", finite=True)
    specs["terminateds"] = TensorSpec((size,), "bool")
    structure.update(actions=None, rewards=None, discounts=None, terminateds=None)
    return specs, structure


def check_replay_arrays(arrays: dict[str, np.ndarray], data: ReplayBufferData, *,
                        observation_space: gym.Space, action_space: gym.Space,
                        source: object) -> None:
    """The buffer's arrays fit its JSON and the algorithm's spaces: one array per leaf of
    each stored field, ``size`` rows each, the dtypes and shapes the sampler stores, actions
    inside the action space (as the module sees it), priorities finite and > 0."""
    if data.structure is None:
        specs: dict[str, TensorSpec] = {}
    else:
        specs, structure = stored_tree_specs(observation_space, action_space, data.size)
        if data.structure != structure:
            raise CheckpointError(
                f"{source} is malformed: the replay buffer's structure {data.structure} does "
                f"not fit the spaces, which store {structure}")
    if data.type == "PrioritizedReplayBuffer":
        specs["priorities"] = TensorSpec((data.size,), "float64", finite=True, above=0.0)
    check_tensors(arrays, specs, source=source)
    if data.structure is not None:
        module_space = (gym.spaces.Discrete(int(action_space.n))
                        if isinstance(action_space, gym.spaces.Discrete) else action_space)
        problem = space_problem(arrays["actions"], module_space)
        if problem:
            raise CheckpointError(f"{source} is malformed: the replay buffer's actions "
                                  f"{problem}")
