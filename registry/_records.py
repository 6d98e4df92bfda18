"""One record per registered item, whatever its source (built-in, entry point, in-process)."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["KINDS", "HOOK_KINDS", "Record", "PluginFailure"]

#: Registration hook name → the kind of item it registers.
HOOK_KINDS = {
    "rlmodules_modules": "module",
    "rlmodules_catalogs": "catalog",
    "rlmodules_distributions": "distribution",
    "rlmodules_checkpoint_formats": "checkpoint_format",
}
KINDS = tuple(HOOK_KINDS.values())


@attrs.frozen
class Record:
    """A registered item: what it is called, what it points to and who provides it."""

    kind: str
    name: str
    target: Any  # an object, or a lazy "pkg.mod:attr" string
    plugin: str
    distribution: str | None = None
    version: str | None = None
    status: str = "ok"  # "ok", "conflict", "alias"

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}/{self.name}"

    @property
    def target_path(self) -> str:
        """The import path of the target, without importing it."""
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded; kept for ``rlmodules doctor``."""

    plugin: str
    distribution: str | None
    version: str | None
    stage: str  # "import", "hook", "invalid"
    message: str
    traceback_tail: str = ""
