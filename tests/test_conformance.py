"""The conformance kit: every registered module passes, each broken module fails the
right check with its fix, and the kit's own API, CLI and pytest plugin behave."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import conformance_modules as cm
import gymnasium as gym
import numpy as np
import pytest
from rlmodules import RLModuleSpec, SpaceError, SpecError, UnknownNameError
from rlmodules.cli import main
from rlmodules.errors import RLModulesError
from rlmodules.testing import (
    ALL_CHECKS,
    ConformanceError,
    SpaceCase,
    check_gradients,
    check_module,
    conformance_cases,
    space_cases_for,
)

# Small layers keep the registry-wide run fast; the grid of spaces is the full one.
FAST = {"fcnet_hiddens": [32], "lstm_cell_size": 32}


# --- every registered module name (built-in and installed contrib) ----------------------------
@pytest.mark.rlmodules_conformance(model_config=FAST)
# Soft findings (mobilenet_v2's batch-norm makes inference depend on train/eval mode) are
# warnings, not failures; the warning itself is tested below with pytest.warns.
@pytest.mark.filterwarnings("ignore::rlmodules.testing.ConformanceWarning")
def test_registered_module_conforms(rlmodules_conformance_case):
    rlmodules_conformance_case.check()


def test_registered_names_are_all_covered():
    from rlmodules import registry

    covered = {case.name for case in conformance_cases()}
    containers = {"multi_rl_module"}  # a MultiRLModule class yields no cases: check a built one
    assert {rec.name for rec in registry.list("module")} - containers <= covered
    assert {"bc", "ppo", "dqn"} <= covered


# --- deliberately broken modules --------------------------------------------------------------
BROKEN = [
    (cm.WrongWidthPolicy, "action_dist_width", "required_input_dim"),
    (cm.MissingKeyPolicy, "forward_outputs", "'logits'"),
    (cm.DetachedPolicy, "gradients", "net.0.weight"),
    (cm.TorchLayoutStatePolicy, "state_shapes", "(1, 3, 16)"),
    (cm.NoisyInferencePolicy, "deterministic_inference", "eval mode differ"),
    (cm.HelperNoisePolicy, "train_mode_inference", "self.training"),
    (cm.ConfigMutatingPolicy, "checkpoint_round_trip", "from_checkpoint"),
]


@pytest.mark.parametrize(("module_class", "check", "detail"), BROKEN,
                         ids=[b[1] for b in BROKEN])
def test_broken_module_fails_the_right_check(module_class, check, detail):
    with pytest.raises(ConformanceError) as info:
        check_module(module_class)
    error = info.value
    assert error.check == check
    assert error.report.failed_names == [check]  # follow-up checks are skipped, not failed
    assert f"- {check} [" in str(error)
    assert detail in str(error)
    assert "Fix: " in str(error)
    assert isinstance(error, RLModulesError) and isinstance(error, AssertionError)


@pytest.mark.parametrize("module_class", [cm.TinyPolicy, cm.GRUPolicy, cm.ActionsOnlyPolicy])
def test_correct_modules_pass(module_class):
    report = check_module(module_class)
    assert report.ok, report.summary()
    assert {r.name for r in report if r.status == "pass"} >= {
        "build", "forward_outputs", "compute_actions", "gradients", "checkpoint_round_trip",
        "inference_only_load", "spec_json_round_trip",
    }


def test_stateful_checks_run_only_on_stateful_modules():
    gru = check_module(cm.GRUPolicy)
    assert [r.status for r in gru.by_name("sequence_equivalence")] == ["pass"]
    assert [r.status for r in gru.by_name("state_shapes")] == ["pass"]
    tiny = check_module(cm.TinyPolicy)
    assert tiny.by_name("state_shapes")[0].status == "skip"
    assert "stateless module" in tiny.by_name("state_shapes")[0].message


def test_modules_returning_actions_skip_the_width_check():
    report = check_module(cm.ActionsOnlyPolicy, checks=["action_dist_width"])
    # forward_train still returns action_dist_inputs, so the width is checked there
    assert report.by_name("action_dist_width")[0].status == "pass"
    assert "forward_train: 3" in report.by_name("action_dist_width")[0].message


@pytest.mark.parametrize("module_class", [cm.DropoutPolicy, cm.BatchNormPolicy])
def test_dropout_and_batch_norm_act_in_eval_mode(module_class):
    report = check_module(module_class, checks=["train_mode_inference"])
    assert report.ok and not report.by_name("train_mode_inference")[0].warnings


# --- space cases ------------------------------------------------------------------------------
def test_default_grid_skips_rejected_spaces_with_the_reason():
    report = check_module(cm.TinyPolicy, checks=["forward_outputs"])
    builds = report.by_name("build")
    assert len(builds) == len(space_cases_for(cm.TinyPolicy)) > 5
    assert [b.case for b in builds if b.status == "pass"] == ["Box(4,)->Discrete(3)"]
    skipped = [b for b in builds if b.status == "skip"]
    assert all("takes a 1-D Box observation space" in b.message for b in skipped)


def test_a_module_that_builds_on_no_grid_case_fails():
    class ImagesOnly(cm.TinyPolicy):
        def setup(self):
            raise SpaceError(f"ImagesOnly needs 84x84 images, got {self.observation_space}")

    report = check_module(ImagesOnly, raise_on_failure=False)
    assert report.failed_names == ["build"]
    assert "none of the 9 space cases builds" in report.failed[0].message
    assert "conformance_spaces" in report.failed[0].message


def test_declared_spaces_that_the_module_rejects_fail():
    class Liar(cm.TinyPolicy):
        conformance_spaces = [(gym.spaces.Discrete(3), gym.spaces.Discrete(2))]

    report = check_module(Liar, raise_on_failure=False)
    assert report.failed_names == ["build"]
    assert report.failed[0].message == (
        "Liar does not support these spaces: Liar takes a 1-D Box observation space and "
        "a Discrete action space, got Discrete(3) and Discrete(2). Fix: check only the spaces "
        "it supports: declare them on the class, e.g. conformance_spaces = [\"box-discrete\"], "
        "or pass --spaces (names: rlmodules check --list-spaces)")


def test_conformance_spaces_may_be_a_classmethod_of_cases():
    class Declared(cm.TinyPolicy):
        @classmethod
        def conformance_spaces(cls):
            return [SpaceCase(gym.spaces.Box(-1, 1, (2,), np.float32), gym.spaces.Discrete(5))]

    assert [c.id for c in space_cases_for(Declared)] == ["Box(2,)->Discrete(5)"]


@pytest.mark.parametrize("declared, message", [
    ([("not", "spaces")], "invalid entry ('not', 'spaces')"),
    ([], "conformance_spaces is empty"),
    (42, "must be a list of (observation_space, action_space) pairs"),
])
def test_bad_conformance_spaces_are_a_spec_error(declared, message):
    bad = type("Bad", (cm.TinyPolicy,), {"conformance_spaces": declared})
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        space_cases_for(bad)


# --- targets, options and errors --------------------------------------------------------------
def test_built_module_spec_and_import_path_are_all_accepted():
    module = RLModuleSpec(module_class=cm.TinyPolicy, observation_space=cm.OBS_SPACE,
                          action_space=cm.ACTION_SPACE).build()
    assert check_module(module, checks=["gradients"]).ok
    spec = RLModuleSpec(module_class="conformance_modules:TinyPolicy",
                        observation_space=cm.OBS_SPACE, action_space=cm.ACTION_SPACE)
    assert check_module(spec, checks=["spec_json_round_trip"]).ok


def test_multi_rl_module_checks_each_sub_module():
    module = RLModuleSpec(module_class=cm.TinyPolicy, observation_space=cm.OBS_SPACE,
                          action_space=cm.ACTION_SPACE).build()
    report = check_module(module.as_multi_rl_module(), checks=["forward_outputs"])
    assert [r.case for r in report] == ["default_policy: Box(4,)->Discrete(3)"] * 2


def test_each_check_runs_on_its_own():
    assert check_gradients(cm.TinyPolicy, cm.OBS_SPACE, cm.ACTION_SPACE).status == "pass"
    with pytest.raises(ConformanceError, match=r"gradients failed \[Box\(4,\)->Discrete\(3\)\]"):
        check_gradients(cm.DetachedPolicy, cm.OBS_SPACE, cm.ACTION_SPACE)
    assert len({c.name for c in ALL_CHECKS}) == len(ALL_CHECKS) == 13


def test_the_kit_leaves_the_global_rng_and_module_untouched():
    import torch

    module = RLModuleSpec(module_class=cm.TinyPolicy, observation_space=cm.OBS_SPACE,
                          action_space=cm.ACTION_SPACE).build()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    check_module(module)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert all(p.grad is None for p in module.parameters()) and module.training


def test_report_when_not_raising():
    report = check_module(cm.DetachedPolicy, raise_on_failure=False)
    assert not report.ok and report.failed_names == ["gradients"]
    assert report.summary().splitlines()[-1] == "DetachedPolicy: 11 passed, 1 failed, 10 skipped"


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_module(3.5), SpecError, "cannot check 3.5: pass a built RLModule"),
    (lambda: check_module("ppo", cm.OBS_SPACE), SpecError, "got only an observation space"),
    (lambda: check_module("ppo", checks=["gradient"]), UnknownNameError,
     "unknown conformance check 'gradient'. Did you mean 'gradients'?"),
    (lambda: check_module("no_such_module"), UnknownNameError, "unknown module name"),
])
def test_bad_input_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_a_built_module_with_spaces_is_a_spec_error():
    module = RLModuleSpec(module_class=cm.TinyPolicy, observation_space=cm.OBS_SPACE,
                          action_space=cm.ACTION_SPACE).build()
    with pytest.raises(SpecError, match="the module already has them"):
        check_module(module, cm.OBS_SPACE, cm.ACTION_SPACE)


# --- the command line -------------------------------------------------------------------------
BOX = '{"type": "Box", "shape": [4], "low": -1, "high": 1}'
DISCRETE = '{"type": "Discrete", "n": 3}'


def test_cli_prints_one_line_per_check(capsys):
    code = main(["check", "ppo", "--obs-space", BOX, "--action-space", DISCRETE,
                 "--model-config", '{"fcnet_hiddens": [16]}'])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("PASS  build [Box(4,)->Discrete(3)+config]: DefaultPPOTorchRLModule")
    assert any(line.startswith("SKIP  state_shapes") and "stateless" in line for line in out)
    assert len(out) == len(ALL_CHECKS) + 2 and out[-1].endswith("0 failed, 2 skipped")


def test_cli_fails_on_a_broken_module(capsys):
    code = main(["check", "conformance_modules:DetachedPolicy"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  gradients [Box(4,)->Discrete(3)]: 2 of 4 trainable parameters" in out


@pytest.mark.parametrize("argv, message", [
    (["check", "ppo", "--obs-space", "{bad"], "needs both --obs-space and --action-space"),
    (["check", "ppo", "--obs-space", "{bad", "--action-space", DISCRETE],
     "--obs-space is not valid JSON"),
    (["check", "ppo", "--obs-space", '{"type": "Boxx"}', "--action-space", DISCRETE],
     "unknown space type 'Boxx'"),
    (["check", "ppo", "--model-config", "[1]"], "--model-config must be a JSON object"),
    (["check"], "needs a module NAME"),
])
def test_cli_bad_arguments(capsys, argv, message):
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_cli_lists_checks(capsys):
    assert main(["check", "--list-checks"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == [c.name for c in ALL_CHECKS]


# --- a throwaway plugin package that uses the pytest plugin -----------------------------------
_PLUGIN = '''
import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlmodules import Columns, TorchRLModule, hookimpl

OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


class ToyPolicy(TorchRLModule):
    conformance_spaces = [(OBS, gym.spaces.Discrete(2)), (OBS, gym.spaces.Discrete(4))]

    def setup(self):
        self.pi = nn.Linear(3, int(self.action_space.n))

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


class FrozenToyPolicy(ToyPolicy):
    def _forward_train(self, batch, **kwargs):
        with torch.no_grad():
            return self._forward(batch)


@hookimpl
def rlmodules_modules():
    return {"toy": "toy_rl_plugin:ToyPolicy", "frozen_toy": "toy_rl_plugin:FrozenToyPolicy"}
'''

_TESTS = '''
import pytest


@pytest.mark.rlmodules_conformance(distribution="toy-rl-plugin")
def test_conformance(rlmodules_conformance_case):
    rlmodules_conformance_case.check()
'''


def _plugin_package(root: Path) -> None:
    (root / "toy_rl_plugin.py").write_text(textwrap.dedent(_PLUGIN))
    info = root / "toy_rl_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-rl-plugin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[rlmodules]\ntoy = toy_rl_plugin\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_toy.py").write_text(textwrap.dedent(_TESTS))


def test_a_plugin_package_runs_the_kit_through_the_pytest_plugin(tmp_path):
    _plugin_package(tmp_path)
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "tests"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "PASSED tests/test_toy.py::test_conformance[toy-Box(3,)->Discrete(2)]" in out
    assert "PASSED tests/test_toy.py::test_conformance[toy-Box(3,)->Discrete(4)]" in out
    assert "FAILED tests/test_toy.py::test_conformance[frozen_toy-Box(3,)->Discrete(2)]" in out
    assert "FAIL  gradients [Box(3,)->Discrete(2)]: no tensor returned by forward_train" in out
    assert "2 failed, 2 passed" in out
    assert "bc-" not in out and "ppo-" not in out  # only the plugin's own names


@pytest.mark.parametrize(
    "options, message",
    [
        ({"distribution": "rlmodules-lstmm"},
         "conformance cases for distribution='rlmodules-lstmm': no installed distribution "
         "'rlmodules-lstmm' provides modules (these do: "),
        ({"names": ["ppo", "ppp"]},
         "conformance cases for names=['ppo', 'ppp']: module names ['ppp'] are not registered ("),
        ({"plugin": "nope"}, "conformance cases for plugin='nope': no plugin 'nope' provides "
                             "modules (these do: "),
    ],
    ids=["distribution", "names", "plugin"],
)
def test_a_filter_that_matches_nothing_is_an_error_not_an_empty_run(options, message):
    with pytest.raises(UnknownNameError) as info:
        conformance_cases(**options)
    assert str(info.value).startswith(message)


def test_the_pytest_plugin_fails_when_the_marker_matches_no_module(tmp_path):
    (tmp_path / "test_typo.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.rlmodules_conformance(distribution="rlmodules-lstmm")
        def test_conformance(rlmodules_conformance_case):
            rlmodules_conformance_case.check()
    '''))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "test_typo.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "ERROR test_typo.py::test_conformance[no-matching-modules]" in out
    assert ("@pytest.mark.rlmodules_conformance: conformance cases for "
            "distribution='rlmodules-lstmm': no installed distribution 'rlmodules-lstmm' "
            "provides modules") in out
    assert "empty parameter set" not in out
