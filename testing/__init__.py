"""The conformance kit: check any RL module against the RLModule contract.

``check_module`` runs small named checks (each importable on its own, e.g.
``check_gradients``) over a module, spec, class or registered name, and raises a
:class:`ConformanceError` naming each failed check and its fix. The pytest plugin
(``rlmodules_conformance_case`` fixture) runs it over every name a distribution registers.
Importing this package is cheap: torch is imported when a check is first used.

Example::

    from rlmodules.testing import check_module

    check_module("ppo")                                  # every declared space case
    check_module(my_module)                              # a built module, on its spaces
    report = check_module("lstm", obs_space, act_space, raise_on_failure=False)
    print(report.summary())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

from .errors import CheckSkipped, ConformanceError, ConformanceWarning

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "check_module": "runner",
    "ALL_CHECKS": "runner",
    "Check": "check",
    "CheckResult": "report",
    "ConformanceReport": "report",
    "SpaceCase": "spaces",
    "default_space_grid": "spaces",
    "space_cases_for": "spaces",
    "ConformanceCase": "cases",
    "conformance_cases": "cases",
    "check_forward_outputs": "forward_checks",
    "check_action_dist_width": "action_checks",
    "check_compute_actions": "action_checks",
    "check_logp_entropy": "action_checks",
    "check_deterministic_inference": "forward_checks",
    "check_train_mode_inference": "forward_checks",
    "check_gradients": "forward_checks",
    "check_state_shapes": "state_checks",
    "check_sequence_equivalence": "state_checks",
    "check_state_round_trip": "persistence_checks",
    "check_checkpoint_round_trip": "persistence_checks",
    "check_inference_only_load": "persistence_checks",
    "check_spec_json_round_trip": "persistence_checks",
    "DiscreteBCTorchModule": "bc_module",
    "BCConfigTest": "bc_algorithm",
}

__all__ = ["CheckSkipped", "ConformanceError", "ConformanceWarning", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .action_checks import check_action_dist_width, check_compute_actions, check_logp_entropy
    from .bc_algorithm import BCConfigTest
    from .bc_module import DiscreteBCTorchModule
    from .cases import ConformanceCase, conformance_cases
    from .check import Check
    from .forward_checks import (
        check_deterministic_inference,
        check_forward_outputs,
        check_gradients,
        check_train_mode_inference,
    )
    from .persistence_checks import (
        check_checkpoint_round_trip,
        check_inference_only_load,
        check_spec_json_round_trip,
        check_state_round_trip,
    )
    from .report import CheckResult, ConformanceReport
    from .runner import ALL_CHECKS, check_module
    from .spaces import SpaceCase, default_space_grid, space_cases_for
    from .state_checks import check_sequence_equivalence, check_state_shapes
