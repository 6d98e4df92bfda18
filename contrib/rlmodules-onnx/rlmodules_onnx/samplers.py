"""Plugins' numpy samplers (the ``rlmodules_onnx_samplers`` hook), found by distribution name.

Each plugin's implementation is asked on its own, so one that raises or returns something
unusable is reported (a ``PluginWarning``) and skipped without taking the others down.
Nothing here imports torch: OnnxPolicy uses it to explore with a plugin's distribution.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Mapping
from typing import Any

from rlmodules import registry
from rlmodules.errors import ExportError

__all__ = ["HOOK", "find_sampler", "missing_sampler_message"]

HOOK = "rlmodules_onnx_samplers"
_METHODS = ("sample", "logp", "deterministic")
#: registry -> {qualified distribution name: sampler}; the hooks run once per registry.
_cache: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def find_sampler(distribution: str) -> Any:
    """The sampler a plugin registered for ``distribution`` (a qualified registered name,
    ``"plugin/name"``), or ``None``."""
    current = registry.current()
    if current not in _cache:
        _cache[current] = _registered(current)
    return _cache[current].get(distribution)


def missing_sampler_message(distribution: str) -> str:
    """What to do when no plugin gives a numpy sampler for ``distribution``."""
    return (f"no numpy sampler is registered for action distribution {distribution!r}; the "
            f"plugin that provides it can register one with the {HOOK} hook (see "
            f"rlmodules_onnx.hookspecs)")


def _registered(current: Any) -> dict[str, Any]:
    caller = getattr(current.hook, HOOK, None)
    found: dict[str, Any] = {}
    for impl in caller.get_hookimpls() if caller is not None else ():
        try:
            answer = impl.function()
            found.update(_entries(impl.plugin_name, answer))
        except Exception as exc:  # a broken plugin is reported, the others still count
            warnings.warn(
                f"plugin {impl.plugin_name!r}: {HOOK}() failed and was skipped: {exc}",
                registry.PluginWarning, stacklevel=2,
            )
    return found


def _entries(plugin: str, answer: Any) -> dict[str, Any]:
    if answer is None:
        return {}
    if not isinstance(answer, Mapping):
        raise ExportError(f"it must return {{distribution name: sampler}}, got {answer!r:.60}")
    entries = {}
    for name, target in answer.items():
        if not isinstance(name, str) or not name:
            raise ExportError(f"a distribution name must be a string, got {name!r}")
        sampler = (registry.import_object(target, what=f"{HOOK} sampler", registered=True)
                   if isinstance(target, str) else target)
        sampler = sampler() if isinstance(sampler, type) else sampler
        lacking = [m for m in _METHODS if not callable(getattr(sampler, m, None))]
        if lacking:
            raise ExportError(f"the sampler for {name!r} lacks {lacking}")
        entries[name if "/" in name else f"{plugin}/{name}"] = sampler
    return entries
