"""Entry-point discovery in fresh processes with real pip-installed plugin distributions."""

from __future__ import annotations

from pathlib import Path

import pytest

BROKEN = {"aaa_broken": "import", "mmm_invalid": "invalid", "zzz_hook": "hook"}

LIST_ALL = """
    import json, sys, warnings
    from rlmodules import registry
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = registry.list()
    reg = registry.current()
    print(json.dumps({
        "records": [[r.kind, r.qualified_name, r.distribution, r.version, r.status]
                    for r in records],
        "failures": [[f.plugin, f.stage, f.message, f.traceback_tail] for f in reg.failures],
        "warnings": [[w.category.__name__, str(w.message)] for w in caught],
        "skipped": [[i.name, why] for i, why in reg.skipped],
        "cache_hit": reg.cache_hit,
        "imported": sorted(m for m in sys.modules if m.startswith(("rlt_", "torch", "pluggy"))),
    }))
"""


def _list(run_python, site: Path, tmp_path: Path, **env: str) -> dict:
    return run_python(LIST_ALL, path=[site], cache_dir=tmp_path / "cache", **env)


@pytest.fixture(scope="module")
def listed(run_python, plugin_site, tmp_path_factory) -> dict:
    """One fresh process listing everything with the test plugins installed."""
    return _list(run_python, plugin_site, tmp_path_factory.mktemp("listed"))


@pytest.fixture(scope="module")
def resolved(run_python, plugin_site, tmp_path_factory) -> dict:
    """One fresh process resolving names of every sort (see RESOLVE)."""
    cache = tmp_path_factory.mktemp("resolved")
    return run_python(RESOLVE, path=[plugin_site], cache_dir=cache, PYTHONWARNINGS="ignore")


def _names(out: dict) -> dict[str, list]:
    return {row[1]: row for row in out["records"]}


def test_discovery_lists_names_with_origin_without_importing_contributions(listed):
    out = listed
    names = _names(out)
    assert names["alpha/alpha_mlp"] == ["module", "alpha/alpha_mlp", "rlmodules-test-alpha",
                                        "1.0", "ok"]
    assert names["alpha/alpha_dist"][0] == "distribution"
    assert names["rlmodules/categorical"][2:4] == ["rlmodules", "0.1.0"]
    assert names["alpha/old_alpha"][-1] == "alias"
    # Plugin entry points were imported to call their hooks; contributions and torch were not.
    assert "rlt_alpha.plugin" in out["imported"]
    assert not [m for m in out["imported"] if m.endswith(".impl") or m.startswith("torch")]


def test_broken_plugins_are_isolated_before_and_after_good_ones(listed):
    out = listed
    failures = {plugin: (stage, msg, tail) for plugin, stage, msg, tail in out["failures"]}
    assert {p: failures[p][0] for p in BROKEN} == BROKEN
    assert "nonexistent_dependency_xyz" in failures["aaa_broken"][2]
    assert "catalog table exploded" in failures["zzz_hook"][2]
    assert "must return a dict of name -> target, got list" in failures["mmm_invalid"][1]
    # No partial registrations: zzz_hook's working hook left nothing behind.
    assert not [r for r in out["records"] if r[1].split("/")[0] in BROKEN]
    # Good plugins on both sides of the broken ones are complete.
    assert {"alpha/alpha_mlp", "alpha/shared", "beta/shared", "beta/ppo"} <= set(_names(out))
    ours = [m for cat, m in out["warnings"] if any(f"'{p}'" in m for p in BROKEN)]
    assert len(ours) == 3 and all(c == "PluginWarning" for c, m in out["warnings"] if m in ours)
    assert all("\n" not in m and "rlmodules doctor" in m for m in ours)


def test_failure_traceback_tail_is_kept(listed):
    out = listed
    tail = {p: t for p, _, _, t in out["failures"]}
    assert "ModuleNotFoundError" in tail["aaa_broken"]
    assert 'raise RuntimeError("catalog table exploded")' in tail["zzz_hook"]


RESOLVE = """
    import json, sys, warnings
    from rlmodules import registry, AmbiguousNameError, UnknownNameError
    out = {}
    plain = registry.get("module", "alpha_mlp")
    out["same"] = (plain is registry.get("module", "alpha/alpha_mlp")
                   is registry.get("module", "rlt_alpha.impl:AlphaModule"))
    out["class"] = f"{plain.__module__}:{plain.__qualname__}"
    out["name_of"] = registry.name_of("module", plain)
    out["ppo"] = registry.record("module", "ppo").target_path
    out["builtin_ppo"] = registry.record("module", "rlmodules/ppo").target_path
    out["statuses"] = {r.qualified_name: r.status for r in registry.list("module", "*ppo")}
    for ref in ("shared", "alpha_mpl", "zzz_ok", "beta/alpha_mlp"):
        try:
            registry.get("module", ref)
        except (AmbiguousNameError, UnknownNameError) as exc:
            out[ref] = [type(exc).__name__, str(exc), isinstance(exc, LookupError)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out["alias_same"] = registry.get("module", "old_alpha") is plain
        registry.get("module", "alpha/old_alpha")
    out["alias_warnings"] = [[w.category.__name__, str(w.message)] for w in caught
                             if w.category is DeprecationWarning]
    out["torch"] = "torch" in sys.modules
    print(json.dumps(out))
"""


