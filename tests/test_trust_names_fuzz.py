"""Every field that names code, in every file kind, rewritten as an attacker would.

Hypothesis draws a field and a name (``subprocess:Popen``, ``os:system``,
``builtins:eval``, ``importlib:import_module``, the canary module, attribute paths behind
harmless or registered modules, gymnasium's ``module:Env-v0``, and generated
``module:attr.attr`` paths), writes it into a copy of a real file, re-signs the file, and
loads it through each entry point. Every variant is refused with an ``RLModulesError`` (one
line of our error on the command line) or loads what the original loads; the canary module
is never imported and the canary command never runs. The small form runs in the default
suite (derandomised), the large one with ``--slow``.
"""

from __future__ import annotations

import contextlib
import io
import json
import marshal
import shutil
import tempfile
import zlib
from pathlib import Path

import pytest
import torch
from _trust_attacks import (
    algorithm_fields,
    class_ref_fields,
    edited,
    install_canary,
    name_forms,
    read_json,
    write_signed,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rlmodules import RLModule, RLModulesError, RLModuleSpec, registry
from rlmodules.cli import main

SIZES = [pytest.param(6, id="small"),
         pytest.param(150, id="large", marks=pytest.mark.slow)]
FAST = ["--timesteps", "256", "--num-threads", "1", "--seed", "0"]


def fuzz(examples, strategy, attempt):
    """``attempt(*drawn)`` for ``examples`` draws of ``strategy``; the small form is the same
    every run, the large one new draws each time."""
    @settings(max_examples=examples, deadline=None, database=None,
              derandomize=examples < 10, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(drawn):
        attempt(*drawn)

    run()


def cli(*args):
    """``rlmodules ARGS``: 0, or 1 with one line of our error (never a traceback)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in args])
    assert code == 0 or (code == 1 and err.getvalue().startswith(f"rlmodules {args[0]}: error:")
                         and err.getvalue().count("\n") == 1), (args, code, err.getvalue())


def refused_or_same(load, same):
    try:
        result = load()
    except RLModulesError:
        return
    assert same(result)


def same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return type(a) is type(b) and sa.keys() == sb.keys() and all(
        torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture
def canary(tmp_path, monkeypatch):
    canary = install_canary(tmp_path, monkeypatch)
    yield canary
    canary.check_finally()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small `rlmodules train` run with its recorded episodes."""
    run = tmp_path_factory.mktemp("fuzz") / "run"
    assert main(["train", *FAST, "--module", "ppo", "--out", str(run)]) == 0
    assert main(["record", str(run), "--episodes", "1", "--out", str(run.parent / "eps")]) == 0
    return run


# --- module checkpoints ----------------------------------------------------------------------
@pytest.mark.parametrize("examples", SIZES)
def test_module_checkpoint_names(tmp_path, canary, examples):
    import gymnasium as gym

    spec = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (4,)),
                        action_space=gym.spaces.Discrete(2), model_config={"fcnet_hiddens": [8]})
    single = Path(spec.build().save_to_path(tmp_path / "single"))
    multi = Path(spec.build().as_multi_rl_module().save_to_path(tmp_path / "multi"))
    originals = {path: RLModule.from_checkpoint(path) for path in (single, multi)}
    exporting = "onnx" in {rec.name for rec in registry.list("export_format")}
    cases = [(path, field) for path in (single, multi)
             for field in class_ref_fields(read_json(path / "rlmodule.json")["module"])]

    def attempt(case, shape, form):
        path, field = case
        meta_file = path / "rlmodule.json"
        original = meta_file.read_text()
        value = {"import_path": {"import_path": form}, "name": {"name": form}, "raw": form}[shape]
        write_signed(meta_file, edited(json.loads(original), field, value))
        refused_or_same(lambda: RLModule.from_checkpoint(path),
                        lambda loaded: same_state(loaded, originals[path]))
        cli("inspect", path)
        if exporting:
            cli("export", path, "--out", tempfile.mkdtemp(dir=tmp_path), "--no-verify")
        meta_file.write_text(original)
        canary.check(field, form)

    fuzz(examples, st.tuples(st.sampled_from(cases),
                             st.sampled_from(["import_path", "name", "raw"]), name_forms()),
         attempt)


# --- algorithm checkpoints, run directories, config files, recorded episodes ------------------
@pytest.mark.parametrize("examples", SIZES)
def test_algorithm_checkpoint_names(trained, tmp_path, canary, examples):
    from rlmodules.algorithms import Algorithm

    original = Algorithm.from_checkpoint(trained / "checkpoint")
    expected = (type(original), original.config.to_dict(), original.timesteps)
    original.stop()
    state = read_json(trained / "checkpoint" / "algorithm_state.json")
    state["config"]["env_config"] = {"args": canary.command}  # what the command would run
    entries = ("python", "eval", "record", "train", "inspect")

    def same(algo):
        algo.stop()
        return (type(algo), algo.config.to_dict(), algo.timesteps) == expected

    def attempt(field, entry, form):
        run = Path(shutil.copytree(trained, tempfile.mkdtemp(dir=tmp_path) + "/run"))
        write_signed(run / "checkpoint" / "algorithm_state.json", edited(state, field, form))
        if entry == "python":
            refused_or_same(lambda: Algorithm.from_checkpoint(run / "checkpoint"), same)
        elif entry == "train":
            cli("train", "--resume", run, "--timesteps", expected[2])  # no further training
        elif entry == "record":
            cli("record", run, "--episodes", 1, "--out", run.parent / "eps")
        else:
            cli(entry, run, *(["--episodes", 1] if entry == "eval" else []))
        canary.check(field, entry, form)

    fuzz(examples, st.tuples(st.sampled_from(algorithm_fields(state)), st.sampled_from(entries),
                             name_forms()), attempt)


