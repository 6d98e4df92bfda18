"""What the conformance kit raises and warns: failures, soft issues, and skips."""

from __future__ import annotations

from rlmodules.errors import RLModulesError

__all__ = ["ConformanceError", "ConformanceWarning", "CheckSkipped"]


class ConformanceError(RLModulesError, AssertionError):
    """A module breaks the RLModule contract; the message names the check and the fix.

    ``check`` is the name of the (first) failed check, ``fix`` the advice, and ``report``
    the full :class:`~rlmodules.testing.ConformanceReport` when raised by ``check_module``.
    """

    def __init__(
        self,
        message: str,
        *,
        check: str | None = None,
        fix: str | None = None,
        report: object = None,
    ) -> None:
        super().__init__(message)
        self.check = check
        self.fix = fix
        self.report = report


class ConformanceWarning(UserWarning):
    """A soft issue: the module works but behaves in a way users may not expect."""


class CheckSkipped(RLModulesError):
    """Raised inside a check when it does not apply to the module (the message says why)."""
