"""The Registry: one face over loading, the name tables, decisions and failure reports.

Listing names with a warm discovery cache imports neither pluggy, importlib-metadata, the
plugins nor their contributions: records come from the cache. Plugins are imported (and
registered with pluggy) when a decision hook is called or a plugin is added or removed.
"""

from __future__ import annotations

import os

from rlmodules.errors import UnknownNameError

from ._cache import default_cache_dir
from ._decisions import Decisions
from ._discovery import normalise
from ._failures import Failures
from ._imports import import_object
from ._listing import conflicts, listed, plugins
from ._loading import Loader
from ._names import Names, check_kind
from ._plugins import Plugins
from ._records import KINDS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from collections.abc import Callable
    from typing import Any

    from ._discovery import EntryPointInfo
    from ._records import PluginFailure, Record

__all__ = ["Registry"]


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
        if blocked is None:
            blocked = tuple(os.environ.get("RLMODULES_BLOCK", "").split(","))
        self.blocked = frozenset(normalise(b.strip()) for b in blocked if b.strip())
        self.use_cache = not _env_flag("RLMODULES_NO_CACHE") if use_cache is None else use_cache
        self.cache_dir = cache_dir or default_cache_dir()
        self._failures = Failures(
            strict=_env_flag("RLMODULES_STRICT") if strict is None else strict
        )
        self._names = Names(self._failures)
        self._resolved = self._names.resolved  # the same dict: the fast path of get()
        self._plugins = Plugins(self._names, self._failures)
        self._decisions = Decisions(self._plugins, self._failures)
        self._loader = Loader(
            autoload=self.autoload, blocked=self.blocked,
            cache_dir=self.cache_dir if self.use_cache else None,
            plugins=self._plugins, names=self._names, failures=self._failures,
        )

    @property
    def strict(self) -> bool:
        """Whether a failing plugin raises :class:`~rlmodules.PluginError`."""
        return self._failures.strict

    @property
    def failures(self) -> list[PluginFailure]:
        """The plugins that failed and were left out, for ``rlmodules doctor``."""
        return self._failures.items

    @property
    def skipped(self) -> list[tuple[EntryPointInfo, str]]:
        """Entry points not loaded, with why: ``"blocked"`` or ``"autoload disabled"``."""
        return self._loader.skipped

    @property
    def cache_hit(self) -> bool | None:
        """Whether the last discovery was answered by the cache (``None``: not yet run)."""
        return self._loader.cache_hit

    @property
    def cache_problem(self) -> str | None:
        """Why a cache file was refused and rebuilt although its checksum was valid."""
        return self._loader.cache_problem

    # --- loading ------------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's hook relay, for calling decision hooks (imports every plugin)."""
        self._ensure_loaded()
        return self._plugins.manager().hook

    def _ensure_loaded(self) -> None:
        if self._loader.loaded:
            return
        # From scratch: a strict failure part-way leaves nothing half-loaded behind.
        self._failures.clear()
        self._names.clear()
        self._plugins.reset()
        self._decisions.reset()
        self._loader.load()

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
        return self._decisions.decide(self.hook, hook, convert, kwargs)

    def get_for_plugin(self, kind: str, ref: Any, plugin: str | None) -> Any:
        """Resolve a name a plugin's decision hook returned: ``plugin``'s own ``ref`` if it
        registered one (a plain ``"beta"`` from plugin X means X's), else as :meth:`get`."""
        if plugin is not None and isinstance(ref, str) and "/" not in ref and ":" not in ref:
            self._ensure_loaded()
            if self._names.provides(check_kind(kind), ref, plugin):
                return self.get(kind, f"{plugin}/{ref}")
        return self.get(kind, ref)

    # --- in-process plugins -------------------------------------------------------------------
    def register_plugin(self, plugin: Any, name: str | None = None) -> str:
        """Register an object or module carrying ``@rlmodules.hookimpl`` functions.

        Raises :class:`~rlmodules.PluginError` (and registers nothing) when a hook raises or
        returns bad data, or the name is taken. Returns the plugin name used in qualified
        names (``"<plugin>/<name>"``).
        """
        self._ensure_loaded()
        return self._plugins.register(plugin, name)

    def unregister_plugin(self, plugin_or_name: Any) -> None:
        """Remove a plugin (by object or name) and everything it registered."""
        self._ensure_loaded()
        self._plugins.unregister(plugin_or_name)

    # --- queries ------------------------------------------------------------------------------
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
        checked = check_kind(kind)
        if ":" in ref:
            obj = import_object(ref, what=f"{checked} import path")
        else:
            self._ensure_loaded()
            obj = self._names.resolve(checked, ref)
        self._resolved[kind, ref] = obj
        return obj

    def record(self, kind: str, ref: str) -> Record:
        """The record a registered name resolves to (raises like :meth:`get`)."""
        kind = check_kind(kind)
        if ":" in ref:
            raise UnknownNameError(
                f"{ref!r} is an import path, not a registered {kind} name; pass a name like "
                f"'ppo' or 'plugin/ppo' (see `rlmodules list {kind}`)"
            )
        self._ensure_loaded()
        return self._names.find(kind, ref)

    def records(self, kind: str | None = None, pattern: str | None = None) -> list[Record]:
        """Records of ``kind`` (all if ``None``) matching a shell pattern, sorted by name.

        A pattern with a ``/`` matches qualified names (``"*/ppo"``), else plain names
        (``"lstm*"``).
        """
        self._ensure_loaded()
        return listed(self._names, KINDS if kind is None else (check_kind(kind),), pattern)

    def name_of(self, kind: str, obj: Any) -> str | None:
        """The qualified registered name of ``obj`` (``"plugin/name"``), or ``None``."""
        self._ensure_loaded()
        return self._names.name_of(check_kind(kind), obj)

    def plugins(self) -> list[tuple[str, str | None, str | None]]:
        """``(plugin, distribution, version)`` of every loaded plugin (without importing)."""
        self._ensure_loaded()
        return plugins(self._names, self._plugins.pending.values())

    def conflicts(self) -> dict[tuple[str, str], list[Record]]:
        """``(kind, name)`` → the records of every plain name that is ambiguous."""
        return conflicts(self.records())
