"""Listing what is registered, with each record's status, without importing any target."""

from __future__ import annotations

import fnmatch

from rlmodules.errors import AmbiguousNameError

from ._names import winner
from ._records import KINDS, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from collections.abc import Iterable

    from ._discovery import EntryPointInfo
    from ._names import Names

__all__ = ["conflicts", "listed", "plugins"]


def listed(names: Names, kinds: Iterable[str], pattern: str | None) -> list[Record]:
    """Records of ``kinds`` matching a shell pattern (qualified names if it has a ``/``),
    sorted by kind, name and plugin; a registered name hides an alias of the same name."""
    out = []
    for k in kinds:
        records, aliases = names.records[k], names.aliases[k]
        for table in (records, aliases):
            for name, recs in sorted(table.items()):
                if table is aliases and name in records:
                    continue  # a registered name always wins over an alias
                if pattern and not any(
                    fnmatch.fnmatchcase(r.qualified_name if "/" in pattern else name, pattern)
                    for r in recs
                ):
                    continue
                out.extend(_with_statuses(recs))
    return sorted(out, key=lambda r: (KINDS.index(r.kind), r.name, r.plugin))


def conflicts(records: Iterable[Record]) -> dict[tuple[str, str], list[Record]]:
    """``(kind, name)`` → the records of every ambiguous plain name among ``records``."""
    out: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        if r.status == "conflict":
            out.setdefault((r.kind, r.name), []).append(r)
    return out


def plugins(
    names: Names, pending: Iterable[EntryPointInfo]
) -> list[tuple[str, str | None, str | None]]:
    """``(plugin, distribution, version)`` of every plugin with a record, or still to be
    imported (``pending``), sorted."""
    seen: dict[str, tuple[str, str | None, str | None]] = {}
    for table in (*names.records.values(), *names.aliases.values()):
        for recs in table.values():
            for r in recs:
                seen.setdefault(r.plugin, (r.plugin, r.distribution, r.version))
    for info in pending:
        seen.setdefault(info.name, (info.name, info.distribution, info.version))
    return sorted(seen.values())


def _with_statuses(recs: list[Record]) -> list[Record]:
    if len(recs) == 1:
        return recs
    try:
        chosen = winner(recs[0].kind, recs[0].name, recs)
    except AmbiguousNameError:
        return [r._replace(status="conflict") for r in recs]
    return [r if r is chosen else r._replace(status="overridden") for r in recs]
