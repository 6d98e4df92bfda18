"""The export manifest's schema: attrs classes structured by one strict cattrs converter.

Every field has a type and, where the type is not enough, a validator; unknown keys are
refused; a number is never read from a string, nor a bool from a number. A format adds its
own per-module ``artefact`` class (e.g. rlmodules-onnx's graph description), structured by
the same converter, so the whole file is checked in one pass and every problem is reported
with its path (``$.modules['default_policy'].artefact.file``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Generic, TypeVar

import attrs
import cattrs
from attrs import validators as v

from .errors import ExportError

__all__ = [
    "ExportedFile",
    "FormatRef",
    "Manifest",
    "ModuleManifest",
    "ObservationNormalization",
    "finite",
    "structure",
]

A = TypeVar("A")

_CHECKSUM = re.compile(r"^xxh3_64/8MiB:[0-9a-f]{16}$")
_PLAIN_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def finite(instance: Any, attribute: Any, value: Any) -> None:
    """attrs validator: a finite number, or a (nested) sequence of finite numbers."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, (list, tuple)):
            finite(instance, attribute, item)
        elif (not isinstance(item, (int, float)) or isinstance(item, bool)
              or not math.isfinite(item)):
            raise ExportError(f"{attribute.name} must hold finite numbers, got {item!r:.40}")


@attrs.frozen
class FormatRef:
    """The export format that wrote the directory: registered name and its distribution."""

    name: str = attrs.field(validator=v.min_len(1))
    distribution: str | None
    version: str | None


@attrs.frozen
class ExportedFile:
    """A file of the export: its xxh3 checksum (``rlmodules.checkpoint``'s) and size."""

    checksum: str = attrs.field(validator=v.matches_re(_CHECKSUM))
    bytes: int = attrs.field(validator=v.ge(0))


@attrs.frozen
class ObservationNormalization:
    """Frozen observation statistics (``MeanStdFilter``): the artefact computes
    ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)`` from raw observations.
    ``mean`` and ``var`` are flat, in the observation's C order.

    Example::

        stats = ObservationNormalization(mean=(0.0, 1.0), var=(1.0, 4.0), clip=10.0,
                                         epsilon=1e-8)
    """

    mean: tuple[float, ...] = attrs.field(converter=tuple, validator=finite)
    var: tuple[float, ...] = attrs.field(converter=tuple, validator=finite)
    clip: float = attrs.field(validator=finite)
    epsilon: float = attrs.field(validator=finite)

    def __attrs_post_init__(self) -> None:
        if len(self.mean) != len(self.var):
            raise ExportError(f"mean has {len(self.mean)} values but var {len(self.var)}")
        if any(x < 0 for x in self.var) or not (self.clip > 0 and self.epsilon > 0):
            raise ExportError(f"var must not be negative and clip, epsilon must be positive "
                              f"(clip {self.clip}, epsilon {self.epsilon})")

    @property
    def size(self) -> int:
        return len(self.mean)


@attrs.frozen
class ModuleManifest(Generic[A]):
    """One module id's entry: what it is, what it sees, and the format's ``artefact``."""

    module_class: str = attrs.field(validator=v.min_len(1))
    observation_space: dict[str, Any] = attrs.field(validator=v.min_len(1))
    action_space: dict[str, Any] = attrs.field(validator=v.min_len(1))
    observation_normalization: ObservationNormalization | None
    artefact: A


def _plain_files(instance: Any, attribute: Any, value: dict[str, Any]) -> None:
    bad = [name for name in value if not _PLAIN_FILE.match(name)]
    if bad:
        raise ValueError(f"file names must be plain names inside the directory, got {bad}")


@attrs.frozen
class Manifest(Generic[A]):
    """``manifest.json`` of an export directory (``rlmodules.export.read_manifest``)."""

    manifest_version: int
    format: FormatRef
    multi_agent: bool
    modules: dict[str, ModuleManifest[A]] = attrs.field(validator=v.min_len(1))
    files: dict[str, ExportedFile] = attrs.field(validator=[v.min_len(1), _plain_files])
    libraries: dict[str, str]
    metadata_checksum: str | None = None  # written by rlmodules.checkpoint.signed_json


def _strict(kind: type, check: Any) -> Any:
    def hook(value: Any, _: Any) -> Any:
        if not check(value):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r:.40}")
        return kind(value)
    return hook


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dict(value: Any, _: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


_converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
_converter.register_structure_hook(str, _strict(str, lambda x: isinstance(x, str)))
_converter.register_structure_hook(bool, _strict(bool, lambda x: isinstance(x, bool)))
_converter.register_structure_hook(
    int, _strict(int, lambda x: isinstance(x, int) and not isinstance(x, bool)))
_converter.register_structure_hook(float, _strict(float, _number))
_converter.register_structure_hook(dict, _dict)
_converter.register_structure_hook(Any, lambda value, _: value)


def structure(data: Any, cls: Any, where: str) -> Any:
    """``data`` (parsed JSON) as the attrs class ``cls``, through the manifest's strict
    converter; every problem in one :class:`~rlmodules.ExportError` that names ``where``
    and each field's path (``$.modules['default_policy'].artefact.file``)."""
    try:
        return _converter.structure(data, cls)
    except Exception as exc:  # cattrs groups every field's error; none may escape raw
        problems = cattrs.transform_error(exc, path="$", format_exception=_describe)
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more"
                                           if len(problems) > 5 else "")
        raise ExportError(f"{where} is malformed: {shown}") from None


def _describe(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s) {sorted(exc.extra_fields)}"
    if exc.args and isinstance(exc.args[0], str):  # attrs' validators add more arguments
        return exc.args[0]
    return str(exc) or type(exc).__name__
