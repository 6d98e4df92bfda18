"""``check_module``: every check over every space case, collected in one report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import torch
from rlmodules import registry
from rlmodules.errors import SpaceError, SpecError, UnknownNameError, did_you_mean
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import RLModule
from rlmodules.specs import RLModuleSpec

from . import action_checks as act
from . import forward_checks as fwd
from . import persistence_checks as saved
from . import state_checks as state
from .check import Check
from .errors import ConformanceError
from .report import FAIL, PASS, SKIP, CheckResult, ConformanceReport
from .spaces import SpaceCase, space_cases_for
from .subject import Subject, make_subject

__all__ = ["ALL_CHECKS", "check_module", "resolve_checks"]

#: Every check, in the order they run (cheap and fundamental first).
ALL_CHECKS: tuple[Check, ...] = (
    fwd.check_forward_outputs,
    state.check_state_shapes,
    act.check_action_dist_width,
    act.check_compute_actions,
    act.check_logp_entropy,
    fwd.check_deterministic_inference,
    fwd.check_train_mode_inference,
    fwd.check_gradients,
    state.check_sequence_equivalence,
    saved.check_state_round_trip,
    saved.check_checkpoint_round_trip,
    saved.check_inference_only_load,
    saved.check_spec_json_round_trip,
)


def check_module(
    module_or_spec_or_name: Any,
    observation_space: Any = None,
    action_space: Any = None,
    *,
    model_config: Any = None,
    checks: Sequence[Check | str] | None = None,
    space_cases: Sequence[SpaceCase] | None = None,
    raise_on_failure: bool = True,
    batch_size: int = 3,
    seq_len: int = 4,
    seed: int = 0,
) -> ConformanceReport:
    """Check a module against the RLModule contract, like Gymnasium's ``check_env``.

    ``module_or_spec_or_name`` is a built module (or MultiRLModule: each sub-module is
    checked), an ``RLModuleSpec``, a module class, a registered name or an import path.
    Without spaces, a class or name is checked on every case of its ``conformance_spaces``
    (or the default grid, whose cases it rejects with a ``SpaceError`` are skipped), or on
    ``space_cases`` when given. ``checks`` picks checks by object or name. Failures raise one
    :class:`ConformanceError` listing every failed check and its fix, unless
    ``raise_on_failure=False``; soft issues warn with :class:`ConformanceWarning`. The global
    torch RNG is left as it was.

    Example::

        report = check_module("ppo", Box(-1, 1, (4,)), Discrete(2),
                              model_config={"fcnet_hiddens": [32]})
        print(report.summary())
    """
    selected = resolve_checks(checks)
    report = ConformanceReport(_describe(module_or_spec_or_name))
    with torch.random.fork_rng(devices=[]):
        plan = _plan(module_or_spec_or_name, observation_space, action_space, model_config)
        if space_cases is not None:
            plan = [(p, t, list(space_cases), False) for p, t, _, _ in plan]
        for prefix, target, cases, whole_grid in plan:
            built = 0
            for case in cases:
                subject = _build(report, prefix, target, case, batch_size, seq_len, seed)
                if subject is not None:
                    built += 1
                    _run_checks(report, selected, subject)
            if whole_grid and not built:
                report.results.append(CheckResult(
                    "build", FAIL,
                    f"none of the {len(cases)} space cases builds. Fix: give the module class a "
                    f"conformance_spaces list of (observation_space, action_space) pairs it "
                    f"supports, or pass the spaces explicitly",
                ))
    if raise_on_failure and not report.ok:
        failed = report.failed
        lines = "\n".join(f"- {r.name} [{r.case}]: {r.message}" for r in failed)
        raise ConformanceError(
            f"{report.target} fails {len(report.failed_names)} conformance check(s) "
            f"({', '.join(report.failed_names)}):\n{lines}",
            check=failed[0].name,
            report=report,
        )
    return report


def resolve_checks(checks: Sequence[Check | str] | None) -> tuple[Check, ...]:
    """Checks by object or name (``None`` means all); an unknown name suggests the closest."""
    if checks is None:
        return ALL_CHECKS
    if isinstance(checks, (str, Check)):
        checks = [checks]
    by_name = {c.name: c for c in ALL_CHECKS}
    chosen = []
    for item in checks:
        if isinstance(item, Check):
            chosen.append(item)
        elif item in by_name:
            chosen.append(by_name[item])
        else:
            raise UnknownNameError(
                f"unknown conformance check {item!r}.{did_you_mean(str(item), by_name)} "
                f"Checks: {', '.join(by_name)}"
            )
    return tuple(chosen)


def _describe(target: Any) -> str:
    if isinstance(target, (RLModule, RLModuleSpec)):
        cls = target.module_class if isinstance(target, RLModuleSpec) else type(target)
        return cls if isinstance(cls, str) else getattr(cls, "__name__", repr(cls))
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


def _plan(
    target: Any, observation_space: Any, action_space: Any, model_config: Any
) -> list[tuple[str, Any, list[SpaceCase | None], bool]]:
    """``(label prefix, target, cases, cases-are-the-class's-grid)`` per module to check."""
    if not isinstance(target, (RLModule, MultiRLModule, RLModuleSpec, str, type)):
        raise SpecError(
            f"cannot check {target!r}: pass a built RLModule, an RLModuleSpec, a module class, "
            f"a registered name such as 'ppo', or an import path 'pkg.mod:Class'"
        )
    given = observation_space is not None or action_space is not None
    if isinstance(target, (RLModule, MultiRLModule)):
        if given or model_config is not None:
            raise SpecError(
                "check_module got a built module and spaces/model_config; the module already "
                "has them. Pass a name, class or RLModuleSpec to check other spaces"
            )
        if isinstance(target, MultiRLModule):
            return [(f"{mid}: ", sub, [None], False) for mid, sub in target.items()]
        return [("", target, [None], False)]
    if given:
        if observation_space is None or action_space is None:
            raise SpecError(
                f"check_module got only {'an observation' if action_space is None else 'an action'}"
                f" space; pass both observation_space and action_space, or neither to use the "
                f"module's conformance_spaces"
            )
        return [("", target, [SpaceCase(observation_space, action_space, model_config)], False)]
    if isinstance(target, RLModuleSpec) and target.observation_space is not None:
        if model_config is not None:
            target = attrs.evolve(target, model_config=model_config)
        return [("", target, [None], False)]
    module_class = target.module_class if isinstance(target, RLModuleSpec) else target
    cls = registry.get("module", module_class)
    if isinstance(cls, type) and issubclass(cls, MultiRLModule):
        raise SpecError(
            f"{_describe(target)} is a MultiRLModule class; check a built MultiRLModule "
            f"(each sub-module is checked) or its sub-modules' specs"
        )
    cases = space_cases_for(cls)
    if model_config is not None:
        cases = [SpaceCase(c.observation_space, c.action_space, model_config) for c in cases]
    return [("", target, list(cases), True)]


def _build(
    report: ConformanceReport,
    prefix: str,
    target: Any,
    case: SpaceCase | None,
    batch_size: int,
    seq_len: int,
    seed: int,
) -> Subject | None:
    label = prefix + (case.id if case is not None else "")
    try:
        subject = make_subject(target, case, batch_size=batch_size, seq_len=seq_len, seed=seed)
    except SpaceError as exc:
        status = SKIP if case is not None and case.optional else FAIL
        message = f"the module rejects these spaces: {exc}"
        report.results.append(CheckResult("build", status, message, label))
        return None
    except Exception as exc:
        message = f"building the module raised {type(exc).__name__}: {exc}"
        report.results.append(CheckResult("build", FAIL, message, label))
        return None
    subject.case = prefix + subject.case
    report.results.append(CheckResult("build", PASS, type(subject.module).__name__, subject.case))
    return subject


def _run_checks(report: ConformanceReport, checks: tuple[Check, ...], subject: Subject) -> None:
    failed: set[str] = set()
    for check in checks:
        blocking = [name for name in check.requires if name in failed]
        if blocking:
            report.results.append(CheckResult(
                check.name, SKIP, f"needs {', '.join(blocking)}, which failed", subject.case
            ))
            continue
        result = check.run(subject)
        if result.status == FAIL:
            failed.add(check.name)
        report.results.append(result)
