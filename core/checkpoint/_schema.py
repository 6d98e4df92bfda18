"""One declarative schema per file kind: attrs classes, checked by one cattrs converter.

A file kind's schema is an attrs class whose fields carry their types (checked strictly:
``True`` is not an int, ``"3"`` is not a number, ``1.5`` is not an int) and their ranges
(validators made with :func:`requires`). :func:`structure` checks a parsed JSON value against
it completely -- unknown keys included -- before a caller allocates or changes anything, and
turns the first problem into ONE error of the caller's class (``CheckpointError``,
``ConfigError``, ...) that names the file, the field path, what arrived and what was
expected::

    runs/x/checkpoint/algorithm_state.json is malformed: extra.replay_buffer.next: got
    7000, expected an integer from 0 to capacity - 1 (999)

Checks that need more than one field go in ``__attrs_post_init__`` and raise
:class:`SchemaMismatch` naming the field. Tensors are checked with :class:`TensorSpec`
(shape, dtype, finite, range) and :func:`space_problem` (values inside a gymnasium space).

cattrs is imported on the first check, so importing :mod:`rlmodules.checkpoint` stays cheap.

Example::

    @attrs.frozen
    class Settings:
        clip: float = attrs.field(validator=requires(lambda v: v > 0, "a number > 0"))

    settings = structure({"clip": 10.0}, Settings, source=path)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NewType, TypeVar

import attrs

from ..errors import CheckpointError, RLModulesError, did_you_mean

__all__ = [
    "Count",
    "FileName",
    "Finite",
    "JSONObject",
    "SchemaMismatch",
    "TensorSpec",
    "check_tensors",
    "register_hook",
    "requires",
    "space_problem",
    "structure",
    "structure_value",
]

_T = TypeVar("_T")
#: A JSON object with any values (nesting is bounded by the JSON reader).
JSONObject = NewType("JSONObject", dict)
#: An integer from 0 to 2**63 - 1 (it fits an int64 where numpy or torch holds it).
Count = NewType("Count", int)
#: A finite number (an int or a float; ``NaN`` and infinities are refused).
Finite = NewType("Finite", float)
#: A plain file name inside the directory that names it: no ``/``, no ``..``.
FileName = NewType("FileName", str)

_INT64_MAX = 2**63 - 1
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")


class SchemaMismatch(ValueError):
    """A value that does not fit its schema; ``expected`` says what would, ``field`` names
    where (a name, or a path of names and indices, below the value being checked)."""

    def __init__(self, expected: str, *, field: Any = None, got: Any = attrs.NOTHING):
        super().__init__(expected)
        self.expected = expected
        self.field = field
        self.got = got


def requires(check: Callable[[Any], bool], expected: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: ``check(value)`` must hold, else the field is ``expected``."""
    def validate(_instance: Any, attribute: Any, value: Any) -> None:
        if not check(value):
            raise SchemaMismatch(expected, field=attribute.name, got=value)

    return validate


