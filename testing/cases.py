"""Conformance cases over the registry: one per (registered module name, space case).

This is what the pytest plugin parametrises over; it also works with a plain
``pytest.mark.parametrize``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from rlmodules import registry
from rlmodules.errors import UnknownNameError, did_you_mean

from .errors import CheckSkipped, ConformanceError
from .report import SKIP, ConformanceReport
from .spaces import SpaceCase, space_cases_for

__all__ = ["ConformanceCase", "conformance_cases"]


@attrs.frozen
class ConformanceCase:
    """One registered module name on one space case.

    Without a ``space_case`` the case checks that the module builds on at least one case of
    the default grid (each grid case alone only skips when rejected); ``problem`` says why a
    name cannot even be loaded.
    """

    name: str
    space_case: SpaceCase | None = None
    problem: str | None = None

    @property
    def id(self) -> str:
        """A readable test id, e.g. ``"ppo-Box(4,)->Discrete(3)"``."""
        return f"{self.name}-{self.space_case.id}" if self.space_case else f"{self.name}-builds"

    def __str__(self) -> str:
        return self.id

    def check(self, **kwargs: Any) -> ConformanceReport:
        """Run :func:`check_module` on this case; raise on failure, ``CheckSkipped`` if the
        module rejects the spaces. ``kwargs`` go to ``check_module`` (e.g. ``checks=``)."""
        from .runner import check_module  # imports torch: collecting cases does not

        if self.problem is not None:
            raise ConformanceError(f"{self.name}: {self.problem}", check="build")
        if self.space_case is None:
            report = check_module(self.name, checks=(), raise_on_failure=False)
        else:
            report = check_module(
                self.name, space_cases=[self.space_case], raise_on_failure=False, **kwargs
            )
        build = report.by_name("build")
        if self.space_case is not None and build and build[0].status == SKIP:
            raise CheckSkipped(build[0].message)
        if not report.ok:
            lines = "\n".join(r.line() for r in report.failed)
            raise ConformanceError(
                f"{self.id} fails conformance:\n{lines}", check=report.failed[0].name,
                report=report,
            )
        return report


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def conformance_cases(
    names: Sequence[str] | None = None,
    *,
    distribution: str | None = None,
    plugin: str | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> list[ConformanceCase]:
    """Cases for every registered module name (or those in ``names``, or those provided by
    ``distribution`` / ``plugin``), each across the spaces its class declares.

    ``model_config`` is merged into each case's config for modules with a
    ``default_model_config_class``, keeping only the keys that class has (e.g.
    ``{"fcnet_hiddens": [32]}`` for a fast run); dict-config modules keep theirs.

    A MultiRLModule class yields no cases (check a built one); a name whose class cannot be
    loaded yields one case that fails with the reason. A filter that matches nothing (a
    typo, a distribution that is not installed) is an ``UnknownNameError`` listing what is
    installed, never an empty list that checks nothing.

    Example::

        @pytest.mark.parametrize("case", conformance_cases(distribution="my-rl-pkg"), ids=str)
        def test_conformance(case):
            case.check()
    """
    cases: list[ConformanceCase] = []
    records = registry.list("module")
    matched: set[str] = set()
    for rec in records:
        if names is not None and rec.name not in names and rec.qualified_name not in names:
            continue
        if distribution is not None and _normalise(rec.distribution or "") != _normalise(
            distribution
        ):
            continue
        if plugin is not None and rec.plugin != plugin:
            continue
        matched.update((rec.name, rec.qualified_name))
        name = rec.qualified_name if rec.status == "conflict" else rec.name
        cases.extend(_cases_for(name, model_config))
    _check_matched(records, matched, names, distribution, plugin)
    return cases


def _check_matched(records: Sequence[Any], matched: set[str], names: Sequence[str] | None,
                   distribution: str | None, plugin: str | None) -> None:
    """Raise when a filter of :func:`conformance_cases` selected nothing it named."""
    missing = [n for n in (names or ()) if n not in matched]
    if matched and not missing:
        return
    filters = ", ".join(f"{key}={value!r}" for key, value in (
        ("names", list(names) if names is not None else None), ("distribution", distribution),
        ("plugin", plugin)) if value is not None)
    if missing:
        known = sorted({r.name for r in records})
        hint = did_you_mean(missing[0], known)
        what = f"module names {missing} are not registered ({', '.join(known)})"
    elif distribution is not None:
        known = sorted({r.distribution for r in records if r.distribution})
        hint = did_you_mean(distribution, known)
        what = (f"no installed distribution {distribution!r} provides modules (these do: "
                f"{', '.join(known)}); install it or fix the name")
    else:
        known = sorted({r.plugin for r in records if r.plugin})
        hint = did_you_mean(str(plugin), known)
        what = f"no plugin {plugin!r} provides modules (these do: {', '.join(known)})"
    raise UnknownNameError(f"conformance cases for {filters or 'all modules'}: {what}.{hint}")


def _cases_for(name: str, model_config: Mapping[str, Any] | None) -> list[ConformanceCase]:
    from rlmodules.multi_rl_module import MultiRLModule  # torch, as above

    try:
        cls = registry.get("module", name)
        if isinstance(cls, type) and issubclass(cls, MultiRLModule):
            return []
        cases = space_cases_for(cls)
        if model_config is not None:
            cases = [_with_config(case, cls, model_config) for case in cases]
        own = [ConformanceCase(name, case) for case in cases]
        declared = getattr(cls, "conformance_spaces", None) is not None
        return own if declared else [*own, ConformanceCase(name)]
    except Exception as exc:  # reported by the case's check, not at collection
        return [ConformanceCase(name, problem=f"cannot load: {type(exc).__name__}: {exc}")]


def _with_config(case: SpaceCase, cls: Any, overrides: Mapping[str, Any]) -> SpaceCase:
    config_class = getattr(cls, "default_model_config_class", None)
    if config_class is None:
        return case
    fields = attrs.fields_dict(config_class)
    merged = {**{k: v for k, v in overrides.items() if k in fields}, **(case.model_config or {})}
    return attrs.evolve(case, model_config=merged or None)