def test_resolution_by_plain_qualified_and_path_name(resolved):
    out = resolved
    assert out["same"] is True
    assert out["class"] == "rlt_alpha.impl:AlphaModule"
    assert out["name_of"] == "alpha/alpha_mlp"
    assert out["torch"] is False


def test_conflicting_plain_name_is_an_error_listing_qualified_names(resolved):
    out = resolved
    kind, message, lookup = out["shared"]
    assert kind == "AmbiguousNameError" and lookup
    assert "module name 'shared' is provided by 2 plugins" in message
    assert "'alpha/shared' (rlmodules-test-alpha 1.0)" in message
    assert "'beta/shared' (rlmodules_test.beta 2.0)" in message


def test_override_of_builtin_is_explicit_and_visible(resolved):
    out = resolved
    assert out["ppo"] == "rlt_beta.impl:BetaPPO"
    assert out["builtin_ppo"] == "rlmodules.plugins.ppo:DefaultPPOTorchRLModule"
    assert out["statuses"] == {"beta/ppo": "override", "rlmodules/ppo": "overridden"}


def test_unknown_names_suggest_and_name_broken_plugins(resolved):
    out = resolved
    kind, message, lookup = out["alpha_mpl"]
    assert kind == "UnknownNameError" and lookup
    assert "unknown module name 'alpha_mpl'. Did you mean 'alpha_mlp'?" in message
    assert "Installed module names: alpha_mlp," in message
    assert "`rlmodules list module`" in message
    assert "failed to load and may provide it: 'aaa_broken'" in out["zzz_ok"][1]
    assert "'zzz_hook'" in out["zzz_ok"][1] and "rlmodules doctor" in out["zzz_ok"][1]
    assert "unknown module name 'beta/alpha_mlp'" in out["beta/alpha_mlp"][1]


def test_alias_resolves_to_new_name_and_warns_once(resolved):
    out = resolved
    assert out["alias_same"] is True
    assert out["alias_warnings"] == [[
        "DeprecationWarning",
        "module name 'old_alpha' is deprecated (renamed by plugin 'alpha'); use 'alpha_mlp' "
        "instead",
    ]]


def test_strict_mode_raises_plugin_error(run_python, plugin_site, tmp_path):
    code = """
        import json
        from rlmodules import registry, PluginError
        out = []
        for make in (registry.current, lambda: registry.Registry(strict=True)):
            try:
                make().records()
            except PluginError as exc:
                out.append([str(exc), isinstance(exc, RuntimeError)])
        print(json.dumps(out))
    """
    out = run_python(code, path=[plugin_site], cache_dir=tmp_path, RLMODULES_STRICT="1")
    assert len(out) == 2
    for message, is_runtime_error in out:
        assert is_runtime_error
        assert message.startswith(
            "rlmodules plugin 'aaa_broken' (distribution rlmodules-test-aaa-broken 0.1, entry "
            "point 'rlt_aaa_broken.plugin') failed to import: ModuleNotFoundError: No module "
            "named 'nonexistent_dependency_xyz'"
        )
        assert message.endswith("(strict mode: RLMODULES_STRICT=1)")


def test_disabled_autoload_keeps_only_the_builtin_plugin(run_python, plugin_site, tmp_path):
    out = _list(run_python, plugin_site, tmp_path, RLMODULES_DISABLE_PLUGIN_AUTOLOAD="1")
    assert {row[1].split("/")[0] for row in out["records"]} == {"rlmodules"}
    assert "rlmodules/ppo" in _names(out) and out["failures"] == []
    assert ["alpha", "autoload disabled"] in out["skipped"]
    assert not [m for m in out["imported"] if m.startswith("rlt_")]


def test_blocking_by_entry_point_or_normalised_distribution_name(run_python, plugin_site, tmp_path):
    out = _list(run_python, plugin_site, tmp_path,
                RLMODULES_BLOCK="RLMODULES_TEST.ALPHA, beta,rlmodules_test_aaa_broken")
    plugins = {row[1].split("/")[0] for row in out["records"]}
    assert "alpha" not in plugins and "beta" not in plugins and "rlmodules" in plugins
    assert {"alpha", "beta", "aaa_broken"} <= {n for n, why in out["skipped"] if why == "blocked"}
    assert "aaa_broken" not in {f[0] for f in out["failures"]}
    assert _names(out)["rlmodules/ppo"][-1] == "ok"  # beta's override is gone with it

    code = """
        import json
        from rlmodules import registry
        reg = registry.Registry(blocked=("Rlmodules-Test-ZZZ-Hook", "mmm_invalid"))
        reg.records()
        print(json.dumps(sorted(n for n, why in [(i.name, w) for i, w in reg.skipped])))
    """
    out = run_python(code, path=[plugin_site], cache_dir=tmp_path, PYTHONWARNINGS="ignore")
    assert out == ["mmm_invalid", "zzz_hook"]
