"""Reading the ``rlmodules`` entry-point group with importlib-metadata (imports nothing)."""

from __future__ import annotations

import attrs
import importlib_metadata

__all__ = ["EntryPointInfo", "discover_entry_points"]


@attrs.frozen
class EntryPointInfo:
    """One entry point, with the distribution that provides it."""

    name: str
    module: str
    attr: str | None
    distribution: str | None
    version: str | None


def discover_entry_points(group: str) -> list[EntryPointInfo]:
    """All entry points of ``group``, one per (distribution, name), in a stable order."""
    seen: set[tuple[str | None, str]] = set()
    found = []
    for ep in importlib_metadata.entry_points(group=group):
        dist = ep.dist.name if ep.dist is not None else None
        key = (dist, ep.name)
        if key in seen:
            continue
        seen.add(key)
        module, _, attr = ep.value.partition(":")
        found.append(
            EntryPointInfo(
                ep.name, module.strip(), attr.strip() or None, dist,
                ep.dist.version if ep.dist is not None else None,
            )
        )
    return sorted(found, key=lambda i: (i.distribution or "", i.name))
