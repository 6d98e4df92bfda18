"""The Registry: plugins loaded from entry points, name → record tables, name resolution.

Listing names with a warm discovery cache imports neither pluggy, importlib-metadata, the
plugins nor their contributions: records come from the cache. Plugins are imported (and
registered with pluggy) when a decision hook is called or a plugin is added or removed.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import warnings

from rlmodules.errors import (
    AmbiguousNameError,
    PluginError,
    RLModulesError,
    UnknownNameError,
    did_you_mean,
)

from ._cache import DiscoveryCache, default_cache_dir, file_stamps, files_unchanged
from ._discovery import (
    EntryPointInfo,
    declared,
    discover_entry_points,
    import_entry_point,
    normalise,
)
from ._imports import import_object
from ._records import KINDS, PluginFailure, PluginWarning, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from collections.abc import Callable
    from typing import Any

__all__ = ["BUILTIN_PLUGIN", "KNOWN_PROVIDERS", "Registry"]

#: The entry-point name (and distribution) of the built-in plugin; it always loads.
BUILTIN_PLUGIN = "rlmodules"
_BUILTIN_MODULE = "rlmodules.plugins.builtin"
_GROUP = "rlmodules"

#: Names that well-known plugin packages provide: used only to tell a user what to install.
KNOWN_PROVIDERS: dict[str, str] = {
    "lstm": "rlmodules-lstm",
    "tiny_atari_cnn": "rlmodules-cnn",
    "mobilenet_v2": "rlmodules-mobilenet",
    "onnx": "rlmodules-onnx",
}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


class Registry:
    """Registered modules, catalogs, distributions and checkpoint formats.

    Plugins are discovered on first use, never at construction. A plugin that fails is
    isolated: it leaves no registrations, is reported once (:class:`PluginWarning`) and kept
    in :attr:`failures`; ``strict=True`` raises :class:`~rlmodules.PluginError` instead.
    Arguments left ``None`` come from the environment: ``RLMODULES_DISABLE_PLUGIN_AUTOLOAD``,
    ``RLMODULES_STRICT``, ``RLMODULES_BLOCK`` (comma-separated entry-point or distribution
    names), ``RLMODULES_NO_CACHE`` and ``RLMODULES_CACHE_DIR``.

    Example::

        reg = Registry(strict=True, blocked=("rlmodules-cnn",))
        reg.get("module", "ppo")
    """

    def __init__(
        self,
        *,
        autoload: bool | None = None,
        strict: bool | None = None,
        blocked: tuple[str, ...] | None = None,
        use_cache: bool | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.autoload = (
            not _env_flag("RLMODULES_DISABLE_PLUGIN_AUTOLOAD") if autoload is None else autoload
        )
        self.strict = _env_flag("RLMODULES_STRICT") if strict is None else strict
        if blocked is None:
            blocked = tuple(os.environ.get("RLMODULES_BLOCK", "").split(","))
        self.blocked = frozenset(normalise(b.strip()) for b in blocked if b.strip())
        self.use_cache = not _env_flag("RLMODULES_NO_CACHE") if use_cache is None else use_cache
        self.cache_dir = cache_dir or default_cache_dir()
        #: Whether the last discovery was answered by the cache (``None``: not yet run).
        self.cache_hit: bool | None = None
        #: Why a cache file was refused and rebuilt although its checksum was valid.
        self.cache_problem: str | None = None
        self.failures: list[PluginFailure] = []
        #: Entry points not loaded, with why: ``"blocked"`` or ``"autoload disabled"``.
        self.skipped: list[tuple[EntryPointInfo, str]] = []
        self._pm: Any = None
        self._loaded = False
        self._pending: dict[str, EntryPointInfo] = {}
        self._entry_plugins: dict[str, EntryPointInfo] = {}
        self._records: dict[str, dict[str, list[Record]]] = {k: {} for k in KINDS}
        self._aliases: dict[str, dict[str, list[Record]]] = {k: {} for k in KINDS}
        self._warned_aliases: set[tuple[str, str]] = set()
        self._resolved: dict[tuple[str, str], Any] = {}
        self._failed_decisions: set[tuple[str, str]] = set()

    # --- loading ------------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's hook relay, for calling decision hooks (imports every plugin)."""
        return self._plugin_manager().hook

    def _plugin_manager(self) -> Any:
        self._ensure_loaded()
        pm = self._manager()
        for name, info in list(self._pending.items()):
            del self._pending[name]
            try:
                plugin = import_entry_point(info.value)
            except BaseException as exc:  # a broken plugin never takes the others down,
                _reraise_interrupt(exc)  # not even with sys.exit()
                self._drop(name)
                self._fail(name, info.distribution, info.version, "import", exc)
                continue
            try:
                pm.register(plugin, name=name)
            except Exception as exc:
                self._drop(name)
                self._fail(name, info.distribution, info.version, "invalid", exc)
        return pm

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._reset()
        cache = DiscoveryCache(self.cache_dir) if self.use_cache else None
        data = cache.load() if cache is not None else None
        if data is not None and not _matches_installed(data):
            data = None  # forged or outdated: rebuilt, never obeyed
            self.cache_problem = ("it names entry points or targets that the installed "
                                  "distributions do not declare")
        elif cache is not None and cache.problem:
            self.cache_problem = cache.problem
        self.cache_hit = data is not None
        if data is not None:
            infos = [EntryPointInfo(*row) for row in data["entry_points"]]
            cached: dict[str, Any] = data["plugins"]
        else:
            infos, cached = discover_entry_points(_GROUP), {}
        keep: dict[str, Any] = {}
        dirty = data is None
        for info in self._with_builtin(infos):
            entry = cached.get(info.name)
            if not self._should_load(info):
                if entry is not None:
                    keep[info.name] = entry
            elif entry is not None and entry["value"] == info.value and files_unchanged(
                entry["files"]
            ):
                self._commit(_records_from_cache(info, entry), _aliases_from_cache(info, entry))
                self._pending[info.name] = info
                keep[info.name] = entry
            else:
                dirty = True
                loaded = self._load_entry_point(info)
                if loaded is not None:
                    keep[info.name] = loaded
        self._loaded = True
        if cache is not None and dirty:
            cache.save(infos, keep)

    def _reset(self) -> None:
        self._pm = None
        self.failures, self.skipped, self._pending, self._entry_plugins = [], [], {}, {}
        for table in (*self._records.values(), *self._aliases.values()):
            table.clear()
        self._resolved.clear()
        self._failed_decisions.clear()

    def _manager(self) -> Any:
        """The pluggy PluginManager, created on first need (listing never needs it)."""
        if self._pm is None:
            import pluggy
            from rlmodules import hookspecs

            self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            self._pm.add_hookspecs(hookspecs)
        return self._pm

    @staticmethod
    def _with_builtin(infos: list[EntryPointInfo]) -> list[EntryPointInfo]:
        """The entry points, plus the built-in plugin when rlmodules runs uninstalled."""
        if any(info.name == BUILTIN_PLUGIN for info in infos):
            return infos
        from rlmodules import __version__

        return [EntryPointInfo(BUILTIN_PLUGIN, _BUILTIN_MODULE, "rlmodules", __version__), *infos]

    def _should_load(self, info: EntryPointInfo) -> bool:
        if _is_builtin(info.name, info.distribution):
            return True
        if not self.autoload:
            self.skipped.append((info, "autoload disabled"))
            return False
        if {normalise(info.name), normalise(info.distribution or "")} & self.blocked:
            self.skipped.append((info, "blocked"))
            return False
        other = self._entry_plugins.get(info.name)
        if other is not None:
            self._fail(
                info.name, info.distribution, info.version, "invalid",
                PluginError(
                    f"entry point name {info.name!r} is also used by distribution "
                    f"{other.distribution!r}; plugin names must be unique: rename one entry "
                    f"point or block one distribution with RLMODULES_BLOCK=<distribution>"
                ),
            )
            return False
        self._entry_plugins[info.name] = info
        return True

    def _load_entry_point(self, info: EntryPointInfo) -> dict[str, Any] | None:
        """Import and register one plugin now; the cache entry for it, or ``None``."""
        before = set(sys.modules)
        try:
            plugin = import_entry_point(info.value)
        except BaseException as exc:  # a broken plugin never takes the others down,
            _reraise_interrupt(exc)  # not even with sys.exit()
            self._fail(info.name, info.distribution, info.version, "import", exc)
            return None
        added = self._add(plugin, info.name, info.distribution, info.version, raise_errors=False)
        if not added:
            return None
        records, aliases = added
        if not all(isinstance(r.target, str) and _inside(r.target, info.module) for r in records):
            # Objects cannot be cached, and a cached target outside the plugin's own package
            # could not be told from a forged one: this plugin is imported in every process.
            return None
        return {
            "value": info.value,
            "files": file_stamps(_source_files(info.module, before)),
            "records": [[r.kind, r.name, r.target, r.status] for r in records],
            "aliases": [[a.kind, a.name, a.target] for a in aliases],
        }

    def _add(
        self, plugin: Any, name: str, dist: str | None, version: str | None, *, raise_errors: bool
    ) -> tuple[list[Record], list[Record]] | None:
        """Register ``plugin`` with pluggy and take its records: all or nothing."""
        from ._collect import collect

        pm = self._manager()
        stage = "invalid"
        try:
            pm.register(plugin, name=name)
            stage = "hook"
            records, alias_rows = collect(pm, plugin, name, dist, version)
        except BaseException as exc:
            _reraise_interrupt(exc)
            if pm.get_plugin(name) is plugin:
                pm.unregister(name=name)
            if isinstance(exc, PluginError):
                stage = "invalid"
            if raise_errors:
                if isinstance(exc, PluginError):
                    raise
                raise PluginError(f"cannot register plugin {name!r} ({stage}): {exc}") from exc
            self._fail(name, dist, version, stage, exc)
            return None
        aliases = [Record(k, old, new, name, dist, version, "alias") for k, old, new in alias_rows]
        self._commit(records, aliases)
        return records, aliases

    def _commit(self, records: list[Record], aliases: list[Record]) -> None:
        for rec in records:
            self._records[rec.kind].setdefault(rec.name, []).append(rec)
        for rec in aliases:
            self._aliases[rec.kind].setdefault(rec.name, []).append(rec)
        self._resolved.clear()

    def _drop(self, plugin: str) -> None:
        for table in (*self._records.values(), *self._aliases.values()):
            for item, recs in list(table.items()):
                kept = [r for r in recs if r.plugin != plugin]
                if kept:
                    table[item] = kept
                else:
                    del table[item]
        self._resolved.clear()

    def _fail(
        self, plugin: str, dist: str | None, version: str | None, stage: str, exc: BaseException
    ) -> None:
        import traceback

        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        tail = "".join(lines[-4:]).rstrip()
        failure = PluginFailure(plugin, dist, version, stage, f"{type(exc).__name__}: {exc}", tail)
        where = f" (distribution {dist} {version})" if dist else ""
        what = {"import": "failed to import", "hook": "raised in a registration hook",
                "invalid": "is invalid", "decision": "failed in a decision hook"}[stage]
        message = f"rlmodules plugin {plugin!r}{where} {what}: {failure.message}"
        if self.strict:
            raise PluginError(message + " (strict mode: RLMODULES_STRICT=1)") from exc
        self.failures.append(failure)
        left_out = "its answer was skipped" if stage == "decision" else "it was left out"
        warnings.warn(
            f"{message}; {left_out}. Run `rlmodules doctor` for details.", PluginWarning,
            stacklevel=2,
        )

    # --- decision hooks -----------------------------------------------------------------------
    def decide(
        self, hook: str, convert: Callable[[Any, str], Any], **kwargs: Any
    ) -> tuple[Any, str | None]:
        """Ask each implementation of decision hook ``hook`` in turn (pluggy's order:
        ``tryfirst`` first, the built-in ``trylast`` answer last): the first answer that is
        not ``None``, as ``convert(answer, plugin)`` makes it usable, with the plugin that
        gave it (``(None, None)`` if none answers).

        Asking one implementation at a time isolates them: one that raises (even
        ``sys.exit``), asks for an argument the hook does not give, or answers something
        ``convert`` rejects (by raising) is reported like a failing plugin (a
        :class:`PluginWarning`, ``rlmodules doctor``; strict mode raises) and skipped, so
        the next plugin decides. An ``RLModulesError`` the hook raises itself is its
        deliberate verdict on the input (e.g. an unsupported config) and propagates.
        """
        caller = getattr(self.hook, hook)
        for impl in reversed(caller.get_hookimpls()):
            try:
                if impl.hookwrapper or impl.wrapper:
                    raise UnusableAnswer(
                        f"{hook} is a decision hook, asked one implementation at a time; it "
                        f"cannot be a wrapper (remove wrapper=True)"
                    )
                missing = [arg for arg in impl.argnames if arg not in kwargs]
                if missing:
                    raise UnusableAnswer(
                        f"{hook} implementation asks for {missing}; it receives "
                        f"{sorted(kwargs)}"
                    )
                answer = impl.function(*(kwargs[arg] for arg in impl.argnames))
                if answer is None:
                    continue
                try:
                    answer = convert(answer, impl.plugin_name)
                except Exception as exc:  # an unusable answer is the plugin's fault
                    raise UnusableAnswer(f"{hook}() returned {answer!r:.100}: {exc}") from exc
            except RLModulesError:
                raise  # the plugin rejects this input on purpose: the user's error to see
            except BaseException as exc:
                _reraise_interrupt(exc)
                if (impl.plugin_name, hook) not in self._failed_decisions or self.strict:
                    info = self._entry_plugins.get(impl.plugin_name)
                    dist, version = (info.distribution, info.version) if info else (None, None)
                    self._fail(impl.plugin_name, dist, version, "decision", exc)
                    self._failed_decisions.add((impl.plugin_name, hook))  # reported once
                continue
            return answer, impl.plugin_name
        return None, None

    def get_for_plugin(self, kind: str, ref: Any, plugin: str | None) -> Any:
        """Resolve a name a plugin's decision hook returned: ``plugin``'s own ``ref`` if it
        registered one (a plain ``"beta"`` from plugin X means X's), else as :meth:`get`."""
        if plugin is not None and isinstance(ref, str) and "/" not in ref and ":" not in ref:
            self._ensure_loaded()
            if any(r.plugin == plugin for r in self._records[self._check_kind(kind)].get(ref, ())):
                return self.get(kind, f"{plugin}/{ref}")
        return self.get(kind, ref)

    # --- in-process plugins -------------------------------------------------------------------
    def register_plugin(self, plugin: Any, name: str | None = None) -> str:
        """Register an object or module carrying ``@rlmodules.hookimpl`` functions.

        Raises :class:`~rlmodules.PluginError` (and registers nothing) when a hook raises or
        returns bad data, or the name is taken. Returns the plugin name used in qualified
        names (``"<plugin>/<name>"``).
        """
        pm = self._plugin_manager()
        if name is None:
            name = getattr(plugin, "__name__", None) or type(plugin).__name__
        if pm.has_plugin(name):
            raise PluginError(
                f"a plugin named {name!r} is already registered; pass another name, e.g. "
                f"register_plugin(obj, name={name + '_2'!r}), or unregister_plugin({name!r}) first"
            )
        if pm.is_registered(plugin):
            raise PluginError(
                f"plugin object {plugin!r} is already registered as {pm.get_name(plugin)!r}"
            )
        self._add(plugin, name, None, None, raise_errors=True)
        return name

    def unregister_plugin(self, plugin_or_name: Any) -> None:
        """Remove a plugin (by object or name) and everything it registered."""
        pm = self._plugin_manager()
        name = plugin_or_name if isinstance(plugin_or_name, str) else pm.get_name(plugin_or_name)
        if name is None or not pm.has_plugin(name):
            names = ", ".join(sorted(n for n, _ in pm.list_name_plugin()))
            raise UnknownNameError(
                f"no plugin {plugin_or_name!r} is registered; registered plugins: {names}"
            )
        pm.unregister(name=name)
        self._drop(name)

    # --- queries ------------------------------------------------------------------------------
    def records(self, kind: str | None = None, pattern: str | None = None) -> list[Record]:
        """Records of ``kind`` (all if ``None``) matching a shell pattern, sorted by name.

        A pattern with a ``/`` matches qualified names (``"*/ppo"``), else plain names
        (``"lstm*"``).
        """
        self._ensure_loaded()
        kinds = KINDS if kind is None else (self._check_kind(kind),)
        out = []
        for k in kinds:
            for table in (self._records[k], self._aliases[k]):
                for name, recs in sorted(table.items()):
                    if table is self._aliases[k] and name in self._records[k]:
                        continue  # a registered name always wins over an alias
                    if pattern and not any(
                        fnmatch.fnmatchcase(r.qualified_name if "/" in pattern else name, pattern)
                        for r in recs
                    ):
                        continue
                    out.extend(_with_statuses(recs))
        return sorted(out, key=lambda r: (KINDS.index(r.kind), r.name, r.plugin))

    def get(self, kind: str, ref: Any) -> Any:
        """Resolve a plain, qualified (``plugin/name``) or import-path name; objects pass."""
        try:
            return self._resolved[kind, ref]
        except KeyError:
            pass
        except TypeError:  # unhashable object: it is already the thing itself
            return ref
        if not isinstance(ref, str):
            return ref
        obj = self._resolve(self._check_kind(kind), ref)
        self._resolved[kind, ref] = obj
        return obj

    def record(self, kind: str, ref: str) -> Record:
        """The record a registered name resolves to (raises like :meth:`get`)."""
        kind = self._check_kind(kind)
        if ":" in ref:
            raise UnknownNameError(
                f"{ref!r} is an import path, not a registered {kind} name; pass a name like "
                f"'ppo' or 'plugin/ppo' (see `rlmodules list {kind}`)"
            )
        self._ensure_loaded()
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

    def plugins(self) -> list[tuple[str, str | None, str | None]]:
        """``(plugin, distribution, version)`` of every loaded plugin (without importing)."""
        self._ensure_loaded()
        seen: dict[str, tuple[str, str | None, str | None]] = {}
        for table in (*self._records.values(), *self._aliases.values()):
            for recs in table.values():
                for r in recs:
                    seen.setdefault(r.plugin, (r.plugin, r.distribution, r.version))
        for name, info in self._pending.items():
            seen.setdefault(name, (name, info.distribution, info.version))
        return sorted(seen.values())

    def conflicts(self) -> dict[tuple[str, str], list[Record]]:
        """``(kind, name)`` → the records of every plain name that is ambiguous."""
        return {
            (r.kind, r.name): [x for x in self.records(r.kind) if x.name == r.name]
            for r in self.records() if r.status == "conflict"
        }

    # --- resolution internals -----------------------------------------------------------------
    @staticmethod
    def _check_kind(kind: str) -> str:
        if kind not in KINDS:
            raise UnknownNameError(
                f"unknown registry kind {kind!r};{did_you_mean(str(kind), KINDS)} expected one "
                f"of {', '.join(KINDS)}"
            )
        return kind

    def _resolve(self, kind: str, ref: str) -> Any:
        if ":" in ref:
            return import_object(ref, what=f"{kind} import path")
        self._ensure_loaded()
        rec = self._find_record(kind, ref)
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

    def _find_record(self, kind: str, ref: str, seen: tuple[str, ...] = ()) -> Record:
        plugin, slash, name = ref.rpartition("/")
        table = self._records[kind]
        if slash:
            for rec in table.get(name, ()):
                if rec.plugin == plugin:
                    return rec
            for alias in self._aliases[kind].get(name, ()):
                if alias.plugin == plugin:
                    return self._follow_alias(kind, alias, seen)
            raise self._unknown(kind, ref, name)
        recs = table.get(ref)
        if recs:
            return _winner(kind, ref, recs)
        aliases = self._aliases[kind].get(ref)
        if aliases:
            return self._follow_alias(kind, _winner(kind, ref, aliases), seen)
        raise self._unknown(kind, ref, ref)

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
                stacklevel=6 + len(seen),
            )
        return self._find_record(kind, alias.target, (*seen, alias.name))

    def _unknown(self, kind: str, ref: str, name: str) -> UnknownNameError:
        known = sorted({*self._records[kind], *self._aliases[kind]})
        message = f"unknown {kind} name {ref!r}.{did_you_mean(name, known)}"
        message += f" Installed {kind} names: {', '.join(known) or '(none)'}."
        provider = KNOWN_PROVIDERS.get(name)
        broken = [f for f in self.failures if normalise(f.distribution or "") ==
                  normalise(provider or "-")]
        if broken:
            message += (
                f" {name!r} is provided by {provider}, which is installed but failed to load: "
                f"{broken[0].message}."
            )
        elif provider is not None:
            message += f" {name!r} is provided by a plugin: `pip install {provider}`."
        elif self.failures:
            names = ", ".join(repr(f.plugin) for f in self.failures)
            message += f" Plugins that failed to load and may provide it: {names}."
        message += f" List what exists with `rlmodules list {kind}`"
        message += "; see `rlmodules doctor` for broken plugins." if self.failures else "."
        return UnknownNameError(message)


