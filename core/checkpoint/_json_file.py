"""The one reader and writer of the JSON files inside checkpoints and recordings.

Written files carry a checksum of their canonical form (sorted keys, no whitespace), so a
changed value (a flipped bit in a space bound, a config number, a class name) is caught just
as a changed tensor file is. Reading refuses what could exhaust the reader (a huge file, deep
nesting), text that is not UTF-8 and non-standard numbers (``NaN``, ``Infinity``) with a
:class:`CheckpointError`, never a raw exception.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import xxhash

from ..errors import CheckpointError
from ..textdata import MAX_DEPTH, MAX_TEXT_BYTES, loads_json

__all__ = [
    "CHECKSUM_KEY", "MAX_DEPTH", "MAX_JSON_BYTES", "read_json_file", "signed_json",
    "verify_checksum", "write_json_file",
]

#: The top-level key holding the checksum of the rest of the object.
CHECKSUM_KEY = "metadata_checksum"
_ALGORITHM = "xxh3_64/canonical-json"
#: Nothing rlmodules writes comes near these; a file past them is refused unparsed.
MAX_JSON_BYTES = MAX_TEXT_BYTES


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def _checksum(data: dict[str, Any]) -> str:
    rest = {k: v for k, v in data.items() if k != CHECKSUM_KEY}
    return f"{_ALGORITHM}:{xxhash.xxh3_64_hexdigest(_canonical(rest))}"


def signed_json(data: dict[str, Any]) -> str:
    """``data`` (a JSON object) as text, with its checksum under :data:`CHECKSUM_KEY`."""
    body = {k: v for k, v in data.items() if k != CHECKSUM_KEY}
    body[CHECKSUM_KEY] = _checksum(body)
    return json.dumps(body, indent=1, allow_nan=False)


def write_json_file(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write ``data`` (a JSON object) with its checksum under :data:`CHECKSUM_KEY`."""
    Path(path).write_text(signed_json(data), encoding="utf-8")


def read_json_file(path: str | os.PathLike[str], *, verify: bool = True) -> dict[str, Any]:
    """The JSON object in ``path``, checked: size, encoding, nesting depth, standard numbers
    (see :func:`rlmodules.textdata.loads_json`), and (unless ``verify=False``, for a caller
    that first reads the format version: older versions have no checksum) the checksum;
    see :func:`verify_checksum`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise CheckpointError(
                f"{path} is {size:,} bytes, more than the {MAX_JSON_BYTES:,} a metadata file "
                f"may have; it is not a file rlmodules wrote"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc}") from None
    data = loads_json(raw, source=path, error=CheckpointError)
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object, got {type(data).__name__}")
    if verify:
        verify_checksum(data, path)
    return data


def verify_checksum(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Raise :class:`CheckpointError` unless ``data`` (read from ``path``) carries the
    checksum of its contents."""
    recorded = data.get(CHECKSUM_KEY)
    if recorded != _checksum(data):
        raise CheckpointError(
            f"{path} is corrupted: its {CHECKSUM_KEY} {recorded!r} does not match its "
            f"contents; restore it from a good copy"
        )
