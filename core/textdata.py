"""Untrusted JSON and TOML text parsed with limits, as one of our errors.

A primitive (it imports only :mod:`rlmodules.errors`), so that everything that reads a
file or a string a user did not write in Python -- checkpoints, config files, a model
config's JSON -- refuses the same things the same way: bytes that are not UTF-8, a file
larger than :data:`MAX_TEXT_BYTES`, nesting deeper than :data:`MAX_DEPTH` (which would
otherwise surface as a raw ``RecursionError``) and the non-standard numbers ``NaN`` and
``Infinity``. The error class is the caller's (``CheckpointError`` for a checkpoint,
``ConfigError`` for a config), and its message names the source.

Example::

    data = loads_json(path.read_bytes(), source=path, error=ConfigError)
"""

from __future__ import annotations

import json
from typing import Any

from .errors import RLModulesError

__all__ = ["MAX_DEPTH", "MAX_TEXT_BYTES", "check_depth", "decode", "loads_json", "loads_toml"]

#: Nothing rlmodules writes or reads comes near these; a text past them is refused unparsed.
MAX_TEXT_BYTES = 64 * 2**20
MAX_DEPTH = 64


def decode(raw: bytes | str, *, source: object, error: type[RLModulesError]) -> str:
    """``raw`` as text: UTF-8 (a leading byte-order mark is dropped), at most
    :data:`MAX_TEXT_BYTES` long."""
    if len(raw) > MAX_TEXT_BYTES:
        raise error(
            f"{source} is {len(raw):,} bytes, more than the {MAX_TEXT_BYTES:,} rlmodules reads "
            f"from such a file"
        )
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{source} is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); save it "
            f"as UTF-8"
        ) from None


def loads_json(raw: bytes | str, *, source: object, error: type[RLModulesError]) -> Any:
    """The JSON value in ``raw``, refused as ``error`` when it is not UTF-8, too large,
    malformed, nested deeper than :data:`MAX_DEPTH` or holds ``NaN``/``Infinity``."""
    text = decode(raw, source=source, error=error)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # the C parser stops at the interpreter's recursion limit
        raise _too_deep(source, error) from None
    except ValueError as exc:
        raise error(f"{source} is not valid JSON ({exc})") from None
    check_depth(data, source=source, error=error)
    return data


def loads_toml(raw: bytes | str, *, source: object, error: type[RLModulesError]) -> Any:
    """The TOML table in ``raw``, with the limits of :func:`loads_json`."""
    import tomllib

    text = decode(raw, source=source, error=error)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise _too_deep(source, error) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source} is not valid TOML ({exc})") from None
    check_depth(data, source=source, error=error)
    return data


def check_depth(data: Any, *, source: object, error: type[RLModulesError]) -> None:
    """Raise ``error`` if lists and dicts nest deeper than :data:`MAX_DEPTH` in ``data``
    (iteratively: a deep value never reaches the recursion limit here)."""
    level = [data]
    for _ in range(MAX_DEPTH):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, (dict, list))]
        if not level:
            return
    raise _too_deep(source, error)


def _too_deep(source: object, error: type[RLModulesError]) -> RLModulesError:
    return error(f"{source} nests deeper than {MAX_DEPTH} levels; rlmodules never reads such "
                 f"data")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a standard JSON number")