class UnusableAnswer(Exception):
    """A decision hook that cannot be asked, or whose answer cannot be used: a plugin bug,
    isolated like any other (an ``RLModulesError`` a hook raises is a deliberate rejection
    of the input and reaches the user)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _inside(target: str, module: str) -> bool:
    """Whether import path ``target`` lies in the top-level package of ``module``."""
    top = module.partition(".")[0]
    target_module = target.partition(":")[0]
    return target_module == top or target_module.startswith(top + ".")


def _matches_installed(data: dict[str, Any]) -> bool:
    """Whether a cache's entry points are still declared by their distributions and every
    cached name points into its own plugin's package."""
    infos = {row[0]: EntryPointInfo(*row) for row in data["entry_points"]}
    if not all(declared(info, _GROUP) for info in infos.values()):
        return False
    builtin = EntryPointInfo(BUILTIN_PLUGIN, _BUILTIN_MODULE, None, None)  # when uninstalled
    for name, entry in data["plugins"].items():
        info = infos.get(name, builtin if name == BUILTIN_PLUGIN else None)
        if info is None or entry["value"] != info.value:
            return False
        if not all(_inside(target, info.module) for _, _, target, _ in entry["records"]):
            return False
    return True


def _reraise_interrupt(exc: BaseException) -> None:
    """Ctrl-C still stops the program; every other failure of a plugin is isolated."""
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
        raise exc


