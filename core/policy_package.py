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

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .checkpoint import (
    CHECKSUM_ALGORITHM,
    file_checksum,
    lies_within,
    read_json_file,
    verify_checksum,
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

PACKAGE_FILE = "rlmodules_package.json"
PACKAGE_FORMAT = "rlmodules.package"
PACKAGE_VERSION = 1
#: What a package may hold, by the key naming its sub-folder under ``"contents"``.
PARTS = ("module", "algorithm", "export")
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
#: Most files a package lists; far more than rlmodules writes (a guard, not a limit in use).
_MAX_FILES = 10_000


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
    data = read_json_file(path, verify=False)
    if data.get("format") != PACKAGE_FORMAT:
        raise CheckpointError(f"{path} is not a {PACKAGE_FORMAT!r} file")
    version = data.get("version")
    if version != PACKAGE_VERSION:
        raise CheckpointError(
            f"{path} has package version {version!r}; this rlmodules reads version "
            f"{PACKAGE_VERSION} (upgrade rlmodules to read a newer one)"
        )
    verify_checksum(data, path)  # after the version: a newer format may sign otherwise
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
    problems = [f"{field} {problem}" for field, problem in _field_problems(data)]
    if problems:
        raise CheckpointError(f"{path} is malformed: {'; '.join(problems)}")


def _field_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    contents = data.get("contents")
    if not isinstance(contents, dict) or set(contents) - set(PARTS) \
            or not isinstance(contents.get("module"), str):
        out.append(("contents", f"must map {PARTS} to sub-folders, the module's at least"))
    else:
        out += [(f"contents.{k}", "must be a plain folder name")
                for k, v in contents.items() if v is not None and not _plain(v)]
    out += _evaluation_problems(data.get("evaluation"))
    requirements = data.get("requirements")
    if not (isinstance(requirements, list) and all(
            isinstance(r, dict) and isinstance(r.get("distribution"), str)
            and isinstance(r.get("version"), (str, type(None))) for r in requirements)):
        out.append(("requirements", "must be a list of {distribution, version}"))
    for key in ("env", "algorithm", "video"):
        if not isinstance(data.get(key), (str, type(None))):
            out.append((key, "must be a string or null"))
    if not isinstance(data.get("env_config", {}), dict):
        out.append(("env_config", "must be an object"))
    files = data.get("files")
    if not isinstance(files, dict) or len(files) > _MAX_FILES:
        out.append(("files", f"must map at most {_MAX_FILES} relative paths to entries"))
        return out
    for name, entry in files.items():
        if not _relative_path(name):
            out.append((f"files[{name!r}]", "must be a relative path of plain names"))
        elif not (isinstance(entry, dict) and _count(entry.get("bytes"))
                  and isinstance(entry.get("checksum"), str)
                  and entry["checksum"].startswith(f"{CHECKSUM_ALGORITHM}:")):
            out.append((f"files[{name!r}]", f"must be {{bytes, checksum: "
                                             f"'{CHECKSUM_ALGORITHM}:<hex>'}}"))
    return out


def _evaluation_problems(evaluation: Any) -> list[tuple[str, str]]:
    if evaluation is None:
        return []
    if not isinstance(evaluation, dict):
        return [("evaluation", "must be an object or null")]
    seeds, returns, lengths = (evaluation.get(k) for k in ("seeds", "returns", "lengths"))
    ok = (isinstance(returns, list) and returns and all(_number(r) for r in returns)
          and isinstance(lengths, list) and len(lengths) == len(returns)
          and all(_count(n) for n in lengths)
          and isinstance(seeds, list) and len(seeds) == len(returns)
          and all(_count(s) for s in seeds)
          and _number(evaluation.get("mean")) and _number(evaluation.get("std")))
    return [] if ok else [("evaluation", "must hold seeds, returns, lengths (one per "
                                         "episode), mean and std")]


def _plain(value: Any) -> bool:
    return isinstance(value, str) and bool(_SAFE_PART.match(value)) and value != PACKAGE_FILE


def _relative_path(value: Any) -> bool:
    return isinstance(value, str) and all(_plain(p) for p in value.split("/")) \
        and value != PACKAGE_FILE


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)
