"""The ``model_config`` keys plugins declare (``rlmodules_config_keys``), for the default modules.

A declared key's full name is ``"<plugin>.<name>"``; its plain ``name`` stands for it while
no other plugin declares that name and no config field has it. ``DefaultModelConfig`` keeps
the values under full names (``plugin_keys``); this module resolves names, checks values
against the declarations, and says which distribution declared each key (for checkpoints).
The registry is asked only when a config holds a key that is not a field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from rlmodules import registry

from .errors import CheckpointError, ConfigError, PluginError, did_you_mean

__all__ = [
    "check_declared", "checked_values", "declared_keys", "key_provenance", "plugin_value",
    "split_config",
]


def declared_keys() -> dict[str, registry.Record]:
    """Every declared key by full name (``"plugin.name"``), sorted, with its record."""
    records = [r for r in registry.list("config_key") if r.status != "alias"]
    return {f"{r.plugin}.{r.name}": r for r in records}


def _full_name(key: Any, fields: Iterable[str], declared: Mapping[str, Any]) -> str | None:
    """The full name ``key`` stands for (``None`` if it is no declared key)."""
    if key in declared:
        return str(key)
    if key in fields:
        return None
    matches = [full for full, rec in declared.items() if rec.name == key]
    return matches[0] if len(matches) == 1 else None


def _declaration(full: str, rec: registry.Record) -> registry.ConfigKey:
    spec = registry.get("config_key", rec.qualified_name)
    if not isinstance(spec, registry.ConfigKey):
        raise PluginError(
            f"plugin {rec.plugin!r} declares model_config key {full!r} as {spec!r}, not a "
            f"rlmodules.registry.ConfigKey; run `rlmodules doctor`"
        )
    return spec


def _unknown(owner: str, key: Any, fields: Iterable[str], declared: Mapping[str, Any]) -> str:
    fields = tuple(fields)
    plain = Counter(rec.name for rec in declared.values())
    ambiguous = [full for full, rec in declared.items() if rec.name == key and plain[key] > 1]
    if ambiguous:
        return (f"model config key {key!r} for {owner} is declared by several plugins; "
                f"write one of {', '.join(ambiguous)}")
    names = (*fields, *declared, *(n for n, count in plain.items() if count == 1))
    plugin_keys = ", ".join(declared) or "none (no installed plugin declares any)"
    return (f"unknown model config key {key!r} for {owner}.{did_you_mean(str(key), names)} "
            f"Known keys: {', '.join(fields)}; keys declared by plugins: {plugin_keys}")


def checked_values(values: Any) -> dict[str, Any]:
    """``{full name: value}`` for ``values`` (full or plain names): each key declared by an
    installed plugin and each value of its declared type, else a ``ConfigError``."""
    if not isinstance(values, Mapping):
        raise ConfigError(
            f"DefaultModelConfig.plugin_keys must be a dict of declared key -> value, got "
            f"{values!r}"
        )
    if not values:
        return {}
    declared = declared_keys()
    out: dict[str, Any] = {}
    for key, value in values.items():
        full = _full_name(key, (), declared)
        if full is None:
            raise ConfigError(_unknown("DefaultModelConfig.plugin_keys", key, (), declared))
        out[full] = _declaration(full, declared[full]).check(full, value)
    return out


def split_config(owner: str, fields: tuple[str, ...], data: Mapping[str, Any],
                 plugin_keys: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor keywords from ``data``: its fields, and every other key in
    ``plugin_keys`` (merged over the given ones) if a plugin declares it, else a
    ``ConfigError`` with a did-you-mean over the fields and every declared key."""
    kwargs = {k: v for k, v in data.items() if k in fields or k == "plugin_keys"}
    extra = {k: v for k, v in data.items() if k not in kwargs}
    if extra:
        declared = declared_keys()
        for key in extra:
            if _full_name(key, fields, declared) is None:
                raise ConfigError(_unknown(owner, key, fields, declared))
    if extra or "plugin_keys" in kwargs:
        kwargs["plugin_keys"] = {**plugin_keys, **kwargs.get("plugin_keys", {}), **extra}
    return kwargs


def plugin_value(values: Mapping[str, Any], key: Any, fields: tuple[str, ...]) -> tuple[bool, Any]:
    """``(True, value)`` of declared key ``key`` (its default when unset), else
    ``(False, None)``."""
    declared = declared_keys()
    full = _full_name(key, fields, declared)
    if full is None:
        return False, None
    if full in values:
        return True, values[full]
    return True, _declaration(full, declared[full]).default


def key_provenance(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{full name: {"plugin", "distribution", "version"}}`` of each key set in ``values``:
    what a checkpoint records so that loading it can name the package to install."""
    declared = declared_keys() if values else {}
    return {
        full: {"plugin": rec.plugin, "distribution": rec.distribution, "version": rec.version}
        for full in values for rec in (declared[full],)
    }


def check_declared(recorded: Mapping[str, Any], where: str) -> None:
    """Raise ``CheckpointError`` naming the package to install for each key in
    ``recorded`` (as :func:`key_provenance` wrote it) that no installed plugin declares."""
    missing = [(full, ref) for full, ref in recorded.items() if full not in declared_keys()]
    if not missing:
        return
    lines = []
    for full, ref in missing:
        dist, version = ref.get("distribution"), ref.get("version")
        lines.append(
            f"{full!r} (declared by {dist} {version}; install it with "
            f"`pip install {dist}=={version}`)" if dist and version else
            f"{full!r} (declared by plugin {ref.get('plugin')!r} in-process; register it)"
        )
    raise CheckpointError(
        f"{where} uses model_config keys that no installed plugin declares: {'; '.join(lines)}"
    )
