"""Calling one plugin's registration hooks and checking what they return (all or nothing)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rlmodules.errors import PluginError

from ._config_key import ConfigKey
from ._records import HOOK_KINDS, KINDS, Override, Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

__all__ = ["ALIAS_HOOK", "Collected", "collect"]

ALIAS_HOOK = "rlmodules_aliases"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_PATH_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

#: (records, aliases as (kind, old name, new name) triples)
Collected = tuple[list[Record], list[tuple[str, str, str]]]


def collect(pm: Any, plugin: Any, name: str, dist: str | None, version: str | None) -> Collected:
    """Records and aliases from ``plugin``'s own registration hooks; raises on bad data."""
    records: list[Record] = []
    aliases: list[tuple[str, str, str]] = []
    for caller in pm.get_hookcallers(plugin) or ():
        if caller.name not in HOOK_KINDS and caller.name != ALIAS_HOOK:
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            if impl.hookwrapper or impl.wrapper:
                raise PluginError(
                    f"plugin {name!r}: {caller.name} is a registration hook and cannot be a "
                    f"wrapper; got hookimpl(wrapper=True); remove the wrapper option"
                )
            result = impl.function()
            if caller.name == ALIAS_HOOK:
                aliases.extend(_aliases(name, result))
            else:
                kind = HOOK_KINDS[caller.name]
                records.extend(_records(name, caller.name, kind, result, dist, version))
    return records, aliases


def _mapping(plugin: str, hook: str, result: Any) -> Mapping[Any, Any]:
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise PluginError(
            f"plugin {plugin!r}: {hook}() must return a dict of name -> target, got "
            f"{type(result).__name__} {result!r:.80}"
        )
    return result


def _check_name(plugin: str, hook: str, key: Any) -> str:
    if not isinstance(key, str) or not _NAME_RE.match(key):
        raise PluginError(
            f"plugin {plugin!r}: {hook}() returned invalid name {key!r}; names are identifiers "
            f"like 'lstm' or 'tiny_atari_cnn' (letters, digits, '_', '-', '.'; no '/' or ':')"
        )
    return key


def _records(
    plugin: str, hook: str, kind: str, result: Any, dist: str | None, version: str | None
) -> list[Record]:
    out = []
    for key, value in _mapping(plugin, hook, result).items():
        item = _check_name(plugin, hook, key)
        status = "ok"
        if isinstance(value, Override):
            status, value = "override", value.target
        if isinstance(value, str):
            if not _PATH_RE.match(value.strip()):
                raise PluginError(
                    f"plugin {plugin!r}: {hook}() gives {item!r} the target {value!r}; a lazy "
                    f"target is an import path like 'my_pkg.module:ClassName'"
                )
            value = value.strip()
        elif kind == "config_key" and not isinstance(value, ConfigKey):
            raise PluginError(
                f"plugin {plugin!r}: {hook}() gives {item!r} the value {value!r:.80}; expected "
                f"rlmodules.registry.ConfigKey(type=..., default=..., doc=...)"
            )
        elif value is None or isinstance(value, (int, float, bool, bytes, list, dict, tuple)):
            raise PluginError(
                f"plugin {plugin!r}: {hook}() gives {item!r} the target {value!r}; expected a "
                f"class or object, or a lazy import path like 'my_pkg.module:ClassName'"
            )
        out.append(Record(kind, item, value, plugin, dist, version, status))
    return out


def _aliases(plugin: str, result: Any) -> list[tuple[str, str, str]]:
    out = []
    for kind, table in _mapping(plugin, ALIAS_HOOK, result).items():
        if kind not in KINDS:
            raise PluginError(
                f"plugin {plugin!r}: {ALIAS_HOOK}() names unknown kind {kind!r}; expected one "
                f"of {', '.join(KINDS)}"
            )
        for old, new in _mapping(plugin, ALIAS_HOOK, table).items():
            _check_name(plugin, ALIAS_HOOK, old)
            target = new.partition("/")[2] if isinstance(new, str) and "/" in new else new
            _check_name(plugin, ALIAS_HOOK, target)
            out.append((kind, old, new))
    return out
