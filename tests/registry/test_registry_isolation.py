"""One plugin never breaks another: decision hooks, plugins that exit, third-party names of
our defaults, aliases that loop, catalogs that are not catalogs, forged caches."""

from __future__ import annotations

import marshal
import sys
import zlib

import gymnasium as gym
import pytest
import rlmodules
from rlmodules import PluginError, RLModuleSpec, SpecError, registry
from rlmodules.registry import PluginWarning

OBS, ACT = gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2)


def _example_beta():
    from rlmodules.plugins.distributions import DiagGaussian

    class ExampleBeta(DiagGaussian):
        """Stands in for the Beta distribution of the hookspec's example."""

    return ExampleBeta


ExampleBeta = _example_beta()


@pytest.fixture
def reg():
    with registry.isolated_registry(autoload=False, use_cache=False) as fresh:
        yield fresh


def build(**spec):
    return RLModuleSpec(**{"module_class": "ppo", "observation_space": OBS,
                           "action_space": ACT, **spec}).build()


class Raises:
    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_build_encoder(self, observation_space):
        raise RuntimeError("encoder plugin exploded")

    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_action_dist_cls(self, action_space):
        sys.exit(3)


class Garbage:
    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_build_encoder(self):
        return "not an encoder"

    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_action_dist_cls(self):
        return "no_such_distribution"


@pytest.mark.parametrize("plugin, message", [
    (Raises(), "RuntimeError: encoder plugin exploded"),
    (Garbage(), "rlmodules_build_encoder() returned 'not an encoder': expected an "
                "rlmodules.Encoder"),
])
def test_a_failing_decision_hook_is_skipped_and_reported(reg, plugin, message):
    reg.register_plugin(plugin, name="bad")
    with pytest.warns(PluginWarning) as caught:
        module = build()  # the built-in answers instead
    assert module.get_train_action_dist_cls().base_class().__name__ == "Categorical"
    texts = [str(w.message) for w in caught]
    assert any("rlmodules plugin 'bad' failed in a decision hook: " in t and message in t
               and t.endswith("its answer was skipped. Run `rlmodules doctor` for details.")
               for t in texts), texts
    assert {f.stage for f in reg.failures} == {"decision"}
    with warnings_as_errors_off():
        build()  # reported once per failure, not at every build
    with registry.isolated_registry(autoload=False, use_cache=False, strict=True) as strict:
        strict.register_plugin(type(plugin)(), name="bad")
        with pytest.raises(PluginError, match=r"plugin 'bad' failed in a decision hook.*strict"):
            build()


class warnings_as_errors_off:
    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self.caught = self._catch.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        assert not [str(w.message) for w in self.caught if issubclass(w.category, PluginWarning)]


def test_decision_hooks_get_the_module_class_and_its_config_and_their_own_names(reg):
    from rlmodules.plugins.distributions import Categorical

    seen = []

    class ScopedCategorical(Categorical):
        pass

    class Scoped:
        @rlmodules.hookimpl
        def rlmodules_distributions(self):
            return {"categorical": ScopedCategorical}  # this plugin's own "categorical"

        @rlmodules.hookimpl(tryfirst=True)
        def rlmodules_action_dist_cls(self, action_space, model_config, catalog, module_class):
            seen.append((module_class.__name__, model_config.fcnet_hiddens, catalog))
            return "categorical"

    reg.register_plugin(Scoped(), name="scoped")
    with pytest.raises(rlmodules.AmbiguousNameError):
        registry.get("distribution", "categorical")  # the plain name is ambiguous ...
    module = build(model_config={"fcnet_hiddens": [8]})
    assert seen[0][:2] == ("DefaultPPOTorchRLModule", [8]) and seen[0][2] is module.catalog
    # ... yet the hook's answer means its own plugin's distribution
    assert module.get_metadata()["module"]["action_distributions"]["train"]["name"] == (
        "scoped/categorical")


def test_the_hookspec_example_works_when_copied(reg):
    from rlmodules.plugins.ppo import DefaultPPOTorchRLModule

    class MyBetaPolicy(DefaultPPOTorchRLModule):
        pass

    namespace = {"rlmodules": rlmodules, "gym": gym, "MyBetaPolicy": MyBetaPolicy}
    doc = rlmodules.hookspecs.rlmodules_action_dist_cls.__doc__
    example = doc.split("Example::")[1]
    code = "\n".join(line[8:] for line in example.splitlines())
    exec(compile(code, "hookspec-example", "exec"), namespace)

    class Example:
        rlmodules_action_dist_cls = staticmethod(namespace["rlmodules_action_dist_cls"])

        @rlmodules.hookimpl
        def rlmodules_distributions(self):
            return {"beta": ExampleBeta}

    reg.register_plugin(Example(), name="example")
    box = gym.spaces.Box(-1, 1, (2,))
    plain = build(action_space=box)  # not the plugin's module: untouched
    ours = RLModuleSpec(module_class=MyBetaPolicy, observation_space=OBS,
                        action_space=box).build()
    assert plain.get_train_action_dist_cls().base_class().__name__ == "DiagGaussian"
    assert ours.get_train_action_dist_cls().base_class() is ExampleBeta


