"""Reading the ``rlmodules`` entry-point group with importlib-metadata (imports no plugin).

Only called when the discovery cache misses: scanning thousands of installed distributions
is the slow part of start-up that the cache exists to skip.
"""

from __future__ import annotations

import importlib
import os
import re
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

__all__ = [
    "EntryPointInfo", "declared", "discover_entry_points", "import_entry_point",
    "installed_version", "normalise",
]


class EntryPointInfo(
    namedtuple("EntryPointInfo", "name value distribution version source", defaults=(None,))
):
    """One entry point (a plugin), with the distribution that provides it; ``value`` is
    ``"pkg.module"`` or ``"pkg.module:attr"``; ``source`` is the distribution's
    ``entry_points.txt`` that declares it (``None`` if unknown), which a cached entry point
    is checked against."""

    __slots__ = ()

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()


def normalise(name: str) -> str:
    """A project or entry-point name compared the way pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def discover_entry_points(group: str) -> list[EntryPointInfo]:
    """All entry points of ``group``, first on ``sys.path`` wins per distribution, sorted.

    Sorted by distribution then name, so plugins load (and report) in a stable order.
    """
    import importlib_metadata

    seen: set[tuple[str, str]] = set()
    found = []
    for ep in importlib_metadata.entry_points(group=group):
        dist = ep.dist.name if ep.dist is not None else None
        key = (normalise(dist or ""), ep.name)
        if key in seen:
            continue
        seen.add(key)
        version = ep.dist.version if ep.dist is not None else None
        base = getattr(ep.dist, "_path", None)  # the .dist-info folder of a distribution
        source = None if base is None else os.path.abspath(
            os.path.join(str(base), "entry_points.txt"))
        found.append(EntryPointInfo(ep.name, ep.value.strip(), dist, version, source))
    return sorted(found, key=lambda i: (normalise(i.distribution or ""), i.name))


def declared(info: EntryPointInfo, group: str) -> bool:
    """Whether ``info.source`` still declares this entry point in ``group`` (what a cached
    entry point must match to be used: reading one small file costs microseconds)."""
    if info.source is None:
        return False
    try:
        with open(info.source, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return False
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            if name.strip() == info.name and value.strip() == info.value:
                return True
    return False


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None`` if it is not installed."""
    import importlib_metadata

    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return None


def import_entry_point(value: str) -> Any:
    """Import ``"pkg.module"`` or ``"pkg.module:attr.sub"`` and return the object it names."""
    module_name, _, attr = value.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for part in attr.strip().split(".") if attr.strip() else ():
        obj = getattr(obj, part)
    return obj