@pytest.mark.parametrize("examples", SIZES)
def test_run_json_config_file_and_episode_names(trained, tmp_path, canary, examples):
    from rlmodules.algorithms import BCConfig

    run_json = read_json(trained / "run.json")
    timesteps = read_json(trained / "checkpoint" / "algorithm_state.json")["timesteps"]
    episodes = read_json(trained.parent / "eps" / "episodes.json")
    small = {"train_batch_size": 64, "minibatch_size": 64, "num_epochs": 1}

    def attempt(kind_field, form):
        kind, field = kind_field
        where = Path(tempfile.mkdtemp(dir=tmp_path))
        if kind == "run.json":
            run = Path(shutil.copytree(trained, where / "run"))
            (run / "run.json").write_text(json.dumps(edited(run_json, field, form)))
            cli("train", "--resume", run, "--timesteps", timesteps)
            cli("inspect", run)
        elif kind == "config":
            config = {"environment": {"env": "CartPole-v1"}, "rl_module": {},
                      "training": small}
            (where / "c.json").write_text(json.dumps(edited(config, field, form)))
            cli("train", "--config", where / "c.json", "--timesteps", 64, "--out", where / "r")
        else:
            eps = Path(shutil.copytree(trained.parent / "eps", where / "eps"))
            write_signed(eps / "episodes.json", edited(episodes, field, form))
            refused_or_same(lambda: BCConfig().environment("CartPole-v1").offline_data(
                input_=str(eps)).training(**small).build().train(), lambda result: True)
        canary.check(kind, field, form)

    fields = [("run.json", (key,)) for key in run_json if isinstance(run_json[key], str)]
    fields += [("config", ("environment", "env")), ("config", ("rl_module", "module_class"))]
    fields += [("episodes", ("env",)), ("episodes", ("agents", 0, "key")),
               ("episodes", ("agents", 0, "agent_id"))]
    fuzz(examples, st.tuples(st.sampled_from(fields), name_forms()), attempt)


# --- the discovery cache and export manifests -------------------------------------------------
@pytest.mark.parametrize("examples", SIZES)
def test_discovery_cache_targets(tmp_path, canary, examples):
    reference = registry.Registry(use_cache=False)
    registry.Registry(cache_dir=str(tmp_path / "cache")).records()  # writes the cache
    [cache_file] = (tmp_path / "cache").iterdir()
    raw = cache_file.read_bytes()
    data = marshal.loads(raw[4:])
    rows = [(plugin, i) for plugin, entry in data["plugins"].items()
            for i in range(len(entry["records"]))]

    def attempt(row, form):
        plugin, i = row
        forged = json.loads(json.dumps(data))
        kind, name = forged["plugins"][plugin]["records"][i][:2]
        forged["plugins"][plugin]["records"][i][2] = form
        payload = marshal.dumps(forged)
        cache_file.write_bytes(zlib.crc32(payload).to_bytes(4, "little") + payload)
        reg = registry.Registry(cache_dir=str(tmp_path / "cache"))
        assert {r.qualified_name for r in reg.records(kind)} == {
            r.qualified_name for r in reference.records(kind)}
        refused_or_same(lambda: reg.get(kind, f"{plugin}/{name}"),
                        lambda obj: obj is reference.get(kind, f"{plugin}/{name}"))
        cache_file.write_bytes(raw)
        canary.check(kind, name, form)

    fuzz(examples, st.tuples(st.sampled_from(rows), name_forms()), attempt)


@pytest.mark.parametrize("examples", SIZES)
def test_export_manifest_names(tmp_path, canary, examples):
    if "onnx" not in {rec.name for rec in registry.list("export_format")}:
        pytest.skip("rlmodules-onnx is not installed")
    import gymnasium as gym
    from rlmodules.export import export
    from rlmodules_onnx import OnnxPolicy

    module = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (4,)),
                          action_space=gym.spaces.Discrete(2)).build()
    out = export(module, tmp_path / "policy", verify=False)
    manifest_file = out / "manifest.json"
    manifest = read_json(manifest_file)
    [module_id] = manifest["modules"]
    fields = [("format", "name"), ("format", "distribution"),
              ("modules", module_id, "module_class")]

    def attempt(field, form):
        manifest_file.write_text(json.dumps(edited(manifest, field, form)))
        refused_or_same(lambda: OnnxPolicy(out), lambda policy: True)
        canary.check(field, form)

    fuzz(examples, st.tuples(st.sampled_from(fields), name_forms()), attempt)
