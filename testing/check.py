"""A named check: one property of the RLModule contract, runnable on its own.

A check function takes a :class:`~rlmodules.testing.subject.Subject`, raises
:class:`ConformanceError` (via :func:`fail`) when the property does not hold,
:class:`CheckSkipped` (via :func:`skip`) when it does not apply, and may return a short note.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NoReturn

import attrs

from .errors import CheckSkipped, ConformanceError, ConformanceWarning
from .report import FAIL, PASS, SKIP, CheckResult
from .spaces import SpaceCase
from .subject import Subject, make_subject

__all__ = ["Check", "fail", "skip"]


def fail(message: str, *, fix: str | None = None) -> NoReturn:
    """Fail the running check; ``fix`` overrides the check's generic advice."""
    raise ConformanceError(message, fix=fix)


def skip(reason: str) -> NoReturn:
    """Skip the running check because it does not apply to this module."""
    raise CheckSkipped(reason)


@attrs.frozen
class Check:
    """One named property of the contract.

    Call it like :func:`~rlmodules.testing.check_module` to check that property alone;
    it returns the :class:`CheckResult` and raises :class:`ConformanceError` on failure.

    Example::

        from rlmodules.testing import check_gradients
        check_gradients("ppo", Box(-1, 1, (4,)), Discrete(2))
    """

    name: str
    function: Callable[[Subject], str | None] = attrs.field(repr=False)
    fix: str
    #: Checks whose failure makes this one pointless (it is then skipped).
    requires: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        """The first line of the check function's docstring, as plain text."""
        return (self.function.__doc__ or "").strip().splitlines()[0].replace("``", "")

    def __call__(
        self,
        target: Any,
        observation_space: Any = None,
        action_space: Any = None,
        *,
        model_config: Any = None,
    ) -> CheckResult:
        case = None
        if observation_space is not None or action_space is not None:
            case = SpaceCase(observation_space, action_space, model_config)
        elif model_config is not None:
            raise ConformanceError(
                f"{self.name}: model_config needs the spaces too; pass observation_space and "
                f"action_space, or an RLModuleSpec"
            )
        result = self.run(make_subject(target, case))
        if result.status == FAIL:
            raise ConformanceError(
                f"{self.name} failed [{result.case}]: {result.message}", check=self.name
            )
        return result

    def run(self, subject: Subject) -> CheckResult:
        """Run on ``subject`` and return the result (never raises for a module's fault)."""
        subject.warnings.clear()
        try:
            note = self.function(subject)
        except CheckSkipped as exc:
            return CheckResult(self.name, SKIP, str(exc), subject.case)
        except ConformanceError as exc:
            fix = exc.fix or self.fix
            return self._failed(subject, f"{exc}. Fix: {fix}")
        except Exception as exc:  # the module's own error is the finding
            message = f"raised {type(exc).__name__}: {exc}. Fix: {self.fix}"
            return self._failed(subject, message)
        for message in subject.warnings:
            warnings.warn(
                f"{self.name} [{subject.case}]: {message}", ConformanceWarning, stacklevel=3
            )
        return CheckResult(self.name, PASS, note or "", subject.case, tuple(subject.warnings))

    def _failed(self, subject: Subject, message: str) -> CheckResult:
        return CheckResult(self.name, FAIL, message, subject.case, tuple(subject.warnings))
