"""The outcome of a conformance run: one result per (check, space case)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

__all__ = ["CheckResult", "ConformanceReport", "PASS", "FAIL", "SKIP"]

PASS, FAIL, SKIP = "pass", "fail", "skip"


@attrs.frozen
class CheckResult:
    """One check's outcome: ``status`` is ``"pass"``, ``"fail"`` or ``"skip"``.

    ``case`` names the space case it ran on (``"Box(4,)->Discrete(3)"``); ``warnings`` holds
    the soft issues it found (also emitted as :class:`ConformanceWarning`).
    """

    name: str
    status: str
    message: str = ""
    case: str = ""
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        """One human-readable line, as printed by ``rlmodules check``."""
        where = f" [{self.case}]" if self.case else ""
        why = f": {self.message}" if self.message else ""
        return f"{self.status.upper():4}  {self.name}{where}{why}"


@attrs.define
class ConformanceReport:
    """All results of a :func:`~rlmodules.testing.check_module` run, in order.

    Example::

        report = check_module("ppo", raise_on_failure=False)
        assert report.ok, report.summary()
    """

    target: str
    results: list[CheckResult] = attrs.field(factory=list)

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def ok(self) -> bool:
        """True when no check failed (skips are fine)."""
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def failed_names(self) -> list[str]:
        """Names of failed checks, each once, in order."""
        return list(dict.fromkeys(r.name for r in self.failed))

    def by_name(self, name: str) -> list[CheckResult]:
        """Results of one check (one per space case)."""
        return [r for r in self.results if r.name == name]

    def summary(self) -> str:
        """Every result on its own line, then a count."""
        counts = {s: sum(r.status == s for r in self.results) for s in (PASS, FAIL, SKIP)}
        lines = [r.line() for r in self.results]
        lines.append(
            f"{self.target}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped"
        )
        return "\n".join(lines)