def test_a_third_party_ppo_does_not_break_the_trainer(reg):
    from rlmodules.algorithms import PPOConfig

    class ThirdParty:
        @rlmodules.hookimpl
        def rlmodules_modules(self):
            return {"ppo": "rlmodules.plugins.bc:DefaultBCTorchRLModule"}

        @rlmodules.hookimpl
        def rlmodules_catalogs(self):
            return {"ppo": "rlmodules.plugins.bc:BCCatalog"}

    reg.register_plugin(ThirdParty(), name="third")
    with pytest.raises(rlmodules.AmbiguousNameError):
        registry.get("module", "ppo")
    algo = (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1).build())
    assert type(algo.module["default_policy"]).__name__ == "DefaultPPOTorchRLModule"


def test_an_alias_cycle_is_an_error_not_a_recursion(reg):
    class Loop:
        @rlmodules.hookimpl
        def rlmodules_aliases(self):
            return {"module": {"a": "b", "b": "a"}}

    reg.register_plugin(Loop(), name="loop")
    with pytest.warns(DeprecationWarning), pytest.raises(
            PluginError, match=r"module aliases form a cycle: a -> b -> a \(declared by plugin "
                               r"'loop' in rlmodules_aliases\)"):
        registry.get("module", "a")


def test_a_registered_catalog_that_is_not_a_catalog_is_a_spec_error(reg):
    class NotACatalog:
        @rlmodules.hookimpl
        def rlmodules_catalogs(self):
            return {"odd": "collections:OrderedDict"}

    reg.register_plugin(NotACatalog(), name="odd")
    with pytest.raises(SpecError, match=r"catalog_class 'odd' is <class "
                                        r"'collections.OrderedDict'>, not a Catalog subclass"):
        build(catalog_class="odd")


def test_plugins_that_exit_or_misbehave_are_reported_by_list_doctor_and_build(
        tmp_path, install_plugin, run_python):
    site = tmp_path / "site"
    install_plugin("rlmodules-test-exits", site)
    install_plugin("rlmodules-test-decides", site)
    code = """
        import json, warnings, gymnasium as gym
        from rlmodules import RLModuleSpec, registry
        from rlmodules.cli import main
        import io, contextlib
        warnings.simplefilter("ignore")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            listed = main(["list"])
            doctor = main(["doctor"])
        m = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (4,)),
                         action_space=gym.spaces.Discrete(2)).build()
        print(json.dumps({"list": listed, "doctor": doctor, "text": out.getvalue(),
                          "built": type(m).__name__}))
    """
    result = run_python(code, path=[site], cache_dir=tmp_path / "cache")
    text = result["text"]
    assert result["list"] == 0 and result["doctor"] == 1
    assert result["built"] == "DefaultPPOTorchRLModule"
    assert "BROKEN plugin 'exits' (rlmodules-test-exits 0.1), import: SystemExit: 4" in text
    assert ("BROKEN plugin 'decides_badly' (rlmodules-test-decides 0.1), decision: "
            "RuntimeError: decision exploded") in text
    assert "BROKEN module 'decides_badly/loop_a'" in text and "cycle" in text
    assert ("BROKEN catalog 'decides_badly/not_catalog' (rlmodules-test-decides): it points "
            "to <class 'collections.OrderedDict'>, which is not a Catalog subclass") in text
    assert "BROKEN module 'decides_badly/dangling'" in text


def test_a_forged_discovery_cache_is_rebuilt_never_obeyed(tmp_path, run_python):
    """A cache whose checksum is valid but names another target, another entry point, or
    has another structure: never followed, never crashes."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "rlt_forged_evil.py").write_text(
        f"open({str(tmp_path / 'imported')!r}, 'w').close()\nclass Evil:\n    pass\n")
    cache = tmp_path / "cache"
    probe = """
        import json
        from rlmodules import registry
        reg = registry.current()
        print(json.dumps({"ppo": registry.get("module", "ppo").__name__,
                          "hit": reg.cache_hit, "problem": reg.cache_problem}))
    """
    first = run_python(probe, path=[site], cache_dir=cache)
    assert first["ppo"] == "DefaultPPOTorchRLModule"
    (cache_file,) = cache.glob("discovery-*.cache")
    good = cache_file.read_bytes()
    data = marshal.loads(good[4:])

    def forge(change):
        forged = marshal.loads(good[4:])
        change(forged)
        payload = marshal.dumps(forged)
        cache_file.write_bytes(zlib.crc32(payload).to_bytes(4, "little") + payload)
        return run_python(probe, path=[site], cache_dir=cache)

    def retarget(forged):
        for entry in forged["plugins"].values():
            entry["records"] = [[k, n, "rlt_forged_evil:Evil" if n == "ppo" else t, s]
                                for k, n, t, s in entry["records"]]

    def extra_entry_point(forged):
        forged["entry_points"].append(["evil", "rlt_forged_evil", "evil-dist", "1.0",
                                       str(tmp_path / "entry_points.txt")])

    def malformed(forged):
        forged["plugins"] = {"rlmodules": {"value": 5}}

    for change in (retarget, extra_entry_point, malformed):
        result = forge(change)
        assert result["ppo"] == "DefaultPPOTorchRLModule" and result["hit"] is False
        assert result["problem"]
        assert not (tmp_path / "imported").exists()
    assert data["format"] == 3


def test_cache_files_are_pruned(tmp_path, run_python):
    from rlmodules.registry._cache import KEEP_FILES

    cache = tmp_path / "cache"
    cache.mkdir()
    for index in range(KEEP_FILES + 5):
        (cache / f"discovery-{index:08x}.cache").write_bytes(b"old")
    run_python("import json; from rlmodules import registry; registry.list(); print('{}')",
               path=[], cache_dir=cache)
    assert len(list(cache.glob("discovery-*.cache"))) == KEEP_FILES
