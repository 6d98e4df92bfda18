"""Nothing named in a file is imported: every string of every JSON file we load is turned
into an import path of a canary module, and loading must never import it."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from _checkpoint_modules import ACT, OBS, shared_encoder_spec
from rlmodules import CheckpointError, RLModule, RLModulesError, RLModuleSpec
from rlmodules.checkpoint import write_json_file
from rlmodules.cli import main

CANARY = "rlmodules_canary_xyz"
#: How a file may name the canary: an import path, one behind a plugin-like prefix, and
#: gymnasium's ``module:Env-v0`` form.
FORMS = (f"{CANARY}:Evil", f"x/{CANARY}:Evil", f"{CANARY}:Foo-v0")


@pytest.fixture
def canary(tmp_path, monkeypatch):
    """An importable module whose import leaves a marker file behind."""
    site = tmp_path / "canary-site"
    site.mkdir()
    marker = tmp_path / "canary-imported"
    (site / f"{CANARY}.py").write_text(textwrap.dedent(f"""
        open({str(marker)!r}, "w").close()
        class Evil:
            pass
    """))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, CANARY, raising=False)
    return marker


def string_paths(data, prefix=()):
    """The key path of every string leaf of a JSON document."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from string_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from string_paths(value, (*prefix, index))
    elif isinstance(data, str):
        yield prefix


def rewritten(data, path, value):
    copy = json.loads(json.dumps(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def attack_every_string(file: Path, load, canary: Path, *, signed: bool = True) -> int:
    """Rewrite each string field of ``file`` to each canary form (re-signing the file as an
    attacker would) and load; return how many variants were tried."""
    original = file.read_text()
    data = json.loads(original)
    tried = 0
    for path in string_paths(data):
        if path and path[-1] == "metadata_checksum":
            continue
        for form in FORMS:
            changed = rewritten(data, path, form)
            if signed:
                write_json_file(file, changed)
            else:
                file.write_text(json.dumps(changed))
            try:
                load()
            except (RLModulesError, SystemExit):
                pass  # refused with our error: fine; a raw exception fails the test
            assert not canary.exists() and CANARY not in sys.modules, (path, form)
            tried += 1
    file.write_text(original)
    return tried


def test_module_and_multi_module_checkpoints_never_import_a_named_module(tmp_path, canary):
    module = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [8]}).build()
    single = Path(module.save_to_path(tmp_path / "single"))
    multi = Path(shared_encoder_spec().build().save_to_path(tmp_path / "multi"))
    tried = attack_every_string(single / "rlmodule.json",
                                lambda: RLModule.from_checkpoint(single), canary)
    tried += attack_every_string(multi / "rlmodule.json",
                                 lambda: RLModule.from_checkpoint(multi), canary)
    tried += attack_every_string(multi / "rlmodule.json",
                                 lambda: RLModule.from_checkpoint(multi, component="p0"), canary)
    assert tried > 150


def test_algorithm_checkpoints_runs_and_recordings_never_import_a_named_module(
        tmp_path, canary, capsys):
    from rlmodules.algorithms import Algorithm, BCConfig

    run = tmp_path / "run"
    assert main(["train", "--timesteps", "256", "--seed", "0", "--out", str(run)]) == 0
    assert main(["record", str(run), "--episodes", "1", "--out", str(tmp_path / "eps")]) == 0
    state = run / "checkpoint" / "algorithm_state.json"
    module_meta = run / "checkpoint" / "learner_group" / "learner" / "rl_module" / "rlmodule.json"
    tried = attack_every_string(state, lambda: Algorithm.from_checkpoint(run / "checkpoint"),
                                canary)
    tried += attack_every_string(
        state, lambda: main(["record", str(run), "--episodes", "1", "--out",
                             str(tmp_path / "again")]), canary)
    tried += attack_every_string(
        module_meta, lambda: Algorithm.from_checkpoint(run / "checkpoint"), canary)
    tried += attack_every_string(
        run / "run.json", lambda: main(["train", "--resume", str(run), "--timesteps", "1"]),
        canary, signed=False)
    tried += attack_every_string(
        tmp_path / "eps" / "episodes.json",
        lambda: BCConfig().environment("CartPole-v1").offline_data(
            input_=str(tmp_path / "eps")).build().train(), canary)
    capsys.readouterr()
    assert tried > 200


@pytest.mark.parametrize("name", [f"{CANARY}:Evil", f"x/{CANARY}:Evil"])
@pytest.mark.parametrize("field", ["module_class", "catalog_class"])
def test_a_registered_name_that_is_an_import_path_is_refused(tmp_path, canary, name, field):
    path = Path(shared_encoder_spec().build().save_to_path(tmp_path / "c"))
    meta = json.loads((path / "rlmodule.json").read_text())
    meta["module"]["components"]["p0"][field] = {"name": name, "distribution": None,
                                                 "version": None}
    write_json_file(path / "rlmodule.json", meta)
    with pytest.raises(CheckpointError, match=rf"components\.p0\.{field}\.name: got '.*Evil', "
                                              r"expected a registered name 'plugin/name' "
                                              r"\(never an import path\)"):
        RLModule.from_checkpoint(path)
    assert not canary.exists()


def test_an_algorithm_config_naming_a_module_by_import_path_is_refused(tmp_path, canary):
    from rlmodules.algorithms import Algorithm, PPOConfig

    algo = (PPOConfig().environment("CartPole-v1")
            .rl_module(rl_module_spec=RLModuleSpec(module_class="ppo"))  # as typed
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1).build())
    path = algo.save_to_path(tmp_path / "algo")
    state = json.loads((path / "algorithm_state.json").read_text())
    spec = state["config"]["rl_module_spec"]["spec"]
    assert spec["module_class"]["name"] == "rlmodules/ppo"  # qualified, with its distribution
    spec["module_class"] = f"{CANARY}:Evil"
    write_json_file(path / "algorithm_state.json", state)
    with pytest.raises(CheckpointError, match=rf"module import path '{CANARY}:Evil' names "
                                              rf"module '{CANARY}', which this program has not "
                                              r"imported; names read from a file are never "
                                              r"imported"):
        Algorithm.from_checkpoint(path)
    assert not canary.exists()
    spec["module_class"] = {"name": "rlmodules_gru/gru", "distribution": "rlmodules-gru",
                            "version": "0.3.0"}
    write_json_file(path / "algorithm_state.json", state)
    with pytest.raises(CheckpointError, match=r"needs module 'rlmodules_gru/gru' from "
                                              r"rlmodules-gru 0.3.0, which is not installed; "
                                              r"install it with `pip install "
                                              r"rlmodules-gru==0.3.0`"):
        Algorithm.from_checkpoint(path)


def test_the_librarys_own_classes_load_in_a_fresh_process(tmp_path, run_fresh):
    """A MultiRLModule (and the trainer's own module checkpoint) names
    rlmodules.multi_rl_module by import path: a fresh process loads it."""
    from rlmodules.algorithms import PPOConfig

    multi = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                         model_config={"fcnet_hiddens": [8]}).build().as_multi_rl_module()
    multi.save_to_path(tmp_path / "multi")
    algo = (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1).build())
    algo.save_to_path(tmp_path / "algo")
    out = run_fresh(f"""
        from rlmodules import RLModule
        a = RLModule.from_checkpoint({str(tmp_path / "multi")!r})
        b = RLModule.from_checkpoint({str(tmp_path / "algo" / "learner_group" / "learner"
                                          / "rl_module")!r})
        print(type(a).__name__, type(b).__name__, sorted(b.keys()))
    """)
    assert out == "MultiRLModule MultiRLModule ['default_policy']"