def _is_builtin(plugin: str, dist: str | None) -> bool:
    return plugin == BUILTIN_PLUGIN and normalise(dist or BUILTIN_PLUGIN) == BUILTIN_PLUGIN


def _winner(kind: str, ref: str, recs: list[Record]) -> Record:
    """The one record a plain name means: the only one, or one override of a built-in."""
    if len(recs) == 1:
        return recs[0]
    overrides = [r for r in recs if r.status == "override"]
    if len(overrides) == 1 and all(
        _is_builtin(r.plugin, r.distribution) for r in recs if r.status != "override"
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
    if any(_is_builtin(r.plugin, r.distribution) for r in recs):
        message += (
            " A plugin that means to replace the built-in wraps its target in "
            "rlmodules.registry.override(...)."
        )
    raise AmbiguousNameError(message)


def _with_statuses(recs: list[Record]) -> list[Record]:
    if len(recs) == 1:
        return recs
    try:
        winner = _winner(recs[0].kind, recs[0].name, recs)
    except AmbiguousNameError:
        return [r._replace(status="conflict") for r in recs]
    return [r if r is winner else r._replace(status="overridden") for r in recs]


def _records_from_cache(info: EntryPointInfo, entry: dict[str, Any]) -> list[Record]:
    return [
        Record(kind, name, target, info.name, info.distribution, info.version, status)
        for kind, name, target, status in entry["records"]
    ]


def _aliases_from_cache(info: EntryPointInfo, entry: dict[str, Any]) -> list[Record]:
    return [
        Record(kind, old, new, info.name, info.distribution, info.version, "alias")
        for kind, old, new in entry["aliases"]
    ]


def _source_files(module: str, before: set[str]) -> list[str]:
    """Files of the plugin's top-level package that its import loaded (cache validity)."""
    top = module.partition(".")[0]
    files = []
    for name in set(sys.modules) - before | {module}:
        if name == top or name.startswith(top + "."):
            path = getattr(sys.modules.get(name), "__file__", None)
            if path:
                files.append(path)
    return sorted(files)


