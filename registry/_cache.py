"""The discovery cache: entry points and the names each plugin registered, on disk.

Valid only while nothing was installed or removed: the key holds every ``sys.path`` entry
with its directory mtime (installing or removing a distribution adds or removes a
``*.dist-info`` entry there, which changes the mtime), and each plugin's own source files'
mtimes (an edited editable plugin is reloaded). Writes are atomic; an unwritable cache
directory only means no cache.

The file is ``marshal`` data (a builtin: reading it imports nothing, which keeps
``rlmodules list`` within milliseconds of interpreter start) behind a CRC-32 of the payload,
so a damaged file is rejected before it is parsed. Loading data never runs code, and only the
exact structure :meth:`DiscoveryCache.save` writes is accepted. The cache is input anyone with
write access to it could forge, so it is never obeyed blindly: the registry uses a cached
entry point only while the distribution's own ``entry_points.txt`` still declares it, and a
cached name only if it points at a top-level attribute of a module in its plugin's own
package (never ``pkg.mod:os.system``); anything else rebuilds it.
At most :data:`KEEP_FILES` cache files (one per interpreter and ``sys.path``) are kept; the
least recently used ones are deleted.

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

FORMAT = 3  # 1 was JSON; 3 records where each entry point is declared
#: Cache files kept in the directory (the most recently used ones).
KEEP_FILES = 8
_PREFIX = "discovery-"


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
        self.path = os.path.join(directory, f"{_PREFIX}{zlib.crc32(key):08x}.cache")
        # Taken before discovery, so an install during discovery makes the entry stale.
        self._fingerprint = _fingerprint()
        #: Why the last :meth:`load` refused a file with a valid checksum (``None``: it did
        #: not, or the file was merely absent or stale).
        self.problem: str | None = None

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
        if not _well_formed(data):
            self.problem = "its checksum is valid but its structure is not what rlmodules writes"
            return None
        try:
            os.utime(self.path)  # recently used: pruning keeps it
        except OSError:
            pass
        return data

    def remove(self) -> None:
        """Delete the file (never raise: an unwritable directory only costs speed)."""
        try:
            os.unlink(self.path)
        except OSError:
            pass

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
            return
        _prune(os.path.dirname(self.path))


def _prune(directory: str) -> None:
    """Delete all but the :data:`KEEP_FILES` most recently used cache files."""
    try:
        names = [n for n in os.listdir(directory)
                 if n.startswith(_PREFIX) and n.endswith(".cache")]
        if len(names) <= KEEP_FILES:
            return
        paths = sorted((os.path.join(directory, n) for n in names), key=_mtime_or_zero)
        for path in paths[:-KEEP_FILES]:
            os.unlink(path)
    except OSError:
        pass


def _mtime_or_zero(path: str) -> int:
    return _mtime(path) or 0


def _is_rows(value: Any, widths: tuple[int, ...], types: tuple[type, ...]) -> bool:
    """A list of lists, each as long as one of ``widths``, every item one of ``types``."""
    return isinstance(value, list) and all(
        isinstance(row, list) and len(row) in widths
        and all(isinstance(item, types) for item in row)
        for row in value
    )


def _well_formed(data: dict[str, Any]) -> bool:
    """Exactly the shape :meth:`DiscoveryCache.save` writes (a forged or damaged file
    that passes the checksum is rebuilt rather than crashing every later process)."""
    plugins = data.get("plugins")
    if not _is_rows(data.get("entry_points"), (5,), (str, type(None))) or not isinstance(
        plugins, dict
    ):
        return False
    return all(
        isinstance(name, str) and isinstance(entry, dict)
        and isinstance(entry.get("value"), str)
        and _is_rows(entry.get("files"), (2,), (str, int, type(None)))
        and _is_rows(entry.get("records"), (4,), (str,))
        and _is_rows(entry.get("aliases"), (3,), (str,))
        for name, entry in plugins.items()
    )
