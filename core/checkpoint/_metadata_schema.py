"""The schema of a module checkpoint's ``rlmodule.json``, and of the pieces other files share
with it: a tensor file's entry and a class recorded by name.

Written as :func:`~rlmodules.checkpoint.module_metadata` writes them (format version 2);
:func:`~rlmodules.checkpoint.read_metadata` checks a file against :class:`ModuleMetadata`
before anything is built. Spaces stay JSON objects here: ``rlmodules.space_from_json``
checks them (kinds, bounds, sizes) when they are decoded, before a module is allocated.
"""

from __future__ import annotations

import re
from typing import Any, NewType

import attrs

from ._schema import (
    Count,
    FileName,
    JSONObject,
    SchemaMismatch,
    register_hook,
    requires,
    structure_value,
)

__all__ = [
    "CHECKSUM_PREFIX", "ClassRef", "FormatRef", "ModuleMetadata", "ModuleNode", "PHASES",
    "TensorEntry",
]

#: The forward phases whose action distribution classes a checkpoint records.
PHASES = ("train", "exploration", "inference")
#: How a tensor file's checksum starts (see ``file_checksum``).
CHECKSUM_PREFIX = "xxh3_64/8MiB:"
#: A module id: a component path segment and part of a file stem.
ModuleId = NewType("ModuleId", str)
#: A forward phase, one of :data:`PHASES`.
Phase = NewType("Phase", str)
#: The component classes of a Tuple (a list) or Dict (an object) distribution.
DistChildren = NewType("DistChildren", object)

_MODULE_ID = re.compile(r"^(?!__multi__$)[^/\x00]{1,200}$")
_CHECKSUM = re.compile(r"^[A-Za-z0-9_/]{1,40}:[0-9a-f]{1,64}$")
_REGISTERED = re.compile(r"^[^:/\x00]{1,200}(/[^:/\x00]{1,200})?$")
_IMPORT_PATH = re.compile(r"^[^:\x00]{1,500}:[^:\x00]{1,500}$")


def _matches(pattern: re.Pattern[str]) -> Any:
    return lambda value: pattern.match(value) is not None


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str) and len(value) <= 500


@attrs.frozen
class FormatRef:
    """The checkpoint format that wrote a tensor file: registered name and provenance."""

    name: str = attrs.field(validator=requires(_matches(_REGISTERED), "a registered format name"))
    distribution: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a distribution name or null"))
    version: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a version or null"))


@attrs.frozen
class TensorEntry:
    """A tensor file named by a checkpoint: where it is, which format wrote it, its
    checksum and sizes (``write_tensor_file`` writes it)."""

    file: FileName
    format: FormatRef
    checksum: str = attrs.field(validator=requires(
        _matches(_CHECKSUM), "a checksum '<algorithm>:<hex>'"))
    bytes: Count
    num_tensors: Count
    num_elements: Count


@attrs.frozen
class ClassRef:
    """A class recorded by registered name (with the distribution and version providing
    it), or by import path where no plugin registers it; a Tuple or Dict distribution's
    component classes under ``children``."""

    name: str | None = None
    import_path: str | None = None
    distribution: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a distribution name or null"))
    version: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a version or null"))
    children: DistChildren | None = None

    def __attrs_post_init__(self) -> None:
        if self.name is not None:
            if not _REGISTERED.match(self.name):
                raise SchemaMismatch(
                    "a registered name 'plugin/name' (never an import path)", field="name",
                    got=self.name)
        elif self.import_path is None or not _IMPORT_PATH.match(self.import_path):
            raise SchemaMismatch(
                "{\"name\": \"plugin/name\", ...} or {\"import_path\": \"pkg.mod:Class\"}",
                field="import_path", got=self.import_path)


@attrs.frozen
class ConfigKeyRef:
    """Who declared a plugin ``model_config`` key the module uses: the plugin, and the
    distribution and version to install when it is missing."""

    plugin: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a plugin name or null"))
    distribution: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a distribution name or null"))
    version: str | None = attrs.field(
        default=None, validator=requires(_optional_text, "a version or null"))


@attrs.frozen
class ModuleNode:
    """One module of the component tree: a single module (``tensors``, and the action
    distributions of each phase) or a MultiRLModule (``components`` by module id, and its
    own tensors if it has any)."""

    module_class: ClassRef
    inference_only: bool
    catalog_class: ClassRef | None = None
    observation_space: JSONObject | None = None
    action_space: JSONObject | None = None
    model_config: JSONObject | None = None
    learner_only: bool = False
    tensors: TensorEntry | None = None
    components: dict[ModuleId, ModuleNode] | None = None
    action_distributions: dict[Phase, ClassRef] = attrs.Factory(dict)
    config_keys: dict[str, ConfigKeyRef] = attrs.Factory(dict)

    def __attrs_post_init__(self) -> None:
        if self.components is None and self.tensors is None:
            raise SchemaMismatch("a tensor file entry (a single module has weights)",
                                 field="tensors", got=None)


@attrs.frozen
class ModuleMetadata:
    """``rlmodule.json``: versions, the component tree, and the checksum (format 2)."""

    checkpoint_format_version: int
    rlmodules_version: str
    module: ModuleNode
    metadata_checksum: str | None = None


def _module_id_hook(value: Any, _type: Any) -> str:
    if not isinstance(value, str) or not _MODULE_ID.match(value):
        raise SchemaMismatch("a module id: 1-200 characters without '/', other than '__multi__'",
                             got=value)
    return value


def _phase_hook(value: Any, _type: Any) -> str:
    if value not in PHASES:
        raise SchemaMismatch(f"a phase, one of {list(PHASES)}", got=value)
    return value  # type: ignore[no-any-return]


def _dist_children_hook(value: Any, _type: Any) -> Any:
    if isinstance(value, dict):
        return structure_value(value, dict[str, ClassRef])
    if isinstance(value, list):
        return structure_value(value, list[ClassRef])
    raise SchemaMismatch("a list or an object of component distribution classes", got=value)


for _type, _hook in ((ModuleId, _module_id_hook), (Phase, _phase_hook),
                     (DistChildren, _dist_children_hook)):
    register_hook(_type, _hook)
