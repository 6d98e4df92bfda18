"""The plugin registry: entry-point discovery, pluggy, and name resolution.

Nothing is discovered at import: the registry loads plugins on first use. A name is a plain
registered name (``"ppo"``), one qualified by its plugin (``"rlmodules/ppo"``), an import
path (``"pkg.mod:Class"``) or the object itself. Names read from a file are resolved inside
:func:`untrusted_input`, where an import path may only name a module already imported.

Example::

    from rlmodules import registry

    registry.get("module", "ppo")                  # a registered name
    registry.get("module", "rlmodules/ppo")        # qualified by its plugin
    registry.get("module", "my_pkg.mod:MyModule")  # an import path
    registry.register_plugin(my_plugin_object)     # in-process, like an entry point
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterator

from ._config_key import ConfigKey
from ._imports import (
    ImportRefusedError,
    check_import_allowed,
    import_object,
    imports_allowed,
    untrusted_input,
)
from ._names import KNOWN_PROVIDERS
from ._records import KINDS, Override, PluginFailure, PluginWarning, Record, override
from ._registry import Registry

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

__all__ = [
    "ConfigKey",
    "ImportRefusedError",
    "KINDS",
    "KNOWN_PROVIDERS",
    "Override",
    "PluginFailure",
    "PluginWarning",
    "Record",
    "Registry",
    "check_import_allowed",
    "configure",
    "current",
    "get",
    "import_object",
    "imports_allowed",
    "isolated_registry",
    "list",
    "name_of",
    "override",
    "record",
    "register_plugin",
    "unregister_plugin",
    "untrusted_input",
]

_current: Registry | None = None


def current() -> Registry:
    """The process-wide registry (created, not loaded, on first call)."""
    global _current
    if _current is None:
        _current = Registry()
    return _current


def configure(
    *,
    autoload: bool | None = None,
    strict: bool | None = None,
    blocked: tuple[str, ...] | None = None,
    use_cache: bool | None = None,
    cache_dir: str | None = None,
) -> Registry:
    """Replace the process-wide registry with a fresh one configured so (see :class:`Registry`).

    In-process registrations of the previous registry are dropped. Example::

        registry.configure(strict=True, blocked=("rlmodules-cnn",))
    """
    global _current
    _current = Registry(
        autoload=autoload, strict=strict, blocked=blocked, use_cache=use_cache,
        cache_dir=cache_dir,
    )
    return _current


def get(kind: str, ref: Any) -> Any:
    """Resolve a name (plain, ``plugin/name`` or ``pkg.mod:Attr``) of ``kind``; objects pass.

    Raises ``UnknownNameError`` (did-you-mean, what is installed, what to ``pip install``)
    or ``AmbiguousNameError`` (the qualified names to choose from).
    """
    return current().get(kind, ref)


def record(kind: str, ref: str) -> Record:
    """The :class:`Record` a registered name resolves to."""
    return current().record(kind, ref)


def name_of(kind: str, obj: Any) -> str | None:
    """The qualified registered name of ``obj`` (``"plugin/name"``), or ``None``."""
    return current().name_of(kind, obj)


def list(kind: str | None = None, pattern: str | None = None) -> builtins.list[Record]:  # noqa: A001
    """Records of ``kind`` (all kinds if ``None``) whose name matches ``pattern`` (``*``, ``?``).

    Lists without importing any contribution, and with a warm cache without importing any
    plugin.
    """
    return current().records(kind, pattern)


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register an in-process plugin (object or module with ``@rlmodules.hookimpl``)."""
    return current().register_plugin(plugin, name)


def unregister_plugin(plugin_or_name: Any) -> None:
    """Remove a plugin and everything it registered."""
    current().unregister_plugin(plugin_or_name)


@contextlib.contextmanager
def isolated_registry(**kwargs: Any) -> Iterator[Registry]:
    """A fresh registry (``Registry(**kwargs)``) for the duration of a ``with`` block.

    In-process registrations inside the block do not leak out. Example::

        with registry.isolated_registry(autoload=False) as reg:
            reg.register_plugin(MyPlugin())
    """
    global _current
    saved, _current = _current, Registry(**kwargs)
    try:
        yield _current
    finally:
        _current = saved
