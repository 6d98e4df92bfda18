"""The ONNX format's part of the export manifest (``artefact``), as one declarative schema.

``rlmodules.export.read_manifest(directory, artefact=OnnxArtefact)`` structures and checks
the whole manifest in one pass through ``rlmodules.checkpoint.structure``: these classes give
the types and per-field checks (:func:`~rlmodules.checkpoint.requires`), and
:meth:`OnnxArtefact.__attrs_post_init__` the cross-field rules (the tensor names of the
templates are the graph's inputs and outputs, in order; a state template comes with an
initial state of the input's shape; distribution descriptions fit the distribution inputs).
Plain Python and numpy: OnnxPolicy imports neither torch nor gymnasium.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from rlmodules.checkpoint import Count, FileName, Finite, SchemaMismatch, requires
from rlmodules.columns import Columns

from .tree import leaf_names

__all__ = ["DTYPES", "EnvCast", "OnnxArtefact", "TensorInfo", "Verification",
           "check_description"]

#: Tensor dtypes an exported graph may take or give (numpy names).
DTYPES = ("bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64")


def _non_empty(value: Any) -> bool:
    return len(value) > 0


def _shape(value: tuple[Any, ...]) -> bool:
    return bool(value) and value[0] is None and all(
        isinstance(d, int) and d >= 0 for d in value[1:])


@attrs.frozen
class TensorInfo:
    """A graph input or output: its name, numpy dtype and ``[None, ...]`` shape."""

    name: str = attrs.field(validator=requires(_non_empty, "a tensor name"))
    dtype: str = attrs.field(validator=requires(lambda v: v in DTYPES,
                                                f"a dtype, one of {list(DTYPES)}"))
    shape: tuple[int | None, ...] = attrs.field(validator=requires(
        _shape, "[null, sizes >= 0...] (the batch axis first)"))


def _finite_numbers(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())
    except (ValueError, TypeError, OverflowError):
        return False


_BOUND = requires(_finite_numbers, "null, a finite number or nested lists of them")


@attrs.frozen
class EnvCast:
    """How an action leaf is given to the env: the space's dtype, Box bounds to clip to."""

    dtype: str = attrs.field(validator=requires(lambda v: v in DTYPES,
                                                f"a dtype, one of {list(DTYPES)}"))
    low: Any = attrs.field(default=None, validator=_BOUND)
    high: Any = attrs.field(default=None, validator=_BOUND)

    def __attrs_post_init__(self) -> None:
        if (self.low is None) != (self.high is None):
            raise SchemaMismatch("low and high together, or neither", field="high",
                                 got=self.high)


_AT_LEAST_0 = requires(lambda v: v >= 0, "a finite number >= 0")


@attrs.frozen
class Verification:
    """What the export checked: observations compared and the largest difference seen."""

    observations: Count
    max_abs_diff: Finite = attrs.field(validator=_AT_LEAST_0)
    tolerance: Finite = attrs.field(validator=_AT_LEAST_0)


