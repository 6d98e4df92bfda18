"""In-process plugins, conflicts, overrides and decision hooks, through the public API."""

from __future__ import annotations

import pytest
import rlmodules
from rlmodules import AmbiguousNameError, PluginError, UnknownNameError, registry


class Tiny:
    """A stand-in module class."""


class Other:
    pass


class ModulesPlugin:
    def __init__(self, table):
        self.table = table

    @rlmodules.hookimpl
    def rlmodules_modules(self):
        return self.table


@pytest.fixture
def reg():
    with registry.isolated_registry(autoload=False, use_cache=False) as isolated:
        yield isolated


def test_register_plugin_resolves_like_an_entry_point(reg):
    assert registry.register_plugin(ModulesPlugin({"tiny": Tiny}), name="mine") == "mine"
    assert registry.get("module", "tiny") is Tiny
    assert registry.get("module", "mine/tiny") is Tiny
    assert registry.get("module", Tiny) is Tiny
    assert registry.name_of("module", Tiny) == "mine/tiny"
    [rec] = registry.list("module", "tin?")
    assert (rec.plugin, rec.distribution, rec.status, rec.target_path) == (
        "mine", None, "ok", f"{__name__}:Tiny")
    registry.unregister_plugin("mine")
    assert registry.list("module", "tiny") == []
    with pytest.raises(UnknownNameError, match="unknown module name 'tiny'"):
        registry.get("module", "tiny")


def test_in_process_conflict_is_ambiguous_never_last_wins(reg):
    registry.register_plugin(ModulesPlugin({"net": Tiny}), name="one")
    registry.register_plugin(ModulesPlugin({"net": Other}), name="two")
    with pytest.raises(AmbiguousNameError) as caught:
        registry.get("module", "net")
    assert str(caught.value) == (
        "module name 'net' is provided by 2 plugins: 'one/net', 'two/net'. Use a qualified "
        "name to choose one (e.g. 'one/net'), or uninstall or block one "
        "(RLMODULES_BLOCK=<plugin>)."
    )
    assert registry.get("module", "two/net") is Other
    assert {r.qualified_name: r.status for r in registry.list("module", "net")} == {
        "one/net": "conflict", "two/net": "conflict"}


def test_shadowing_a_builtin_needs_an_explicit_override(reg):
    registry.register_plugin(ModulesPlugin({"ppo": Tiny}), name="plain")
    with pytest.raises(AmbiguousNameError, match=r"rlmodules\.registry\.override"):
        registry.record("module", "ppo")
    registry.unregister_plugin("plain")
    registry.register_plugin(ModulesPlugin({"ppo": registry.override(Tiny)}), name="faster")
    assert registry.get("module", "ppo") is Tiny
    assert registry.record("module", "rlmodules/ppo").target_path.endswith(
        ":DefaultPPOTorchRLModule")
    assert {r.qualified_name: r.status for r in registry.list("module", "ppo")} == {
        "faster/ppo": "override", "rlmodules/ppo": "overridden"}


@pytest.mark.parametrize(("table", "message"), [
    ({"bad/name": Tiny}, "returned invalid name 'bad/name'"),
    ({"x": "no_colon_path"}, "gives 'x' the target 'no_colon_path'; a lazy target is an import"),
    ({"x": None}, "gives 'x' the target None; expected a class or object"),
    ("tiny", "must return a dict of name -> target, got str 'tiny'"),
])
def test_invalid_registrations_raise_and_leave_nothing(reg, table, message):
    class TwoHooks(ModulesPlugin):
        @rlmodules.hookimpl
        def rlmodules_distributions(self):
            return {"leftover": Tiny}

    with pytest.raises(PluginError, match=message):
        registry.register_plugin(TwoHooks(table), name="bad")
    assert registry.list(pattern="leftover") == []
    assert registry.register_plugin(ModulesPlugin({}), name="bad") == "bad"  # name is free


def test_raising_hook_and_duplicate_names_raise_plugin_error(reg):
    class Raising:
        @rlmodules.hookimpl
        def rlmodules_catalogs(self):
            raise KeyError("boom")

    with pytest.raises(PluginError, match=r"cannot register plugin 'Raising' \(hook\): 'boom'"):
        registry.register_plugin(Raising())
    registry.register_plugin(ModulesPlugin({}), name="taken")
    with pytest.raises(PluginError, match="a plugin named 'taken' is already registered"):
        registry.register_plugin(ModulesPlugin({}), name="taken")
    with pytest.raises(UnknownNameError, match="no plugin 'nope' is registered; registered"):
        registry.unregister_plugin("nope")


def test_decision_hook_of_an_in_process_plugin_comes_first(reg):
    class Chooser:
        @rlmodules.hookimpl(tryfirst=True)
        def rlmodules_action_dist_cls(self, action_space, model_config, catalog):
            return "my_dist" if action_space == "special" else None

    registry.register_plugin(Chooser())
    choice, _ = registry.current().decide(
        "rlmodules_action_dist_cls", lambda answer, plugin: answer,
        action_space="special", model_config=None, catalog=None, module_class=None)
    assert choice == "my_dist"


def test_unknown_names_and_kinds_explain_themselves(reg):
    with pytest.raises(UnknownNameError) as caught:
        registry.get("module", "mobilenet_v2")
    assert "'mobilenet_v2' is provided by a plugin: `pip install rlmodules-mobilenet`" in str(
        caught.value)
    assert "Installed module names: bc, dqn, ppo, ppo_action_masking, sac." in str(
        caught.value)
    with pytest.raises(UnknownNameError, match="unknown registry kind 'modules'; Did you mean "
                       "'module'"):
        registry.get("modules", "ppo")
    with pytest.raises(
        UnknownNameError,
        match=r"cannot import 'no_such_pkg.mod' \(No module named 'no_such_pkg'\); is the ",
    ):
        registry.get("module", "no_such_pkg.mod:Cls")
    with pytest.raises(UnknownNameError, match="is an import path, not a registered module"):
        registry.record("module", "pkg.mod:Cls")


def test_unloadable_lazy_target_names_its_plugin(reg):
    registry.register_plugin(ModulesPlugin({"ghost": "no_such_pkg.mod:Ghost"}), name="haunted")
    with pytest.raises(PluginError, match=r"module 'haunted/ghost' points to "
                       r"'no_such_pkg.mod:Ghost', which cannot be loaded"):
        registry.get("module", "ghost")


def test_warm_resolution_is_a_cached_lookup(reg):
    registry.register_plugin(ModulesPlugin({"lazy": f"{__name__}:Tiny"}), name="lazy")
    first = registry.get("module", "lazy")
    assert first is Tiny and registry.get("module", "lazy") is first
    registry.unregister_plugin("lazy")
    with pytest.raises(UnknownNameError):
        registry.get("module", "lazy")  # the resolution cache does not outlive the plugin


def test_fixture_isolates_in_process_registrations(rlmodules_registry):  # noqa: F811
    assert registry.current() is rlmodules_registry
    rlmodules_registry.register_plugin(ModulesPlugin({"fixture_only": Tiny}), name="fx")
    assert registry.get("module", "fixture_only") is Tiny


def test_fixture_registration_did_not_leak():
    with registry.isolated_registry(autoload=False, use_cache=False):
        assert registry.list(pattern="fixture_only") == []
