"""Loading: entry points become registered plugins, through the discovery cache.

With a warm cache that still matches what is installed, a plugin's records come from the
cache and the plugin itself is imported only when a hook is called (it waits in
``Plugins.pending``). Otherwise the entry points are read with importlib-metadata, each plugin
is imported and registered now, and what it registered is written back to the cache.
"""

from __future__ import annotations

import sys

from rlmodules.errors import PluginError

from ._cache import DiscoveryCache, file_stamps, files_unchanged
from ._discovery import (
    EntryPointInfo,
    declared,
    discover_entry_points,
    import_entry_point,
    installed_version,
    normalise,
)
from ._failures import reraise_interrupt
from ._names import BUILTIN_PLUGIN, is_builtin
from ._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

    from ._failures import Failures
    from ._names import Names
    from ._plugins import Plugins

__all__ = ["Loader"]

_BUILTIN_MODULE = "rlmodules.plugins.builtin"
_GROUP = "rlmodules"


class Loader:
    """Loads the entry points of group ``rlmodules`` into ``plugins`` once."""

    def __init__(
        self, *, autoload: bool, blocked: frozenset[str], cache_dir: str | None,
        plugins: Plugins, names: Names, failures: Failures,
    ) -> None:
        self.autoload = autoload
        self.blocked = blocked
        self.cache_dir = cache_dir
        self.loaded = False
        self.cache_hit: bool | None = None
        self.cache_problem: str | None = None
        self.skipped: list[tuple[EntryPointInfo, str]] = []
        self._plugins, self._names, self._failures = plugins, names, failures

    def load(self) -> None:
        """Load every entry point that is neither blocked nor left out by ``autoload``."""
        self.skipped = []
        cache = DiscoveryCache(self.cache_dir) if self.cache_dir is not None else None
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
        for info in _with_builtin(infos):
            entry = cached.get(info.name)
            if not self._should_load(info):
                if entry is not None:
                    keep[info.name] = entry
            elif entry is not None and entry["value"] == info.value and files_unchanged(
                entry["files"]
            ):
                self._names.add(_records_from_cache(info, entry), _aliases_from_cache(info, entry))
                self._plugins.pending[info.name] = info
                keep[info.name] = entry
            else:
                dirty = True
                loaded = self._load_entry_point(info)
                if loaded is not None:
                    keep[info.name] = loaded
        self.loaded = True
        if cache is not None and dirty:
            cache.save(infos, keep)

    def _should_load(self, info: EntryPointInfo) -> bool:
        if is_builtin(info.name, info.distribution):
            return True
        if not self.autoload:
            self.skipped.append((info, "autoload disabled"))
            return False
        if {normalise(info.name), normalise(info.distribution or "")} & self.blocked:
            self.skipped.append((info, "blocked"))
            return False
        other = self._plugins.entry_points.get(info.name)
        if other is not None:
            self._failures.report(
                info.name, info.distribution, info.version, "invalid",
                PluginError(
                    f"entry point name {info.name!r} is also used by distribution "
                    f"{other.distribution!r}; plugin names must be unique: rename one entry "
                    f"point or block one distribution with RLMODULES_BLOCK=<distribution>"
                ),
            )
            return False
        self._plugins.entry_points[info.name] = info
        return True

    def _load_entry_point(self, info: EntryPointInfo) -> dict[str, Any] | None:
        """Import and register one plugin now; the cache entry for it, or ``None``."""
        before = set(sys.modules)
        try:
            plugin = import_entry_point(info.value)
        except BaseException as exc:  # a broken plugin never takes the others down,
            reraise_interrupt(exc)  # not even with sys.exit()
            self._failures.report(info.name, info.distribution, info.version, "import", exc,
                                  info.value)
            return None
        added = self._plugins.add(
            plugin, info.name, info.distribution, info.version, raise_errors=False
        )
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


def _with_builtin(infos: list[EntryPointInfo]) -> list[EntryPointInfo]:
    """The entry points, plus the built-in plugin when rlmodules runs uninstalled."""
    if any(info.name == BUILTIN_PLUGIN for info in infos):
        return infos
    version = installed_version(BUILTIN_PLUGIN)
    return [EntryPointInfo(BUILTIN_PLUGIN, _BUILTIN_MODULE, BUILTIN_PLUGIN, version), *infos]


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
