"""The discovery cache: entry points and the names each plugin registered, on disk.

Valid only while nothing was installed or removed: the key holds every ``sys.path`` entry
with its directory mtime (installing or removing a distribution adds or removes a
``*.dist-info`` entry there, which changes the mtime), and each plugin's own source files'
mtimes (an edited editable plugin is reloaded). Writes are atomic; an unwritable cache
directory only means no cache.

The file is ``marshal`` data (a builtin: reading it imports nothing, which keeps
``rlmodules list`` within milliseconds of interpreter start) behind a CRC-32 of the payload,
so a damaged file is rejected before it is parsed. Loading data never runs code, and only a
dict of plain values is accepted.

Environment: ``RLMODULES_CACHE_DIR`` relocates it (default ``$XDG_CACHE_HOME/rlmodules`` or
``~/.cache/rlmodules``); ``RLMODULES_NO_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

__all__ = ["DiscoveryCache", "default_cache_dir", "files_unchanged", "file_stamps"]

FORMAT = 2  # 1 was JSON


def default_cache_dir() -> str:
    """``RLMODULES_CACHE_DIR``, else the platform's per-user cache folder + ``rlmodules``."""
    explicit = os.environ.get("RLMODULES_CACHE_DIR")
    if explicit:
        return explicit
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "rlmodules")


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _fingerprint() -> list[list[Any]]:
    return [[entry, _mtime(entry or os.getcwd())] for entry in sys.path]


def file_stamps(paths: list[str]) -> list[list[Any]]:
    """``[[path, mtime_ns], ...]`` for a plugin's source files."""
    return [[path, _mtime(path)] for path in paths]


def files_unchanged(stamps: list[list[Any]]) -> bool:
    return all(_mtime(path) == mtime for path, mtime in stamps)


class DiscoveryCache:
    """One file per interpreter and ``sys.path``, in ``directory``."""

    def __init__(self, directory: str) -> None:
        key = "\0".join([sys.executable, *sys.path]).encode("utf-8", "surrogateescape")
        self.path = os.path.join(directory, f"discovery-{zlib.crc32(key):08x}.cache")
        # Taken before discovery, so an install during discovery makes the entry stale.
        self._fingerprint = _fingerprint()

    def load(self) -> dict[str, Any] | None:
        """The cached data, or ``None`` when absent, unreadable or stale."""
        try:
            with open(self.path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return None
        checksum, payload = raw[:4], raw[4:]
        if len(raw) < 4 or int.from_bytes(checksum, "little") != zlib.crc32(payload):
            return None
        try:
            data = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("python") != sys.version
            or data.get("fingerprint") != self._fingerprint
        ):
            return None
        return data

    def save(self, entry_points: list[Any], plugins: dict[str, Any]) -> None:
        """Write atomically; never raise (a read-only home only costs speed)."""
        data = {
            "format": FORMAT,
            "python": sys.version,
            "fingerprint": self._fingerprint,
            "entry_points": [list(info) for info in entry_points],
            "plugins": plugins,
        }
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            payload = marshal.dumps(data)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(zlib.crc32(payload).to_bytes(4, "little") + payload)
            os.replace(tmp, self.path)
        except (OSError, TypeError, ValueError):
            try:
                os.unlink(tmp)
            except OSError:
                pass
