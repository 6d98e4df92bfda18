"""The schema of a packaged policy's ``rlmodules_package.json`` (package version 1).

An attrs class per part, checked by ``rlmodules.checkpoint.structure``: strict types, ranges,
no unknown keys, and file and folder names that stay inside the package. Read by
``rlmodules.policy_package.read_package_manifest`` after the format, version and checksum,
before any file the manifest lists is opened.
"""

from __future__ import annotations

from typing import Any, NewType

import attrs

from .checkpoint import (
    Count,
    FileName,
    Finite,
    JSONObject,
    ListedFile,
    SchemaMismatch,
    register_hook,
    requires,
    structure_value,
)

__all__ = ["Contents", "Evaluation", "PackageManifest", "Requirement", "Training"]

#: The manifest's own name: no other entry may name it.
PACKAGE_FILE = "rlmodules_package.json"
#: Most files a package lists; far more than rlmodules writes (a guard, not a limit in use).
MAX_FILES = 10_000
#: A file of the package: a relative path of plain names (``module/rlmodule.json``).
PackagePath = NewType("PackagePath", str)
#: A sub-folder or file directly in the package, other than the manifest.
PartName = NewType("PartName", str)


def _part_name(value: Any, _type: Any) -> str:
    name: str = structure_value(value, FileName)
    if name == PACKAGE_FILE:
        raise SchemaMismatch(f"a name other than {PACKAGE_FILE}")
    return name


def _package_path(value: Any, _type: Any) -> str:
    try:
        ok = isinstance(value, str) and value != PACKAGE_FILE and all(
            structure_value(part, FileName) for part in value.split("/"))
    except SchemaMismatch:
        ok = False
    if not ok:
        raise SchemaMismatch(f"a relative path of plain names, other than {PACKAGE_FILE}")
    return value  # type: ignore[no-any-return]


register_hook(PartName, _part_name)
register_hook(PackagePath, _package_path)


@attrs.frozen
class Contents:
    """Which sub-folder holds what: the module checkpoint always, the algorithm checkpoint
    and the export when packaged."""

    module: PartName
    algorithm: PartName | None = None
    export: PartName | None = None


@attrs.frozen
class Evaluation:
    """How the packaged policy was evaluated: one seed, return and length per episode."""

    episodes: Count
    seeds: list[Count]
    returns: list[Finite] = attrs.field(validator=requires(bool, "at least one return"))
    lengths: list[Count]
    mean: Finite
    std: Finite
    explore: bool
    recorded_episode: Count | None
    recorded_frames: Count | None

    def __attrs_post_init__(self) -> None:
        for name in ("seeds", "lengths"):
            if len(getattr(self, name)) != len(self.returns):
                raise SchemaMismatch(f"one per episode ({len(self.returns)} returns)",
                                     field=name, got=getattr(self, name))
        if self.episodes != len(self.returns):
            raise SchemaMismatch(f"the number of returns ({len(self.returns)})",
                                 field="episodes", got=self.episodes)


@attrs.frozen
class Training:
    """How long the packaged run trained."""

    iteration: Count
    timesteps: Count
    episodes: Count
    time_total_s: Finite | None = None


@attrs.frozen
class Requirement:
    """A distribution the policy needs, and the version it was packaged with."""

    distribution: str = attrs.field(validator=requires(bool, "a distribution name"))
    version: str | None


@attrs.frozen
class PackageManifest:
    """``rlmodules_package.json``: what the package holds, how it was made and evaluated,
    what it needs, and the size and checksum of every other file."""

    format: str
    version: int
    rlmodules_version: str
    created: str
    algorithm: str | None
    module_name: str
    stateful: bool
    env: str | None
    env_config: JSONObject
    observation_filter: str | None
    contents: Contents
    evaluation: Evaluation
    video: PartName | None
    training: Training | None
    run: bool
    learning_curve: PartName | None
    requirements: list[Requirement]
    files: dict[PackagePath, ListedFile] = attrs.field(validator=requires(
        lambda v: len(v) <= MAX_FILES, f"at most {MAX_FILES} files"))
    metadata_checksum: str | None = None  # written by rlmodules.checkpoint.signed_json
