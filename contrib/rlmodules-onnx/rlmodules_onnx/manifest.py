"""The ONNX format's part of the export manifest (``artefact``), as one declarative schema.

``rlmodules.export.read_manifest(directory, artefact=OnnxArtefact)`` structures and checks
the whole manifest in one pass: these classes give the types and per-field validators, and
:meth:`OnnxArtefact.__attrs_post_init__` the cross-field rules (the tensor names of the
templates are the graph's inputs and outputs, in order; a state template comes with an
initial state of the input's shape; distribution descriptions fit the distribution inputs).
Plain Python and numpy: OnnxPolicy imports neither torch nor gymnasium.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from attrs import validators as v
from rlmodules.columns import Columns

from .tree import leaf_names

__all__ = ["DTYPES", "EnvCast", "OnnxArtefact", "TensorInfo", "Verification",
           "check_description"]

#: Tensor dtypes an exported graph may take or give (numpy names).
DTYPES = ("bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64")
_PLAIN_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _plain_file(instance: Any, attribute: Any, value: str) -> None:
    if not _PLAIN_FILE.match(value):
        raise ValueError(f"{attribute.name} must be a plain file name inside the export "
                         f"directory (no '/' or '..'), got {value!r}")


def _shape(instance: Any, attribute: Any, value: tuple[Any, ...]) -> None:
    if not value or value[0] is not None:
        raise ValueError(f"shape must start with the batch axis (null), got {list(value)}")
    if any(not isinstance(d, int) or d < 0 for d in value[1:]):
        raise ValueError(f"shape must be [null, sizes >= 0...], got {list(value)}")


@attrs.frozen
class TensorInfo:
    """A graph input or output: its name, numpy dtype and ``[None, ...]`` shape."""

    name: str = attrs.field(validator=v.min_len(1))
    dtype: str = attrs.field(validator=v.in_(DTYPES))
    shape: tuple[int | None, ...] = attrs.field(validator=_shape)


def _finite_numbers(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{attribute.name} must be a number or nested lists of numbers, "
                         f"got {value!r:.60}") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{attribute.name} must be finite")


@attrs.frozen
class EnvCast:
    """How an action leaf is given to the env: the space's dtype, Box bounds to clip to."""

    dtype: str = attrs.field(validator=v.in_(DTYPES))
    low: Any = attrs.field(default=None, validator=_finite_numbers)
    high: Any = attrs.field(default=None, validator=_finite_numbers)

    def __attrs_post_init__(self) -> None:
        if (self.low is None) != (self.high is None):
            raise ValueError("low and high come together")


@attrs.frozen
class Verification:
    """What the export checked: observations compared and the largest difference seen."""

    observations: int = attrs.field(validator=v.ge(0))
    max_abs_diff: float = attrs.field(validator=v.ge(0.0))
    tolerance: float = attrs.field(validator=v.ge(0.0))


def _template(instance: Any, attribute: Any, value: Any) -> None:
    problem = _template_problem(value)
    if problem:
        raise ValueError(f"{attribute.name}: {problem}")


def _template_problem(node: Any) -> str | None:
    if isinstance(node, str):
        return None if node else "a tensor name must not be empty"
    if isinstance(node, Mapping) and list(node) == ["dict"] and isinstance(node["dict"], Mapping):
        children = list(node["dict"].values())
    elif isinstance(node, Mapping) and list(node) == ["tuple"] and isinstance(node["tuple"], list):
        children = node["tuple"]
    else:
        return (f"expected a tensor name, {{'dict': {{...}}}} or {{'tuple': [...]}}, got "
                f"{node!r:.60}")
    return next((p for p in map(_template_problem, children) if p), None)


