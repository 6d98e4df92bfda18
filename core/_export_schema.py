"""The export manifest's schema: attrs classes checked by ``rlmodules.checkpoint.structure``.

The same declarative layer as every other file kind (strict types, ranges, no unknown keys,
the first problem named with its field path). A format adds its own per-module ``artefact``
class (e.g. rlmodules-onnx's graph description), checked in the same pass, so the whole
file is checked before anything is loaded.
"""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar

import attrs

from .checkpoint import (
    FileName,
    FormatRef,
    JSONObject,
    ListedFile,
    requires,
)
from .errors import ExportError

__all__ = [
    "FormatRef",
    "Manifest",
    "ModuleManifest",
    "ObservationNormalization",
]

A = TypeVar("A")

def _non_empty(value: Any) -> bool:
    return len(value) > 0


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


@attrs.frozen
class ObservationNormalization:
    """Frozen observation statistics (``MeanStdFilter``): the artefact computes
    ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)`` from raw observations.
    ``mean`` and ``var`` are flat, in the observation's C order.

    Example::

        stats = ObservationNormalization(mean=(0.0, 1.0), var=(1.0, 4.0), clip=10.0,
                                         epsilon=1e-8)
    """

    mean: tuple[float, ...] = attrs.field(converter=tuple)
    var: tuple[float, ...] = attrs.field(converter=tuple)
    clip: float
    epsilon: float

    def __attrs_post_init__(self) -> None:
        # Users and the CLI build it directly, so it checks itself with our error; read
        # from a manifest, the schema has already checked the types.
        numbers = (*self.mean, *self.var, self.clip, self.epsilon)
        if not all(_finite(x) for x in numbers):
            raise ExportError("mean, var, clip and epsilon must be finite numbers, got "
                              f"{next(x for x in numbers if not _finite(x))!r:.40}")
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

    module_class: str = attrs.field(validator=requires(_non_empty, "a class name"))
    observation_space: JSONObject = attrs.field(validator=requires(_non_empty, "a space"))
    action_space: JSONObject = attrs.field(validator=requires(_non_empty, "a space"))
    observation_normalization: ObservationNormalization | None
    artefact: A


@attrs.frozen
class Manifest(Generic[A]):
    """``manifest.json`` of an export directory (``rlmodules.export.read_manifest``)."""

    manifest_version: int
    format: FormatRef
    multi_agent: bool
    modules: dict[str, ModuleManifest[A]] = attrs.field(
        validator=requires(_non_empty, "at least one module"))
    files: dict[FileName, ListedFile] = attrs.field(
        validator=requires(_non_empty, "at least one file"))
    libraries: dict[str, str]
    metadata_checksum: str | None = None  # written by rlmodules.checkpoint.signed_json
