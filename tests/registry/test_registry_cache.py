"""The discovery cache: warm listings import nothing, installs and uninstalls invalidate it."""

from __future__ import annotations

import os
import shutil
import time

STATE = """
    import json, sys, warnings
    from rlmodules import registry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = [r.qualified_name for r in registry.list("module")]
    print(json.dumps({
        "names": names,
        "cache_hit": registry.current().cache_hit,
        "imported": sorted(m for m in sys.modules
                           if m.startswith(("rlt_", "pluggy", "importlib_metadata", "torch"))),
    }))
"""


def test_cache_sees_install_uninstall_and_edits(run_python, plugin_site, install_plugin, tmp_path):
    extra, cache = tmp_path / "extra-site", tmp_path / "cache"
    extra.mkdir()
    # Broken plugins are never cached (they are retried in every process): leave them out.
    block = "aaa_broken,mmm_invalid,zzz_hook"
    state = lambda: run_python(  # noqa: E731
        STATE, path=[plugin_site, extra], cache_dir=cache, RLMODULES_BLOCK=block
    )

    cold = state()
    assert cold["cache_hit"] is False and "alpha/alpha_mlp" in cold["names"]
    assert list(cache.glob("discovery-*.cache"))

    warm = state()
    assert warm["cache_hit"] is True and warm["names"] == cold["names"]
    # Listing from a warm cache imports no plugin, not pluggy, not importlib-metadata.
    assert warm["imported"] == []
    assert "pluggy" in cold["imported"] and "rlt_alpha.plugin" in cold["imported"]

    install_plugin("rlmodules-test-gamma", extra)
    installed = state()
    assert installed["cache_hit"] is False and "gamma/gamma_net" in installed["names"]
    assert state()["cache_hit"] is True

    plugin_file = extra / "rlt_gamma" / "plugin.py"
    plugin_file.write_text(plugin_file.read_text().replace('"gamma_net"', '"gamma_net2"'))
    later = time.time() + 5
    os.utime(plugin_file, (later, later))
    edited = state()
    assert "gamma/gamma_net2" in edited["names"] and "gamma/gamma_net" not in edited["names"]

    for dist_info in extra.glob("rlmodules_test_gamma-*.dist-info"):
        shutil.rmtree(dist_info)
    removed = state()
    assert removed["cache_hit"] is False
    assert not [n for n in removed["names"] if n.startswith("gamma/")]


def test_cache_can_be_bypassed(run_python, plugin_site, tmp_path):
    cache = tmp_path / "cache"
    for _ in range(2):
        out = run_python(STATE, path=[plugin_site], cache_dir=cache, RLMODULES_NO_CACHE="1")
        assert out["cache_hit"] is False
    assert not cache.exists()


def test_cache_dir_follows_xdg_and_survives_an_unwritable_location(
    run_python, plugin_site, tmp_path
):
    xdg = tmp_path / "xdg"
    code = STATE.replace("from rlmodules import registry",
                         "import os; os.environ.pop('RLMODULES_CACHE_DIR')\n"
                         "    from rlmodules import registry")
    run_python(code, path=[plugin_site], cache_dir=tmp_path, XDG_CACHE_HOME=str(xdg))
    assert list((xdg / "rlmodules").glob("discovery-*.cache"))

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for _ in range(2):
        out = run_python(STATE, path=[plugin_site], cache_dir=blocker / "cache")
        assert out["cache_hit"] is False and "alpha/alpha_mlp" in out["names"]


def test_a_damaged_cache_file_is_ignored_and_rewritten(run_python, plugin_site, tmp_path):
    cache = tmp_path / "cache"
    block = {"RLMODULES_BLOCK": "aaa_broken,mmm_invalid,zzz_hook"}
    cold = run_python(STATE, path=[plugin_site], cache_dir=cache, **block)
    (cache_file,) = cache.glob("discovery-*.cache")
    for damage in (lambda b: b[: len(b) // 2], lambda b: b[:10] + bytes([b[10] ^ 1]) + b[11:]):
        cache_file.write_bytes(damage(cache_file.read_bytes()))
        again = run_python(STATE, path=[plugin_site], cache_dir=cache, **block)
        assert again["cache_hit"] is False and again["names"] == cold["names"]
        assert run_python(STATE, path=[plugin_site], cache_dir=cache, **block)["cache_hit"]