def _template(_instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _check_template(value, (attribute.name,))


def _check_template(node: Any, path: tuple[Any, ...]) -> None:
    if isinstance(node, str):
        if not node:
            raise SchemaMismatch("a tensor name", field=path, got=node)
        return
    if isinstance(node, Mapping) and list(node) == ["dict"] and isinstance(node["dict"], Mapping):
        children = list(node["dict"].items())
        path = (*path, "dict")
    elif isinstance(node, Mapping) and list(node) == ["tuple"] and isinstance(node["tuple"], list):
        children = list(enumerate(node["tuple"]))
        path = (*path, "tuple")
    else:
        raise SchemaMismatch("a tensor name, {'dict': {...}} or {'tuple': [...]}", field=path,
                             got=node)
    for key, child in children:
        _check_template(child, (*path, key))


def _descriptions(_instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        check_description(value, (attribute.name,))


@attrs.frozen
class Distributions:
    """The inference and exploration distributions (``None``: greedy only)."""

    inference: dict[str, Any] | None = attrs.field(validator=_descriptions)
    exploration: dict[str, Any] | None = attrs.field(validator=_descriptions)


@attrs.frozen
class OnnxArtefact:
    """One module id's ONNX graph: the file, its tensors and how they nest, the initial
    recurrent state, the action distributions, how actions reach the env, the opset and
    what the export verified."""

    file: FileName
    inputs: tuple[TensorInfo, ...] = attrs.field(validator=requires(_non_empty, "1+ inputs"))
    outputs: tuple[TensorInfo, ...] = attrs.field(validator=requires(_non_empty, "1+ outputs"))
    observations: Any = attrs.field(validator=_template)
    actions: Any = attrs.field(validator=_template)
    state_in: Any = attrs.field(validator=_template)
    state_out: Any = attrs.field(validator=_template)
    initial_state: dict[str, Any] | None
    action_distribution: Distributions
    actions_for_env: dict[str, EnvCast]
    opset: int | None = attrs.field(validator=requires(lambda v: v is None or v >= 1,
                                                       "an opset >= 1, or null"))
    verification: Verification | None = None

    def __attrs_post_init__(self) -> None:
        stateful = self.state_in is not None
        if not (stateful == (self.state_out is not None) == (self.initial_state is not None)):
            raise SchemaMismatch("state_in, state_out and initial_state together, or none",
                                 field="initial_state", got=self.initial_state)
        inputs = {t.name: t for t in self.inputs}
        outputs = {t.name: t for t in self.outputs}
        state_names = leaf_names(self.state_in) if stateful else []
        _same_names("inputs", list(inputs), leaf_names(self.observations) + state_names)
        dist = [Columns.ACTION_DIST_INPUTS] if Columns.ACTION_DIST_INPUTS in outputs else []
        _same_names("outputs", list(outputs), dist + leaf_names(self.actions) + (
            leaf_names(self.state_out) if stateful else []))
        _same_names("actions_for_env", sorted(self.actions_for_env), sorted(leaf_names(
            self.actions)))
        for name, cast in self.actions_for_env.items():
            for key, bound in (("low", cast.low), ("high", cast.high)):
                if bound is not None and np.shape(bound) not in ((), outputs[name].shape[1:]):
                    raise SchemaMismatch(
                        f"a number or an array of the shape of {name!r} "
                        f"{list(outputs[name].shape[1:])}, not of shape {np.shape(bound)}",
                        field=("actions_for_env", name, key), got=bound)
        if stateful:
            _check_initial_state(self.initial_state or {}, state_names, inputs)
        if self.action_distribution.exploration is not None and not dist:
            raise SchemaMismatch("null: an exploration distribution needs the "
                                 "action_dist_inputs output",
                                 field=("action_distribution", "exploration"),
                                 got=self.action_distribution.exploration)
        for phase in ("inference", "exploration"):
            desc = getattr(self.action_distribution, phase)
            if desc is not None and dist:
                _check_width(desc, outputs[Columns.ACTION_DIST_INPUTS].shape[-1],
                             ("action_distribution", phase))


def _same_names(what: str, got: list[str], expected: list[str]) -> None:
    if got != expected:
        raise SchemaMismatch(f"the tensor names the templates give, in order: {expected}",
                             field=what, got=got)


def _check_initial_state(state: Mapping[str, Any], names: list[str],
                         inputs: Mapping[str, TensorInfo]) -> None:
    _same_names("initial_state", sorted(state), sorted(names))
    for name in names:
        expected = f"an array of shape {list(inputs[name].shape[1:])} (the input {name!r})"
        try:
            value = np.asarray(state[name], dtype=inputs[name].dtype)
        except (ValueError, TypeError, OverflowError):
            raise SchemaMismatch(expected, field=("initial_state", name),
                                 got=state[name]) from None
        if value.shape != tuple(inputs[name].shape[1:]):
            raise SchemaMismatch(expected, field=("initial_state", name), got=state[name])


def _check_width(desc: Mapping[str, Any], width: int | None, path: tuple[str, ...]) -> None:
    kind = desc["type"]
    need = (sum(desc["input_lens"]) if kind == "multi_distribution" else
            sum(desc["nvec"]) if kind == "multi_categorical" else None)
    if need is not None and width is not None and need != width:
        raise SchemaMismatch(f"a distribution of the {width} distribution inputs the graph "
                             f"gives, not {need}", field=path, got=desc)


# --- distribution descriptions ------------------------------------------------------------------
def _ints(value: Any, positive: bool = False) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, int) and not isinstance(x, bool) and (x > 0 or not positive) for x in value)


