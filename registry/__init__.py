"""The plugin registry: entry-point discovery, pluggy, and name resolution.

Nothing is discovered at import: the registry loads plugins on first use.

Example::

    from rlmodules import registry

    registry.get("module", "ppo")                # a registered name
    registry.get("module", "rlmodules/ppo")      # qualified by its plugin
    registry.get("module", "my_pkg.mod:MyModule")  # an import path
    registry.register_plugin(my_plugin_object)   # in-process, like an entry point
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterator
from typing import Any

from ._records import KINDS, PluginFailure, Record
from ._registry import KNOWN_PROVIDERS, Registry

__all__ = [
    "KINDS",
    "KNOWN_PROVIDERS",
    "PluginFailure",
    "Record",
    "Registry",
    "current",
    "get",
    "hook",
    "isolated_registry",
    "list",
    "name_of",
    "record",
    "register_plugin",
    "unregister_plugin",
]

_current: Registry | None = None


def current() -> Registry:
    """The process-wide registry (created, not loaded, on first call)."""
    global _current
    if _current is None:
        _current = Registry()
    return _current


def get(kind: str, ref: Any) -> Any:
    """Resolve a name (plain, ``plugin/name`` or ``pkg.mod:Attr``) of ``kind``; objects pass."""
    return current().get(kind, ref)


def record(kind: str, ref: str) -> Record:
    """The :class:`Record` a registered name resolves to."""
    return current().record(kind, ref)


def name_of(kind: str, obj: Any) -> str | None:
    """The qualified registered name of ``obj``, or ``None`` if it is not registered."""
    return current().name_of(kind, obj)


def list(kind: str | None = None, pattern: str | None = None) -> builtins.list[Record]:  # noqa: A001
    """Records of ``kind`` (all kinds if ``None``) whose name matches ``pattern`` (``*``, ``?``)."""
    return current().records(kind, pattern)


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register an in-process plugin (object or module with ``@rlmodules.hookimpl``)."""
    return current().register_plugin(plugin, name)


def unregister_plugin(plugin_or_name: Any) -> None:
    """Remove a plugin and everything it registered."""
    current().unregister_plugin(plugin_or_name)


def hook() -> Any:
    """pluggy's hook relay of the current registry (for decision hooks)."""
    return current().hook


@contextlib.contextmanager
def isolated_registry(**kwargs: Any) -> Iterator[Registry]:
    """A fresh registry for the duration of a ``with`` block (hermetic tests)."""
    global _current
    saved, _current = _current, Registry(**kwargs)
    try:
        yield _current
    finally:
        _current = saved

