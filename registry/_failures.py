"""Plugin failures: a broken plugin is recorded and warned about, never fatal to the others.

Every stage reports here (an entry point that does not import, a registration hook that
raises or returns bad data, a decision hook that fails), so ``rlmodules doctor``, the
warnings and strict mode say the same thing.
"""

from __future__ import annotations

import warnings

from rlmodules.errors import PluginError

from ._records import PluginFailure, PluginWarning

__all__ = ["Failures", "reraise_interrupt"]

_WHAT = {
    "import": "failed to import",
    "hook": "raised in a registration hook",
    "invalid": "is invalid",
    "decision": "failed in a decision hook",
}


class Failures:
    """The failures of one registry's plugins; ``strict`` raises instead of recording."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.items: list[PluginFailure] = []

    def clear(self) -> None:
        self.items = []

    def report(
        self, plugin: str, dist: str | None, version: str | None, stage: str, exc: BaseException,
        entry_point: str | None = None,
    ) -> None:
        """Record ``exc`` of ``plugin`` at ``stage`` and warn (:class:`PluginWarning`);
        in strict mode raise :class:`~rlmodules.PluginError` instead. ``entry_point`` is
        the value of the entry point that names the plugin, if one does."""
        import traceback

        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        tail = "".join(lines[-4:]).rstrip()
        failure = PluginFailure(plugin, dist, version, stage, f"{type(exc).__name__}: {exc}", tail,
                                entry_point)
        origin = [f"distribution {dist} {version}"] if dist else []
        if entry_point and stage == "import":
            origin.append(f"entry point {entry_point!r}")
        where = f" ({', '.join(origin)})" if origin else ""
        message = f"rlmodules plugin {plugin!r}{where} {_WHAT[stage]}: {failure.message}"
        if self.strict:
            raise PluginError(message + " (strict mode: RLMODULES_STRICT=1)") from exc
        self.items.append(failure)
        left_out = "its answer was skipped" if stage == "decision" else "it was left out"
        text = " ".join(f"{message}; {left_out}. Run `rlmodules doctor` for details.".split())
        # No source line: the line of rlmodules that reports a plugin tells the user nothing.
        warnings.warn_explicit(text, PluginWarning, filename="rlmodules", lineno=0,
                               module="rlmodules.registry")


def reraise_interrupt(exc: BaseException) -> None:
    """Ctrl-C still stops the program; every other failure of a plugin is isolated."""
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
        raise exc
