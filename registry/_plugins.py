"""The pluggy PluginManager: adding a plugin (all or nothing) and removing one.

The manager is created on first need: listing names from the discovery cache never needs
it. Plugins the cache vouched for wait in :attr:`Plugins.pending` until a hook is called or a
plugin is added or removed.
"""

from __future__ import annotations

from rlmodules.errors import PluginError, UnknownNameError

from ._discovery import import_entry_point
from ._failures import reraise_interrupt
from ._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

    from ._discovery import EntryPointInfo
    from ._failures import Failures
    from ._names import Names

__all__ = ["Plugins"]


class Plugins:
    """The plugins of one registry; their records go into ``names``, failures to ``failures``."""

    def __init__(self, names: Names, failures: Failures) -> None:
        self._names = names
        self._failures = failures
        self._pm: Any = None
        #: Entry points whose records came from the cache, by plugin name: not imported yet.
        self.pending: dict[str, EntryPointInfo] = {}
        #: Every entry point taken (pending or imported), by plugin name.
        self.entry_points: dict[str, EntryPointInfo] = {}

    def reset(self) -> None:
        self._pm = None
        self.pending, self.entry_points = {}, {}

    def manager(self) -> Any:
        """The pluggy PluginManager with every plugin imported and registered."""
        pm = self._manager()
        for name, info in list(self.pending.items()):
            del self.pending[name]
            try:
                plugin = import_entry_point(info.value)
            except BaseException as exc:  # a broken plugin never takes the others down,
                reraise_interrupt(exc)  # not even with sys.exit()
                self._names.drop(name)
                self._failures.report(name, info.distribution, info.version, "import", exc,
                                      info.value)
                continue
            try:
                pm.register(plugin, name=name)
            except Exception as exc:
                self._names.drop(name)
                self._failures.report(name, info.distribution, info.version, "invalid", exc)
        return pm

    def origin(self, plugin: str) -> tuple[str | None, str | None]:
        """``(distribution, version)`` of an entry-point plugin; ``(None, None)`` in-process."""
        info = self.entry_points.get(plugin)
        return (info.distribution, info.version) if info else (None, None)

    def add(
        self, plugin: Any, name: str, dist: str | None, version: str | None, *, raise_errors: bool
    ) -> tuple[list[Record], list[Record]] | None:
        """Register ``plugin`` with pluggy and take its records: all or nothing.

        A failure raises :class:`~rlmodules.PluginError` if ``raise_errors``, else it is
        reported and ``None`` returned.
        """
        from ._collect import collect  # compiles patterns: listing from a cache never needs it

        pm = self._manager()
        stage = "invalid"
        try:
            pm.register(plugin, name=name)
            stage = "hook"
            records, alias_rows = collect(pm, plugin, name, dist, version)
        except BaseException as exc:
            reraise_interrupt(exc)
            if pm.get_plugin(name) is plugin:
                pm.unregister(name=name)
            if isinstance(exc, PluginError):
                stage = "invalid"
            if raise_errors:
                if isinstance(exc, PluginError):
                    raise
                raise PluginError(f"cannot register plugin {name!r} ({stage}): {exc}") from exc
            self._failures.report(name, dist, version, stage, exc)
            return None
        aliases = [Record(k, old, new, name, dist, version, "alias") for k, old, new in alias_rows]
        self._names.add(records, aliases)
        return records, aliases

    def register(self, plugin: Any, name: str | None) -> str:
        """Add an in-process plugin; see :meth:`Registry.register_plugin`."""
        pm = self.manager()
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
        self.add(plugin, name, None, None, raise_errors=True)
        return name

    def unregister(self, plugin_or_name: Any) -> None:
        """Remove a plugin (by object or name) and everything it registered."""
        pm = self.manager()
        name = plugin_or_name if isinstance(plugin_or_name, str) else pm.get_name(plugin_or_name)
        if name is None or not pm.has_plugin(name):
            names = ", ".join(sorted(n for n, _ in pm.list_name_plugin()))
            raise UnknownNameError(
                f"no plugin {plugin_or_name!r} is registered; registered plugins: {names}"
            )
        pm.unregister(name=name)
        self._names.drop(name)

    def _manager(self) -> Any:
        if self._pm is None:
            import pluggy
            import rlmodules.hookspecs as hookspecs

            self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            self._pm.add_hookspecs(hookspecs)
        return self._pm
