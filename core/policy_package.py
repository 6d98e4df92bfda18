"""A packaged policy: a folder made to be shared (``rlmodules package``), and its file list.

The folder holds a module checkpoint, optionally the algorithm checkpoint it came from, an
export, a replay video and a model card, plus ``rlmodules_package.json``: what is inside
(which sub-folder is the module, which the algorithm), how it was evaluated, which
distributions it needs, and the size and checksum of EVERY other file. The list is
checksummed itself, so a downloaded folder verifies whole: a changed, truncated, missing or
swapped file is a :class:`~rlmodules.CheckpointError` naming it, before anything in the
folder is read. Files the list does not name are never read (the Hub adds
``.gitattributes`` to every repository, ``hf download`` a ``.cache/`` folder).

Example::

    manifest = verify_package("ppo-cartpole")          # raises naming each bad file
    module_dir = package_part("ppo-cartpole", manifest, "module")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._package_schema import PACKAGE_FILE, PackageManifest
from .checkpoint import (
    file_checksum,
    lies_within,
    read_versioned_json,
    structure,
    write_json_file,
)
from .errors import CheckpointError

__all__ = [
    "PACKAGE_FILE",
    "PACKAGE_FORMAT",
    "PACKAGE_VERSION",
    "PARTS",
    "file_problems",
    "is_policy_package",
    "package_part",
    "read_package_manifest",
    "unlisted_files",
    "verify_package",
    "write_package_manifest",
]

PACKAGE_FORMAT = "rlmodules.package"
PACKAGE_VERSION = 1
#: What a package may hold, by the key naming its sub-folder under ``"contents"``.
PARTS = ("module", "algorithm", "export")


def is_policy_package(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder written by ``rlmodules package``."""
    return (Path(path) / PACKAGE_FILE).is_file()


def write_package_manifest(folder: str | os.PathLike[str], manifest: Mapping[str, Any]
                           ) -> dict[str, Any]:
    """Write ``manifest`` (format fields, contents, evaluation, ...) into ``folder`` with the
    size and checksum of every file under it; returns what was written."""
    root = Path(folder)
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative != PACKAGE_FILE:
            files[relative] = {"bytes": path.stat().st_size, "checksum": file_checksum(path)}
    data = {"format": PACKAGE_FORMAT, "version": PACKAGE_VERSION, **manifest, "files": files}
    _check_manifest(data, root / PACKAGE_FILE)
    write_json_file(root / PACKAGE_FILE, data)
    return data


def read_package_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked ``rlmodules_package.json`` of ``folder`` (its checksum, format, version
    and fields); the files it lists are not read (see :func:`verify_package`)."""
    path = Path(folder) / PACKAGE_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{folder} is not a packaged policy: it has no {PACKAGE_FILE}; write one with "
            f"`rlmodules package RUN --out {folder}`"
        )
    data, _ = read_versioned_json(path, format=PACKAGE_FORMAT,
                                  versions=range(1, PACKAGE_VERSION + 1))
    _check_manifest(data, path)
    return data


def file_problems(folder: str | os.PathLike[str], manifest: Mapping[str, Any]
                  ) -> dict[str, str | None]:
    """``{file: problem or None}`` for every file ``manifest`` lists: missing, outside the
    folder (through a link), of another size, or with another checksum."""
    root = Path(folder)
    return {name: _file_problem(root, name, entry)
            for name, entry in manifest["files"].items()}


def unlisted_files(folder: str | os.PathLike[str], manifest: Mapping[str, Any]) -> list[str]:
    """Files under ``folder`` that ``manifest`` does not list (never read by rlmodules),
    hidden ones left out (the Hub's ``.gitattributes``, ``hf download``'s ``.cache/``)."""
    root = Path(folder)
    listed = set(manifest["files"]) | {PACKAGE_FILE}
    names = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return sorted(name for name in names if name not in listed
                  and not any(part.startswith(".") for part in name.split("/")))


def verify_package(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`read_package_manifest`, then every listed file checked; raises one
    :class:`~rlmodules.CheckpointError` naming each file that fails."""
    manifest = read_package_manifest(folder)
    bad = {name: problem for name, problem in file_problems(folder, manifest).items()
           if problem is not None}
    if bad:
        shown = "; ".join(f"{name}: {problem}" for name, problem in list(bad.items())[:5])
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise CheckpointError(
            f"the packaged policy {folder} does not match its file list "
            f"({len(bad)} of {len(manifest['files'])} files): {shown}{more}. Download or "
            f"package it again"
        )
    return manifest


def package_part(folder: str | os.PathLike[str], manifest: Mapping[str, Any], part: str
                 ) -> Path:
    """The sub-folder of ``folder`` holding ``part`` (``"module"``: the module checkpoint,
    ``"algorithm"``: the algorithm checkpoint, ``"export"``)."""
    name = manifest["contents"].get(part)
    if name is None:
        held = ", ".join(f"{k} ({v}/)" for k, v in manifest["contents"].items() if v)
        hint = {"algorithm": "; load its module with RLModule.from_checkpoint, or package "
                "the run directory or algorithm checkpoint to share the algorithm"}.get(part, "")
        raise CheckpointError(
            f"the packaged policy {folder} holds no {part} checkpoint (it holds: {held}){hint}"
        )
    return Path(folder) / name


# --- checks -------------------------------------------------------------------------------
def _file_problem(root: Path, name: str, entry: Mapping[str, Any]) -> str | None:
    path = root / name
    if not path.is_file():
        return "missing"
    if not lies_within(path, root):
        return f"a link to {os.path.realpath(path)}, outside the package"
    try:
        if path.stat().st_size != entry["bytes"]:
            return f"{path.stat().st_size} bytes, not the {entry['bytes']} listed"
        if file_checksum(path) != entry["checksum"]:
            return "checksum differs from the one listed (the file was changed)"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    return None


def _check_manifest(data: Mapping[str, Any], path: Path) -> None:
    structure(data, PackageManifest, source=path)