def _finite(value: Any) -> bool:
    return not isinstance(value, (bool, list)) and value is not None and _finite_numbers(value)


def _bounds(value: Any) -> bool:
    return value is not None and _finite_numbers(value)


_GAUSSIAN = {"log_std_min": _finite, "log_std_max": _finite}
#: type -> {field: check}: every field is required and no other is allowed.
_FIELDS: dict[Any, dict[str, Any]] = {
    None: {"class": lambda x: isinstance(x, str)},
    "categorical": {"start": lambda x: isinstance(x, int) and not isinstance(x, bool)},
    "multi_categorical": {"nvec": lambda x: _ints(x, positive=True), "start": _ints},
    "bernoulli": {},
    "deterministic": {},
    "diag_gaussian": _GAUSSIAN,
    "squashed_gaussian": {**_GAUSSIAN, "low": _bounds, "high": _bounds},
    "multi_distribution": {"keys": lambda x: x is None or (isinstance(x, list) and all(
        isinstance(k, str) for k in x)), "input_lens": lambda x: _ints(x, positive=True),
        "children": lambda x: isinstance(x, list)},
    "plugin": {"distribution": lambda x: isinstance(x, str) and bool(x),
               "space": lambda x: isinstance(x, dict)},
}


def check_description(desc: Any, path: tuple[Any, ...]) -> None:
    """Raise :class:`~rlmodules.checkpoint.SchemaMismatch` at ``path`` unless ``desc`` is a
    well-formed description of an action distribution (see ``rlmodules_onnx.describe``)."""
    kind = desc.get("type", "?") if isinstance(desc, Mapping) else "?"
    fields = _FIELDS.get(kind) if isinstance(kind, (str, type(None))) else None
    if fields is None:
        raise SchemaMismatch(f"a distribution description of a known type "
                             f"{sorted(k for k in _FIELDS if k)}", field=path, got=desc)
    extra = sorted(set(desc) - set(fields) - {"type"})
    bad = [name for name, ok in fields.items() if name not in desc or not ok(desc[name])]
    if extra or bad:
        raise SchemaMismatch(f"a {kind} description (bad or missing {bad} and unknown "
                             f"{extra} fields)", field=path, got=desc)
    problem = None
    if kind in ("diag_gaussian", "squashed_gaussian") and (
            desc["log_std_min"] > desc["log_std_max"]):
        problem = "log_std_min at most log_std_max"
    elif kind == "squashed_gaussian" and not np.all(np.less(desc["low"], desc["high"])):
        problem = "low below high"
    elif kind == "multi_categorical" and len(desc["start"]) != len(desc["nvec"]):
        problem = "start and nvec of one length"
    elif kind == "multi_distribution" and (
            len(desc["children"]) != len(desc["input_lens"])
            or desc["keys"] is not None and len(desc["keys"]) != len(desc["children"])):
        problem = "children, input_lens and keys of one length"
    if problem:
        raise SchemaMismatch(f"a {kind} description with {problem}", field=path, got=desc)
    for index, child in enumerate(desc["children"] if kind == "multi_distribution" else ()):
        check_description(child, (*path, "children", index))