# --- strict primitives --------------------------------------------------------------------------
def _int(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaMismatch("an integer")
    return value


def _count(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _INT64_MAX:
        raise SchemaMismatch("an integer from 0 to 2**63 - 1")
    return value


def _float(value: Any, _type: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaMismatch("a number")
    return value  # an int stays as written, so an error shows what the file holds


def _finite(value: Any, _type: Any) -> float:
    number = _float(value, _type)
    try:
        finite = math.isfinite(number)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise SchemaMismatch("a finite number")
    return number


def _str(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise SchemaMismatch("a string")
    return value


def _bool(value: Any, _type: Any) -> bool:
    if not isinstance(value, bool):
        raise SchemaMismatch("true or false")
    return value


def _file_name(value: Any, _type: Any) -> str:
    if not isinstance(value, str) or not _SAFE_FILE_NAME.match(value):
        raise SchemaMismatch("a plain file name inside the directory (no '/' or '..')")
    return value


def _json_object(value: Any, _type: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SchemaMismatch("an object")
    return value


def _any(value: Any, _type: Any) -> Any:
    return value


_converter: Any = None
#: Hooks of constrained types defined elsewhere (see :func:`register_hook`).
_extra_hooks: list[tuple[Any, Callable[[Any, Any], Any]]] = []


def register_hook(cls: Any, hook: Callable[[Any, Any], Any]) -> None:
    """Check values of ``cls`` (usually a ``typing.NewType``) with ``hook(value, cls)``,
    which returns the value or raises :class:`SchemaMismatch`."""
    _extra_hooks.append((cls, hook))
    if _converter is not None:
        _converter.register_structure_hook(cls, hook)


def structure_value(value: Any, cls: Any) -> Any:
    """``value`` structured as ``cls`` by the one converter, for hooks that recurse; its
    errors are located by :func:`structure`."""
    return _the_converter().structure(value, cls)


def _the_converter() -> Any:
    """The one converter: strict primitives, lists and objects, unknown keys refused, every
    problem located."""
    global _converter
    if _converter is None:
        import cattrs
        from cattrs.cols import list_structure_factory, mapping_structure_factory

        converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
        for cls, hook in ((int, _int), (Count, _count), (float, _float), (Finite, _finite),
                          (str, _str), (bool, _bool), (FileName, _file_name),
                          (JSONObject, _json_object), (Any, _any), *_extra_hooks):
            converter.register_structure_hook(cls, hook)
        converter.register_structure_hook_factory(
            lambda cls: getattr(cls, "__origin__", None) is list,
            _strict(list, "a list", list_structure_factory))
        converter.register_structure_hook_factory(
            lambda cls: getattr(cls, "__origin__", None) is dict,
            _strict(dict, "an object", mapping_structure_factory, keys=True))
        attrs_factory = converter.gen_structure_attrs_fromdict
        converter.register_structure_hook_factory(
            attrs.has, _strict(dict, "an object", lambda cls, _conv: attrs_factory(cls)))
        _converter = converter
    return _converter


def _strict(kind: type, expected: str, factory: Callable[[Any, Any], Any], *,
            keys: bool = False) -> Callable[[Any, Any], Any]:
    """A hook factory that refuses values other than ``kind`` (cattrs would take any
    iterable for a list, e.g. a string) before the generic hook runs; with ``keys``, a
    dict's keys are checked before any of its values."""
    def make(cls: Any, converter: Any) -> Callable[[Any, Any], Any]:
        inner = factory(cls, converter)
        key_type = getattr(cls, "__args__", (str,))[0]

        def hook(value: Any, type_: Any) -> Any:
            if not isinstance(value, kind):
                raise SchemaMismatch(expected)
            for key in value if keys else ():  # type: ignore[attr-defined]
                try:
                    converter.structure(key, key_type)
                except SchemaMismatch as exc:
                    exc.field, exc.got = key, key
                    raise
            return inner(value, type_)

        return hook

    return make


# --- the check --------------------------------------------------------------------------------
def structure(data: Any, schema: type[_T], *, source: object,
              error: type[RLModulesError] = CheckpointError) -> _T:
    """``data`` (parsed JSON) as an instance of the attrs class ``schema``, checked whole.

    Raises ``error`` naming ``source``, the path of the first field that does not fit, the
    value that arrived there and what the schema expects.
    """
    if not isinstance(data, dict):
        raise error(f"{source} is malformed: got {_show(data)}, expected an object")
    from cattrs.errors import BaseValidationError

    try:
        return _the_converter().structure(data, schema)  # type: ignore[no-any-return]
    except (BaseValidationError, SchemaMismatch) as exc:  # the first problem is reported
        path, problem = _first_problem(exc, [])
        raise error(_describe(source, data, path, problem)) from None


def _first_problem(exc: BaseException, path: list[Any]) -> tuple[list[Any], BaseException]:
    """The path and the leaf exception of the first problem in a cattrs error tree."""
    for note in getattr(exc, "__notes__", ()):
        name = getattr(note, "name", None)
        index = getattr(note, "index", None)
        if isinstance(name, str):
            path = [*path, name]
        elif not callable(index):  # an IterableValidationNote: a list index or a dict key
            path = [*path, index]
    children = getattr(exc, "exceptions", None)
    if children:
        return _first_problem(children[0], path)
    if isinstance(exc, SchemaMismatch) and exc.field is not None:
        path = [*path, *(exc.field if isinstance(exc.field, tuple) else (exc.field,))]
    return path, exc


def _describe(source: object, data: Any, path: list[Any], problem: BaseException) -> str:
    where = _path_text(path)
    extra = getattr(problem, "extra_fields", None)
    if extra is not None:  # cattrs' ForbiddenExtraKeysError
        keys = sorted(map(str, extra))
        known = [field.name for field in attrs.fields(problem.cl)]  # type: ignore[attr-defined]
        return (f"{source} is malformed: {where or 'the top level'} has unknown key(s) "
                f"{', '.join(map(repr, keys))}.{did_you_mean(keys[0], known)} Known keys: "
                f"{', '.join(known)}")
    got = getattr(problem, "got", attrs.NOTHING)
    if got is attrs.NOTHING:
        got = _lookup(data, path)
    if isinstance(problem, SchemaMismatch):
        expected = problem.expected
    elif isinstance(problem, KeyError):
        expected, got = "a value (the field is required)", _MISSING
    else:
        expected = f"a valid value ({problem})"
    shown = "nothing" if got is _MISSING else _show(got)
    return f"{source} is malformed: {where or 'the top level'}: got {shown}, expected {expected}"


_MISSING = object()


def _lookup(data: Any, path: list[Any]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data


def _path_text(path: list[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part!r}]" if not isinstance(part, str) or not part.isidentifier() \
            else f".{part}"
    return text.lstrip(".")


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


# --- tensors --------------------------------------------------------------------------------------
@attrs.frozen
class TensorSpec:
    """What one named array of a tensor file must be: its ``shape`` (``None`` entries match
    any size), its ``dtype`` (a numpy dtype name), and optionally ``finite`` values and
    bounds ``above`` (exclusive) / ``at_least`` (inclusive)."""

    shape: tuple[int | None, ...]
    dtype: str
    finite: bool = False
    above: float | None = None
    at_least: float | None = None

    def problem(self, array: Any) -> str | None:
        """What is wrong with the numpy array ``array`` (``None``: it fits)."""
        import numpy as np

        if array.dtype != np.dtype(self.dtype) or len(array.shape) != len(self.shape) or any(
                want is not None and have != want for have, want in zip(array.shape, self.shape)):
            shown = tuple("N" if s is None else s for s in self.shape)
            return (f"has dtype {array.dtype} and shape {tuple(array.shape)}, expected "
                    f"{self.dtype} of shape {shown}")
        if self.finite and not np.isfinite(array).all():
            return "holds NaN or infinite values, expected finite ones"
        if self.above is not None and not (array > self.above).all():
            return f"holds values <= {self.above}, expected all > {self.above}"
        if self.at_least is not None and not (array >= self.at_least).all():
            return f"holds values < {self.at_least}, expected all >= {self.at_least}"
        return None


def check_tensors(arrays: Mapping[str, Any], specs: Mapping[str, TensorSpec], *,
                  source: object, error: type[RLModulesError] = CheckpointError,
                  exact: bool = True) -> None:
    """Raise ``error`` unless each array named in ``specs`` is in ``arrays`` (numpy arrays or
    CPU tensors) and fits its spec; with ``exact``, ``arrays`` holds no other names."""
    missing = [name for name in specs if name not in arrays]
    extra = [name for name in arrays if name not in specs] if exact else []
    if missing or extra:
        raise error(f"{source} is malformed: it holds the arrays {sorted(arrays)}, expected "
                    f"{sorted(specs)}")
    for name, spec in specs.items():
        problem = spec.problem(_numpy(arrays[name]))
        if problem:
            raise error(f"{source} is malformed: array {name!r} {problem}")


def _numpy(value: Any) -> Any:
    import numpy as np

    return np.asarray(value)  # a CPU tensor without a copy


def space_problem(values: Any, space: Any) -> str | None:
    """What is wrong with ``values`` (a numpy array of samples ``[N, *space.shape]``) as
    elements of the gymnasium ``space`` (Box, Discrete, MultiDiscrete, MultiBinary); ``None``
    when every sample lies inside it. Other spaces are not checked here."""
    import gymnasium as gym
    import numpy as np

    low: Any
    high: Any
    if isinstance(space, gym.spaces.Discrete):
        low, high = int(space.start), int(space.start + space.n - 1)
    elif isinstance(space, gym.spaces.MultiDiscrete):
        low, high = space.start, space.start + space.nvec - 1
    elif isinstance(space, gym.spaces.MultiBinary):
        low, high = 0, 1
    elif isinstance(space, gym.spaces.Box):
        if not np.isfinite(values).all():
            return "holds NaN or infinite values, expected values inside the action space"
        low, high = space.low, space.high
    else:
        return None
    if values.size and not ((values >= low) & (values <= high)).all():
        return f"holds values outside {space}"
    if not isinstance(space, gym.spaces.Box) and values.size and \
            not np.issubdtype(values.dtype, np.integer) and not np.equal(
                np.mod(values, 1), 0).all():
        return f"holds values that are not integers, expected elements of {space}"
    return None
