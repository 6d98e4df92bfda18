"""Name resolution: plain and qualified names, aliases, conflicts, did-you-mean.

The tables map each kind's plain names to the records that give them. They know nothing of
pluggy or entry points: loading fills them, listing reads them.
"""

from __future__ import annotations

import warnings

from rlmodules.errors import AmbiguousNameError, PluginError, UnknownNameError, did_you_mean

from ._discovery import normalise
from ._imports import import_object
from ._records import KINDS, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

    from ._failures import Failures

__all__ = ["BUILTIN_PLUGIN", "KNOWN_PROVIDERS", "Names", "check_kind", "is_builtin", "winner"]

#: The entry-point name (and distribution) of the built-in plugin; it always loads.
BUILTIN_PLUGIN = "rlmodules"

#: Names that well-known plugin packages provide: used only to tell a user what to install.
KNOWN_PROVIDERS: dict[str, str] = {
    "lstm": "rlmodules-lstm",
    "tiny_atari_cnn": "rlmodules-cnn",
    "mobilenet_v2": "rlmodules-mobilenet",
    "onnx": "rlmodules-onnx",
}


class Names:
    """Each kind's plain names → their records and aliases, and what a name resolves to."""

    def __init__(self, failures: Failures) -> None:
        self.records: dict[str, dict[str, list[Record]]] = {k: {} for k in KINDS}
        self.aliases: dict[str, dict[str, list[Record]]] = {k: {} for k in KINDS}
        #: ``(kind, ref)`` → the object it resolved to: later calls cost one dict lookup.
        #: Cleared (never replaced) whenever the tables change.
        self.resolved: dict[tuple[str, Any], Any] = {}
        self._failures = failures  # named in the error for an unknown name
        self._warned_aliases: set[tuple[str, str]] = set()

    # --- changes ------------------------------------------------------------------------------
    def add(self, records: list[Record], aliases: list[Record]) -> None:
        for rec in records:
            self.records[rec.kind].setdefault(rec.name, []).append(rec)
        for rec in aliases:
            self.aliases[rec.kind].setdefault(rec.name, []).append(rec)
        self.resolved.clear()

    def drop(self, plugin: str) -> None:
        """Remove every record and alias of ``plugin``."""
        for table in self._tables():
            for item, recs in list(table.items()):
                kept = [r for r in recs if r.plugin != plugin]
                if kept:
                    table[item] = kept
                else:
                    del table[item]
        self.resolved.clear()

    def clear(self) -> None:
        for table in self._tables():
            table.clear()
        self.resolved.clear()

    def _tables(self) -> tuple[dict[str, list[Record]], ...]:
        return (*self.records.values(), *self.aliases.values())

    # --- lookups ------------------------------------------------------------------------------
    def resolve(self, kind: str, ref: str) -> Any:
        """The object a registered name (plain or qualified) stands for, imported if lazy."""
        rec = self.find(kind, ref)
        if not isinstance(rec.target, str):
            return rec.target
        try:
            return import_object(rec.target, what=f"{kind} {rec.qualified_name!r}",
                                 registered=True)
        except UnknownNameError as exc:
            where = f" (distribution {rec.distribution} {rec.version})" if rec.distribution else ""
            raise PluginError(
                f"{kind} {rec.qualified_name!r}{where} points to {rec.target!r}, which cannot "
                f"be loaded: {exc}. Reinstall the plugin, or block it with "
                f"RLMODULES_BLOCK={rec.plugin}"
            ) from exc

    def find(self, kind: str, ref: str, seen: tuple[str, ...] = ()) -> Record:
        """The one record ``ref`` means, following aliases (raises if none or several)."""
        plugin, slash, name = ref.rpartition("/")
        table = self.records[kind]
        if slash:
            for rec in table.get(name, ()):
                if rec.plugin == plugin:
                    return rec
            for alias in self.aliases[kind].get(name, ()):
                if alias.plugin == plugin:
                    return self._follow_alias(kind, alias, seen)
            raise self._unknown(kind, ref, name)
        recs = table.get(ref)
        if recs:
            return winner(kind, ref, recs)
        aliases = self.aliases[kind].get(ref)
        if aliases:
            return self._follow_alias(kind, winner(kind, ref, aliases), seen)
        raise self._unknown(kind, ref, ref)

    def provides(self, kind: str, name: str, plugin: str) -> bool:
        """Whether ``plugin`` registered the plain ``name`` of ``kind``."""
        return any(r.plugin == plugin for r in self.records[kind].get(name, ()))

    def name_of(self, kind: str, obj: Any) -> str | None:
        """The qualified name ``obj`` (or its import path) is registered under, or ``None``."""
        path = f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', '')}"
        for recs in self.records[kind].values():
            for rec in recs:
                if rec.target is obj or rec.target == path:
                    return rec.qualified_name
        return None

    def _follow_alias(self, kind: str, alias: Record, seen: tuple[str, ...]) -> Record:
        if alias.name in seen:
            chain = " -> ".join((*seen, alias.name))
            raise PluginError(
                f"{kind} aliases form a cycle: {chain} (declared by plugin {alias.plugin!r} "
                f"in rlmodules_aliases); an alias must end at a registered name. Fix or block "
                f"the plugin (RLMODULES_BLOCK={alias.plugin})"
            )
        if (kind, alias.name) not in self._warned_aliases:
            self._warned_aliases.add((kind, alias.name))
            warnings.warn(
                f"{kind} name {alias.name!r} is deprecated (renamed by plugin "
                f"{alias.plugin!r}); use {alias.target!r} instead",
                DeprecationWarning,
                stacklevel=6 + len(seen),  # the caller of rlmodules.registry.get
            )
        return self.find(kind, alias.target, (*seen, alias.name))

    def _unknown(self, kind: str, ref: str, name: str) -> UnknownNameError:
        failures = self._failures.items
        known = sorted({*self.records[kind], *self.aliases[kind]})
        message = f"unknown {kind} name {ref!r}.{did_you_mean(name, known)}"
        message += f" Installed {kind} names: {', '.join(known) or '(none)'}."
        provider = KNOWN_PROVIDERS.get(name)
        broken = [f for f in failures if normalise(f.distribution or "") ==
                  normalise(provider or "-")]
        if broken:
            message += (
                f" {name!r} is provided by {provider}, which is installed but failed to load: "
                f"{broken[0].message}."
            )
        elif provider is not None:
            message += f" {name!r} is provided by a plugin: `pip install {provider}`."
        elif failures:
            names = ", ".join(repr(f.plugin) for f in failures)
            message += f" Plugins that failed to load and may provide it: {names}."
        message += f" List what exists with `rlmodules list {kind}`"
        message += "; see `rlmodules doctor` for broken plugins." if failures else "."
        return UnknownNameError(message)


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`KINDS`, else an error with a did-you-mean."""
    if kind not in KINDS:
        raise UnknownNameError(
            f"unknown registry kind {kind!r};{did_you_mean(str(kind), KINDS)} expected one "
            f"of {', '.join(KINDS)}"
        )
    return kind


def is_builtin(plugin: str, dist: str | None) -> bool:
    """Whether ``plugin`` of distribution ``dist`` is rlmodules' own built-in plugin."""
    return plugin == BUILTIN_PLUGIN and normalise(dist or BUILTIN_PLUGIN) == BUILTIN_PLUGIN


def winner(kind: str, ref: str, recs: list[Record]) -> Record:
    """The one record a plain name means: the only one, or one override of a built-in."""
    if len(recs) == 1:
        return recs[0]
    overrides = [r for r in recs if r.status == "override"]
    if len(overrides) == 1 and all(
        is_builtin(r.plugin, r.distribution) for r in recs if r.status != "override"
    ):
        return overrides[0]
    choices = ", ".join(
        f"{r.qualified_name!r}" + (f" ({r.distribution} {r.version})" if r.distribution else "")
        for r in recs
    )
    message = (
        f"{kind} name {ref!r} is provided by {len(recs)} plugins: {choices}. Use a qualified "
        f"name to choose one (e.g. {recs[0].qualified_name!r}), or uninstall or block one "
        f"(RLMODULES_BLOCK=<plugin>)."
    )
    if any(is_builtin(r.plugin, r.distribution) for r in recs):
        message += (
            " A plugin that means to replace the built-in wraps its target in "
            "rlmodules.registry.override(...)."
        )
    raise AmbiguousNameError(message)
