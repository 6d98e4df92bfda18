"""Public face: lazy imports, the error hierarchy, no import-time side effects."""

from __future__ import annotations

import subprocess
import sys

import pytest
import rlmodules
from rlmodules import errors


def test_every_public_name_resolves():
    for name in rlmodules.__all__:
        assert getattr(rlmodules, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        rlmodules.Nope  # noqa: B018


def test_import_is_cheap_and_side_effect_free():
    code = (
        "import sys, rlmodules, rlmodules.registry, rlmodules.plugins;"
        "assert 'torch' not in sys.modules, 'torch imported';"
        "assert rlmodules.registry._current is None, 'registry created at import';"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize(
    "cls, builtin",
    [
        (errors.UnknownNameError, LookupError),
        (errors.AmbiguousNameError, LookupError),
        (errors.ConfigError, ValueError),
        (errors.SpecError, ValueError),
        (errors.SpaceError, ValueError),
        (errors.BatchError, ValueError),
        (errors.CheckpointError, ValueError),
        (errors.PluginError, RuntimeError),
    ],
)
def test_errors_derive_from_the_base_and_the_fitting_builtin(cls, builtin):
    assert issubclass(cls, errors.RLModulesError) and issubclass(cls, builtin)


def test_lookup_errors_print_their_message_unquoted():
    assert str(errors.UnknownNameError("unknown 'x'")) == "unknown 'x'"


def test_subpackages_are_reachable_as_attributes_after_a_bare_import():
    code = """
import sys, rlmodules
assert 'rlmodules.registry' not in sys.modules, 'registry imported eagerly'

class P:
    @rlmodules.hookimpl
    def rlmodules_modules(self):
        return {'attr_net': 'rlmodules.plugins.ppo:DefaultPPOTorchRLModule'}

rlmodules.registry.register_plugin(P(), name='attr')
assert 'torch' not in sys.modules, 'torch imported'
names = ('registry', 'plugins', 'algorithms', 'envs', 'testing', 'cli')
assert all(getattr(rlmodules, n).__name__ == 'rlmodules.' + n for n in names)
assert set(names) <= set(dir(rlmodules))
assert 'torch' not in sys.modules, 'torch imported by a sub-package'
print(rlmodules.registry.record('module', 'attr_net').qualified_name)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "attr/attr_net", result.stderr
