"""The Registry: a pluggy PluginManager plus name → record tables and a resolution cache."""

from __future__ import annotations

import fnmatch
import importlib
import os
import re
import traceback
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import pluggy

from rlmodules import hookspecs
from rlmodules.errors import AmbiguousNameError, PluginError, UnknownNameError, did_you_mean

from ._discovery import EntryPointInfo, discover_entry_points
from ._records import HOOK_KINDS, KINDS, PluginFailure, Record

__all__ = ["Registry", "KNOWN_PROVIDERS", "BUILTIN_DISTRIBUTION"]

BUILTIN_DISTRIBUTION = "rlmodules"

#: Names that well-known plugin packages provide: used only to tell a user what to install.
KNOWN_PROVIDERS: dict[str, str] = {
    "lstm": "rlmodules-lstm",
    "lstm_ppo": "rlmodules-lstm",
    "cnn": "rlmodules-cnn",
    "tiny_atari_cnn": "rlmodules-cnn",
    "mobilenet": "rlmodules-mobilenet",
    "mobilenet_v2": "rlmodules-mobilenet",
}

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _normalise_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


class Registry:
    """Registered modules, catalogs, distributions and checkpoint formats.

    Plugins are loaded on first use (never at import). A plugin that fails is isolated: it
    leaves no registrations behind, is reported once as a warning and kept in ``failures``;
    with ``strict=True`` it raises ``PluginError`` instead.
    """

    def __init__(
        self,
        *,
        autoload: bool | None = None,
        strict: bool | None = None,
        blocked: tuple[str, ...] | None = None,
    ) -> None:
        self.autoload = (
            not _env_flag("RLMODULES_DISABLE_PLUGIN_AUTOLOAD") if autoload is None else autoload
        )
        self.strict = _env_flag("RLMODULES_STRICT") if strict is None else strict
        if blocked is None:
            blocked = tuple(b for b in os.environ.get("RLMODULES_BLOCK", "").split(",") if b)
        self.blocked = frozenset(_normalise_dist(b) for b in blocked)
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._loaded = False
        self._records: dict[str, dict[str, list[Record]]] = {k: {} for k in KINDS}
        self._aliases: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        self._warned_aliases: set[tuple[str, str]] = set()
        self._resolved: dict[tuple[str, str], Any] = {}
        self.failures: list[PluginFailure] = []

    # --- loading --------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's hook relay, for calling decision hooks."""
        self._ensure_loaded()
        return self._pm.hook

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            for info in discover_entry_points(hookspecs.PROJECT_NAME):
                self._load_entry_point(info)

    def _is_blocked(self, info: EntryPointInfo) -> bool:
        return bool({_normalise_dist(info.name), _normalise_dist(info.distribution or "")}
                    & self.blocked)

    def _load_entry_point(self, info: EntryPointInfo) -> None:
        builtin = info.distribution is not None and (
            _normalise_dist(info.distribution) == BUILTIN_DISTRIBUTION
        )
        if not builtin and (not self.autoload or self._is_blocked(info)):
            return
        try:
            plugin = importlib.import_module(info.module)
            for attr in info.attr.split(".") if info.attr else ():
                plugin = getattr(plugin, attr)
        except Exception as exc:  # a broken plugin must never take the others down
            self._fail(info.name, info.distribution, info.version, "import", exc)
            return
        self._add_plugin(plugin, info.name, info.distribution, info.version)

    def _add_plugin(
        self, plugin: Any, name: str, distribution: str | None, version: str | None
    ) -> None:
        if self._pm.has_plugin(name):
            raise PluginError(
                f"a plugin named {name!r} is already registered; choose another name or "
                f"unregister it first with rlmodules.registry.unregister_plugin({name!r})"
            )
        try:
            self._pm.register(plugin, name=name)
        except Exception as exc:  # pluggy validation errors (bad hook signature, ...)
            self._fail(name, distribution, version, "invalid", exc)
            return
        try:
            records, aliases = self._collect(plugin, name, distribution, version)
        except Exception as exc:
            self._pm.unregister(name=name)
            stage = "invalid" if isinstance(exc, PluginError) else "hook"
            self._fail(name, distribution, version, stage, exc)
            return
        for rec in records:
            self._records[rec.kind].setdefault(rec.name, []).append(rec)
        for kind, table in aliases.items():
            self._aliases[kind].update(table)
        self._resolved.clear()

    def _collect(
        self, plugin: Any, name: str, distribution: str | None, version: str | None
    ) -> tuple[list[Record], dict[str, dict[str, str]]]:
        """Call only this plugin's registration hooks; all or nothing."""
        records: list[Record] = []
        aliases: dict[str, dict[str, str]] = {}
        for caller in self._pm.get_hookcallers(plugin) or ():
            impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
            for impl in impls:
                if caller.name in HOOK_KINDS:
                    kind = HOOK_KINDS[caller.name]
                    result = impl.function()
                    for item_name, target in self._check_mapping(name, caller.name, result):
                        records.append(Record(kind, item_name, target, name, distribution, version))
                elif caller.name == "rlmodules_aliases":
                    result = impl.function()
                    for kind, table in self._check_mapping(name, caller.name, result):
                        if kind not in KINDS:
                            raise PluginError(
                                f"plugin {name!r}: rlmodules_aliases() names unknown kind "
                                f"{kind!r}; expected one of {', '.join(KINDS)}"
                            )
                        aliases.setdefault(kind, {}).update(dict(table))
        return records, aliases

    @staticmethod
    def _check_mapping(plugin: str, hook: str, result: Any) -> Iterator[tuple[str, Any]]:
        if result is None:
            return iter(())
        if not isinstance(result, Mapping):
            raise PluginError(
                f"plugin {plugin!r}: {hook}() must return a dict of name -> target, "
                f"got {type(result).__name__}"
            )
        for key in result:
            if not isinstance(key, str) or not _NAME_RE.match(key) or "/" in key:
                raise PluginError(
                    f"plugin {plugin!r}: {hook}() returned invalid name {key!r}; names are "
                    f"identifiers like 'lstm' or 'tiny_atari_cnn' (no '/' or ':')"
                )
        return iter(result.items())

    def _fail(
        self, plugin: str, dist: str | None, version: str | None, stage: str, exc: BaseException
    ) -> None:
        tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
        failure = PluginFailure(plugin, dist, version, stage, f"{type(exc).__name__}: {exc}", tail)
        self.failures.append(failure)
        where = f" (from {dist} {version})" if dist else ""
        message = f"rlmodules plugin {plugin!r}{where} failed ({stage}): {failure.message}"
        if self.strict:
            raise PluginError(message) from exc
        warnings.warn(message + " -- run `rlmodules doctor` for details", RuntimeWarning,
                      stacklevel=4)

    # --- in-process plugins ---------------------------------------------------------------
    def register_plugin(self, plugin: Any, name: str | None = None) -> str:
        """Register an object or module carrying ``@rlmodules.hookimpl`` functions."""
        self._ensure_loaded()
        name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin):x}"
        failures = len(self.failures)
        self._add_plugin(plugin, name, None, None)
        if len(self.failures) > failures:
            failure = self.failures[-1]
            raise PluginError(f"cannot register plugin {name!r}: {failure.message}")
        return name

    def unregister_plugin(self, plugin_or_name: Any) -> None:
        self._ensure_loaded()
        name = plugin_or_name if isinstance(plugin_or_name, str) else self._pm.get_name(
            plugin_or_name)
        if name is None or not self._pm.has_plugin(name):
            raise UnknownNameError(f"no plugin named {plugin_or_name!r} is registered")
        self._pm.unregister(name=name)
        for table in self._records.values():
            for item, recs in list(table.items()):
                kept = [r for r in recs if r.plugin != name]
                if kept:
                    table[item] = kept
                else:
                    del table[item]
        self._resolved.clear()

    # --- queries --------------------------------------------------------------------------
    def records(self, kind: str | None = None, pattern: str | None = None) -> list[Record]:
        """All records, optionally of one kind and matching a shell-style pattern."""
        self._ensure_loaded()
        kinds = KINDS if kind is None else (self._check_kind(kind),)
        out = []
        for k in kinds:
            for name, recs in sorted(self._records[k].items()):
                if pattern and not (
                    fnmatch.fnmatchcase(name, pattern)
                    or any(fnmatch.fnmatchcase(r.qualified_name, pattern) for r in recs)
                ):
                    continue
                status = "conflict" if len(recs) > 1 else None
                out.extend(r if status is None else _with_status(r, status) for r in recs)
        return out

    def get(self, kind: str, ref: Any) -> Any:
        """Resolve a plain, qualified (``plugin/name``) or import-path name; objects pass."""
        if not isinstance(ref, str):
            return ref
        try:
            return self._resolved[(kind, ref)]
        except KeyError:
            pass
        obj = self._resolve(self._check_kind(kind), ref)
        self._resolved[(kind, ref)] = obj
        return obj

    def record(self, kind: str, ref: str) -> Record:
        """The record a name resolves to (raises like :meth:`get`)."""
        self._ensure_loaded()
        kind = self._check_kind(kind)
        if ":" in ref:
            raise UnknownNameError(f"{ref!r} is an import path, not a registered {kind} name")
        return self._find_record(kind, ref)

    def name_of(self, kind: str, obj: Any) -> str | None:
        """The qualified registered name of ``obj`` (``"plugin/name"``), or ``None``."""
        self._ensure_loaded()
        path = f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', '')}"
        for recs in self._records[self._check_kind(kind)].values():
            for rec in recs:
                if rec.target is obj or rec.target == path:
                    return rec.qualified_name
        return None

    # --- resolution internals ---------------------------------------------------------------
    @staticmethod
    def _check_kind(kind: str) -> str:
        if kind not in KINDS:
            raise UnknownNameError(
                f"unknown registry kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
        return kind

    def _resolve(self, kind: str, ref: str) -> Any:
        if ":" in ref:
            return _import_path(ref, what=f"{kind} import path")
        self._ensure_loaded()
        rec = self._find_record(kind, ref)
        if not isinstance(rec.target, str):
            return rec.target
        try:
            return _import_path(rec.target, what=f"{kind} {rec.qualified_name!r}")
        except UnknownNameError as exc:
            where = f" (distribution {rec.distribution} {rec.version})" if rec.distribution else ""
            raise PluginError(
                f"{kind} {rec.qualified_name!r} of plugin {rec.plugin!r}{where} points to "
                f"{rec.target!r}, which cannot be loaded: {exc}. Reinstall the plugin or "
                f"block it with RLMODULES_BLOCK={rec.plugin}"
            ) from exc

    def _find_record(self, kind: str, ref: str) -> Record:
        table = self._records[kind]
        if "/" in ref:
            plugin, _, name = ref.partition("/")
            for rec in table.get(name, ()):
                if rec.plugin == plugin:
                    return rec
            return self._unknown(kind, ref, name)
        recs = table.get(ref)
        if not recs:
            new = self._aliases[kind].get(ref)
            if new is not None:
                if (kind, ref) not in self._warned_aliases:
                    self._warned_aliases.add((kind, ref))
                    warnings.warn(
                        f"{kind} name {ref!r} is deprecated; use {new!r}", DeprecationWarning,
                        stacklevel=5,
                    )
                return self._find_record(kind, new)
            return self._unknown(kind, ref, ref)
        if len(recs) > 1:
            choices = ", ".join(repr(r.qualified_name) for r in recs)
            raise AmbiguousNameError(
                f"{kind} name {ref!r} is provided by {len(recs)} plugins; use a qualified "
                f"name to choose one: {choices}"
            )
        return recs[0]

    def _unknown(self, kind: str, ref: str, name: str) -> Any:
        known = sorted(self._records[kind])
        message = f"unknown {kind} name {ref!r}.{did_you_mean(name, known)}"
        message += f" Installed {kind} names: {', '.join(known) or '(none)'}."
        if name in KNOWN_PROVIDERS:
            message += f" {name!r} is provided by `pip install {KNOWN_PROVIDERS[name]}`."
        if self.failures:
            broken = ", ".join(repr(f.plugin) for f in self.failures)
            message += f" Broken plugins that may provide it: {broken} (see `rlmodules doctor`)."
        message += f" List what exists with `rlmodules list {kind}`."
        raise UnknownNameError(message)


def _with_status(rec: Record, status: str) -> Record:
    import attrs

    return attrs.evolve(rec, status=status)


def _import_path(path: str, *, what: str) -> Any:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise UnknownNameError(f"{what} {path!r} must look like 'package.module:Attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownNameError(f"{what} {path!r}: cannot import {module_name!r} ({exc})") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UnknownNameError(
                f"{what} {path!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    return obj
