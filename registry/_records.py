"""One record per registered item, whatever its source (built-in, entry point, in-process).

Records are NamedTuples rather than attrs classes: listing names runs in a fresh process on
every ``rlmodules list``, and importing attrs alone would cost more than the whole listing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "HOOK_KINDS",
    "KINDS",
    "Override",
    "PluginFailure",
    "PluginWarning",
    "Record",
    "override",
]

#: Registration hook name → the kind of item it registers.
HOOK_KINDS = {
    "rlmodules_modules": "module",
    "rlmodules_catalogs": "catalog",
    "rlmodules_distributions": "distribution",
    "rlmodules_checkpoint_formats": "checkpoint_format",
}
KINDS = tuple(HOOK_KINDS.values())


class Record(NamedTuple):
    """A registered item: what it is called, what it points to and who provides it.

    ``status`` is ``"ok"``; ``"override"`` for a plugin's explicit replacement of a built-in
    name and ``"overridden"`` for the built-in it replaces; ``"conflict"`` when several
    plugins give the plain name (use :attr:`qualified_name`); ``"alias"`` for a deprecated
    name whose ``target`` is the name it now stands for.
    """

    kind: str
    name: str
    target: Any  # an object, or a lazy "pkg.mod:attr" string (for an alias: the new name)
    plugin: str
    distribution: str | None = None
    version: str | None = None
    status: str = "ok"

    @property
    def qualified_name(self) -> str:
        """``"plugin/name"``: unambiguous whatever else is installed; specs persist it."""
        return f"{self.plugin}/{self.name}"

    @property
    def target_path(self) -> str:
        """The import path of the target, without importing it."""
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"


class PluginFailure(NamedTuple):
    """A plugin that could not be loaded; kept for ``rlmodules doctor``.

    ``stage`` is ``"import"`` (its entry point did not import), ``"hook"`` (a registration
    hook raised) or ``"invalid"`` (bad hook signature or returned data).
    """

    plugin: str
    distribution: str | None
    version: str | None
    stage: str
    message: str
    traceback_tail: str = ""


class PluginWarning(RuntimeWarning):
    """A plugin failed and was left out (``RLMODULES_STRICT=1`` raises instead)."""


class Override(NamedTuple):
    """A registration that deliberately replaces a built-in name; see :func:`override`."""

    target: Any


def override(target: Any) -> Override:
    """Mark a registration as replacing the built-in item of the same name.

    Without it, a plugin that registers a built-in name (``"ppo"``) makes that plain name
    ambiguous. With it, the plain name resolves to the plugin's target, ``rlmodules list``
    shows it as ``override`` (and the built-in as ``overridden``, still reachable as
    ``"rlmodules/ppo"``). It never wins over another third-party plugin.

    Example::

        @rlmodules.hookimpl
        def rlmodules_modules():
            return {"ppo": rlmodules.registry.override("my_pkg.ppo:FasterPPOModule")}
    """
    if isinstance(target, Override):
        return target
    return Override(target)
