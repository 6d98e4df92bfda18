"""Errors that point at a plugin author's file: a misspelled entry point, one-line plugin
warnings, and a checkpoint that needs an uninstalled plugin's config key."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_doctor_names_a_misspelled_entry_point_its_value_and_the_import_error(
        tmp_path, install_plugin, run_python):
    site = install_plugin("rlmodules-test-misspelled", tmp_path / "site")
    code = """
        import contextlib, io, json, warnings
        from rlmodules.cli import main
        warnings.simplefilter("ignore")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["doctor"])
        print(json.dumps({"code": code, "out": out.getvalue()}))
    """
    result = run_python(code, path=[site], cache_dir=tmp_path / "cache")
    assert result["code"] == 1
    text = result["out"]
    assert ("BROKEN plugin 'misspelled' (rlmodules-test-misspelled 0.2), import: "
            "ModuleNotFoundError: No module named 'rlt_misspelled.missing'") in text
    assert ("  entry point: group 'rlmodules', name 'misspelled', value "
            "'rlt_misspelled.missing:plugin' (declared by rlmodules-test-misspelled 0.2)") in text
    assert ("  fix: module 'rlt_misspelled.missing' named by the entry point does not exist "
            "(misspelled?); correct the value in the [project.entry-points.rlmodules] table of "
            "rlmodules-test-misspelled's pyproject.toml and reinstall rlmodules-test-misspelled, "
            "or block it with RLMODULES_BLOCK=rlmodules-test-misspelled") in text
    assert "reinstall or upgrade" not in text


def test_train_prints_a_plugin_warning_as_one_line_without_a_source_line(
        tmp_path, install_plugin):
    site = install_plugin("rlmodules-test-misspelled", tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLMODULES_")}
    env.update(PYTHONPATH=str(site), RLMODULES_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-m", "rlmodules.cli", "train", "--env", "CartPole-v1", "--algo",
         "ppo", "--timesteps", "64", "--out", str(tmp_path / "run")],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "PluginWarning" in line
             or "plugin" in line]
    assert lines == [
        "warning: rlmodules plugin 'misspelled' (distribution rlmodules-test-misspelled 0.2, "
        "entry point 'rlt_misspelled.missing:plugin') failed to import: "
        "ModuleNotFoundError: No module named 'rlt_misspelled.missing'; it was left out. "
        "Run `rlmodules doctor` for details."]


def test_outside_the_cli_a_plugin_warning_has_no_source_line(tmp_path, install_plugin):
    site = install_plugin("rlmodules-test-misspelled", tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLMODULES_")}
    env.update(PYTHONPATH=str(site), RLMODULES_CACHE_DIR=str(tmp_path / "cache"))
    code = "from rlmodules import registry\nregistry.get('module', 'ppo')\n"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "rlmodules:0: PluginWarning: rlmodules plugin 'misspelled'"), lines


def test_a_checkpoint_using_an_uninstalled_plugins_key_names_the_package(
        tmp_path, install_plugin, run_python):
    site = install_plugin("rlmodules-test-keys", tmp_path / "site")
    ckpt = tmp_path / "ckpt"
    save = textwrap.dedent(f"""
        import json, gymnasium as gym
        from rlmodules import RLModuleSpec
        spec = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (3,)),
                            action_space=gym.spaces.Discrete(2),
                            model_config={{"fcnet_hiddens": [8], "use_gru": True}})
        spec.build().save_to_path({str(ckpt)!r})
        meta = json.load(open({str(ckpt / "rlmodule.json")!r}))["module"]
        cfg = meta["model_config"]["rlt_keys.use_gru"]
        print(json.dumps({{"keys": meta["config_keys"], "cfg": cfg}}))
    """)
    saved = run_python(save, path=[site], cache_dir=tmp_path / "cache")
    assert saved == {"keys": {"rlt_keys.use_gru": {
        "plugin": "rlt_keys", "distribution": "rlmodules-test-keys", "version": "0.3"}},
        "cfg": True}
    load = textwrap.dedent(f"""
        import json
        from rlmodules import CheckpointError, RLModule
        try:
            RLModule.from_checkpoint({str(ckpt)!r})
        except CheckpointError as exc:
            print(json.dumps(str(exc)))
    """)
    message = run_python(load, path=[], cache_dir=tmp_path / "cache2")
    assert message == (
        f"checkpoint {ckpt} uses model_config keys that no installed plugin declares: "
        f"'rlt_keys.use_gru' (declared by rlmodules-test-keys 0.3; install it with "
        f"`pip install rlmodules-test-keys==0.3`)")
