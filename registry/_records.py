"""One record per registered item, whatever its source (built-in, entry point, in-process).

Records are plain named tuples rather than attrs classes (or ``typing.NamedTuple``): listing
names runs in a fresh process on every ``rlmodules list``, and importing attrs or typing
alone would cost more than the whole listing.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

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
    "rlmodules_export_formats": "export_format",
    "rlmodules_config_keys": "config_key",
}
KINDS = tuple(HOOK_KINDS.values())


class Record(
    namedtuple(
        "Record", "kind name target plugin distribution version status",
        defaults=(None, None, "ok"),
    )
):
    """A registered item: what it is called, what it points to and who provides it.

    Fields: ``kind``, ``name``, ``target`` (an object, or a lazy ``"pkg.mod:attr"`` string;
    for an alias, the name it now stands for), ``plugin``, ``distribution``, ``version`` and
    ``status``: ``"ok"``; ``"override"`` for a plugin's explicit replacement of a built-in
    name and ``"overridden"`` for the built-in it replaces; ``"conflict"`` when several
    plugins give the plain name (use :attr:`qualified_name`); ``"alias"`` for a deprecated
    name.
    """

    __slots__ = ()

    @property
    def qualified_name(self) -> str:
        """``"plugin/name"``: unambiguous whatever else is installed; specs persist it."""
        return f"{self.plugin}/{self.name}"

    @property
    def provenance(self) -> dict[str, Any]:
        """``{"name": qualified name, "distribution", "version"}``: how files record it."""
        return {"name": self.qualified_name, "distribution": self.distribution,
                "version": self.version}

    @property
    def target_path(self) -> str:
        """The import path of the target, without importing it."""
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"


class PluginFailure(
    namedtuple(
        "PluginFailure", "plugin distribution version stage message traceback_tail entry_point",
        defaults=("", None),
    )
):
    """A plugin that could not be loaded; kept for ``rlmodules doctor``.

    ``stage`` is ``"import"`` (its entry point did not import), ``"hook"`` (a registration
    hook raised), ``"invalid"`` (bad hook signature or returned data) or ``"decision"`` (a
    decision hook failed). ``entry_point`` is the entry point's value (``"pkg.mod:obj"``) for
    a plugin found through one, else ``None``.
    """

    __slots__ = ()


class PluginWarning(RuntimeWarning):
    """A plugin failed and was left out (``RLMODULES_STRICT=1`` raises instead).

    Its text is one line: what failed, which plugin, and ``rlmodules doctor`` for more. It is
    issued without a source line (the line in rlmodules that reports it would tell nothing);
    the command line prints it as ``warning: <text>``.
    """


class Override(namedtuple("Override", "target")):
    """A registration that deliberately replaces a built-in name; see :func:`override`."""

    __slots__ = ()


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