def _descriptions(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        check_description(value, attribute.name)


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

    file: str = attrs.field(validator=_plain_file)
    inputs: tuple[TensorInfo, ...] = attrs.field(validator=v.min_len(1))
    outputs: tuple[TensorInfo, ...] = attrs.field(validator=v.min_len(1))
    observations: Any = attrs.field(validator=_template)
    actions: Any = attrs.field(validator=_template)
    state_in: Any = attrs.field(validator=v.optional(_template))
    state_out: Any = attrs.field(validator=v.optional(_template))
    initial_state: dict[str, Any] | None
    action_distribution: Distributions
    actions_for_env: dict[str, EnvCast]
    opset: int | None = attrs.field(validator=v.optional(v.ge(1)))
    verification: Verification | None = None

    def __attrs_post_init__(self) -> None:
        stateful = self.state_in is not None
        if not (stateful == (self.state_out is not None) == (self.initial_state is not None)):
            raise ValueError("state_in, state_out and initial_state come together")
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
            for bound in (cast.low, cast.high):
                if bound is not None and np.shape(bound) not in ((), outputs[name].shape[1:]):
                    raise ValueError(f"actions_for_env[{name!r}] bounds of shape "
                                     f"{np.shape(bound)} do not fit {name!r} {outputs[name].shape}")
        if stateful:
            _check_initial_state(self.initial_state or {}, state_names, inputs)
        if self.action_distribution.exploration is not None and not dist:
            raise ValueError("an exploration distribution needs the action_dist_inputs output")
        for desc in (self.action_distribution.inference, self.action_distribution.exploration):
            if desc is not None and dist:
                _check_width(desc, outputs[Columns.ACTION_DIST_INPUTS].shape[-1])


def _same_names(what: str, got: list[str], expected: list[str]) -> None:
    if got != expected:
        raise ValueError(f"{what} are {got}, but the templates name {expected}")


def _check_initial_state(state: Mapping[str, Any], names: list[str],
                         inputs: Mapping[str, TensorInfo]) -> None:
    _same_names("initial_state", sorted(state), sorted(names))
    for name in names:
        try:
            value = np.asarray(state[name], dtype=inputs[name].dtype)
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"initial_state[{name!r}] is not an array of numbers") from None
        if value.shape != tuple(inputs[name].shape[1:]):
            raise ValueError(f"initial_state[{name!r}] has shape {list(value.shape)}, the "
                             f"input {name!r} needs {list(inputs[name].shape[1:])}")


def _check_width(desc: Mapping[str, Any], width: int | None) -> None:
    kind = desc["type"]
    need = (sum(desc["input_lens"]) if kind == "multi_distribution" else
            sum(desc["nvec"]) if kind == "multi_categorical" else None)
    if need is not None and width is not None and need != width:
        raise ValueError(f"the {kind} distribution reads {need} distribution inputs; the "
                         f"graph gives {width}")


# --- distribution descriptions ------------------------------------------------------------------
def _ints(value: Any, positive: bool = False) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, int) and not isinstance(x, bool) and (x > 0 or not positive) for x in value)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(value: Any) -> bool:
    try:
        return bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())
    except (ValueError, TypeError):
        return False


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


def check_description(desc: Any, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` unless ``desc`` is a well-formed description of
    an action distribution (see ``rlmodules_onnx.describe``)."""
    kind = desc.get("type", "?") if isinstance(desc, Mapping) else "?"
    fields = _FIELDS.get(kind) if isinstance(kind, (str, type(None))) else None
    if fields is None:
        raise ValueError(f"{where}: unknown distribution description {desc!r:.80}")
    extra = sorted(set(desc) - set(fields) - {"type"})
    bad = [name for name, ok in fields.items() if name not in desc or not ok(desc[name])]
    if extra or bad:
        raise ValueError(f"{where}: {kind} description has bad or missing {bad} and unknown "
                         f"{extra} fields")
    if kind in ("diag_gaussian", "squashed_gaussian") and (
            desc["log_std_min"] > desc["log_std_max"]):
        raise ValueError(f"{where}: log_std_min is above log_std_max")
    if kind == "squashed_gaussian" and not np.all(np.less(desc["low"], desc["high"])):
        raise ValueError(f"{where}: low must be below high")
    if kind == "multi_categorical" and len(desc["start"]) != len(desc["nvec"]):
        raise ValueError(f"{where}: start and nvec differ in length")
    if kind == "multi_distribution":
        children, keys = desc["children"], desc["keys"]
        if len(children) != len(desc["input_lens"]) or (keys is not None
                                                          and len(keys) != len(children)):
            raise ValueError(f"{where}: children, input_lens and keys differ in length")
        for index, child in enumerate(children):
            check_description(child, f"{where}.children[{index}]")
