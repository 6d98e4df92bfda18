"""``rlmodules check`` on a module that supports only some spaces: the default grid is
named, and the advice fits what failed."""

import torch
from gymnasium.spaces import Box, Discrete, MultiDiscrete
from rlmodules import Columns, TorchRLModule, hookimpl
from rlmodules.cli import main
from rlmodules.testing import check_module


class PlainPolicy(TorchRLModule):
    """A linear policy for flat Box observations and Discrete actions, nothing else."""

    def setup(self):
        self.pi = torch.nn.Linear(self.observation_space.shape[0], self.action_space.n)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


class Plugin:
    @hookimpl
    def rlmodules_modules(self):
        return {"plain_policy": PlainPolicy}


def test_a_module_without_conformance_spaces_hears_of_them(rlmodules_registry, capsys):
    rlmodules_registry.register_plugin(Plugin(), name="plain")
    assert main(["check", "plain_policy"]) == 1
    out = capsys.readouterr().out.splitlines()
    note = next(line for line in out if line.startswith("NOTE  "))
    assert note.startswith("NOTE  plain_policy declares no conformance_spaces, so it was "
                           "checked on the default grid of 9 space cases, ")
    assert "conformance_spaces = [(Box(-1.0, 1.0, (4,)), Discrete(2))]" in note
    assert out[-1].startswith("plain_policy: ")
    # Its uint8 image case raised inside the module: the advice is about the spaces, not
    # about which columns a forward returns.
    raised = next(line for line in out if line.startswith("FAIL  forward_outputs [Box(42"))
    assert "raised RuntimeError" in raised
    assert "Fix: the module raised on these spaces before returning anything" in raised
    assert "return a dict with Columns.ACTION_DIST_INPUTS" not in raised


class DeclaredPolicy(PlainPolicy):
    conformance_spaces = [(Box(-1.0, 1.0, (4,)), Discrete(2)),
                          (Box(-1.0, 1.0, (3,)), MultiDiscrete([2, 2]))]  # not supported


def test_declared_spaces_get_no_note_about_the_default_grid():
    report = check_module(DeclaredPolicy, raise_on_failure=False)
    assert report.failed and report.notes == []
