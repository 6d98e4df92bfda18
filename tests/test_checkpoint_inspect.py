"""``rlmodules inspect PATH``: class, requirements, spaces, config, sizes per component."""

from __future__ import annotations

import json

import gymnasium as gym
from _checkpoint_modules import ACT, OBS, randomize, shared_encoder_spec
from rlmodules import RLModuleSpec
from rlmodules.checkpoint import METADATA_FILE, write_json_file
from rlmodules.cli import main


def test_inspect_json_describes_every_component(tmp_path, capsys):
    multi = randomize(shared_encoder_spec().build(), 1)
    multi.save_to_path(tmp_path / "c", format="torch")
    assert main(["inspect", str(tmp_path / "c"), "--json", "--verify"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["checkpoint_format_version"] == 2
    assert info["module"].endswith(":MultiAgentPGWithSharedEncoder")
    by_name = {c["component"]: c for c in info["components"]}
    assert list(by_name) == ["(root)", "p0", "p1"]
    for where, module in (("(root)", None), ("p0", multi["p0"]), ("p1", multi["p1"])):
        expected = (multi.get_state()["__multi__"] if module is None else module.get_state())
        assert by_name[where]["num_parameters"] == sum(t.numel() for t in expected.values())
        assert by_name[where]["format"] == "rlmodules/torch"
        assert by_name[where]["checksum_ok"] is True
    assert by_name["p0"]["model_config"] == {"feature_dim": 8, "hidden_dim": 32}
    assert by_name["p1"]["observation_space"] == str(OBS)
    assert info["total_parameters"] == sum(p.numel() for p in multi.parameters())
    fmt = [r for r in info["requirements"] if r["kind"] == "checkpoint_format"]
    assert fmt == [{"kind": "checkpoint_format", "name": "rlmodules/torch",
                    "distribution": "rlmodules", "version": fmt[0]["version"],
                    "installed": True, "installed_version": fmt[0]["version"], "note": None}]


def test_inspect_text_and_missing_plugin_and_corruption(tmp_path, capsys):
    module = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (3,)),
                          action_space=ACT, model_config={"fcnet_hiddens": [8]}).build()
    module.save_to_path(tmp_path / "c")
    assert main(["inspect", str(tmp_path / "c")]) == 0
    text = capsys.readouterr().out
    assert "module       rlmodules/ppo" in text
    assert '{"fcnet_hiddens": [8]} (other fields default)' in text
    n = sum(p.numel() for p in module.parameters())
    assert f"{n:,} parameters in" in text and "rlmodules/safetensors" in text
    meta = json.loads((tmp_path / "c" / METADATA_FILE).read_text())
    meta["module"]["module_class"] = {"name": "rlmodules_gru/gru", "distribution":
                                      "rlmodules-gru", "version": "0.2.0"}
    write_json_file(tmp_path / "c" / METADATA_FILE, meta)
    (tmp_path / "c" / "module.safetensors").write_bytes(b"garbage")
    assert main(["inspect", str(tmp_path / "c"), "--verify"]) == 1
    text = capsys.readouterr().out
    assert "rlmodules_gru/gru" in text and "rlmodules-gru 0.2.0" in text and "MISSING" in text
    assert "CHECKSUM FAILED" in text
    assert main(["inspect", str(tmp_path / "nothing")]) == 1
    assert "not an rlmodules module checkpoint" in capsys.readouterr().err


def test_a_directory_holding_module_checkpoints_names_them(tmp_path, capsys):
    # E.g. an algorithm checkpoint or a training run: the module sits a few levels down.
    module = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [8]}).build()
    module.save_to_path(tmp_path / "run" / "checkpoint" / "learner_group" / "rl_module")
    module.save_to_path(tmp_path / "run" / "checkpoint" / "other")
    assert main(["inspect", str(tmp_path / "run")]) == 1  # the shallowest ones are named
    assert "module checkpoints inside it: checkpoint/other\n" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "run" / "checkpoint" / "learner_group")]) == 1
    assert "module checkpoints inside it: rl_module" in capsys.readouterr().err
    (tmp_path / "empty" / "a" / "b").mkdir(parents=True)
    assert main(["inspect", str(tmp_path / "empty")]) == 1
    assert "pass a directory written by save_to_path()" in capsys.readouterr().err


def test_a_malformed_catalog_class_entry_is_a_one_line_error(tmp_path, capsys):
    from rlmodules.checkpoint import CHECKSUM_KEY, write_json_file

    module = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [8]}).build()
    module.save_to_path(tmp_path / "c")
    meta_path = tmp_path / "c" / METADATA_FILE
    for entry, problem in ((5, "got 5, expected an object"),
                           ("ppo", "got 'ppo', expected an object"),
                           ({"name": 5}, "catalog_class.name: got 5, expected a string")):
        meta = json.loads(meta_path.read_text())
        meta["module"]["catalog_class"] = entry
        del meta[CHECKSUM_KEY]
        write_json_file(meta_path, meta)  # a validly signed file: the structure is checked
        assert main(["inspect", str(tmp_path / "c")]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"rlmodules inspect: error: {meta_path} is malformed: module."
                              f"{'' if problem.startswith('catalog') else 'catalog_class: '}"
                              f"{problem}"), err
        assert err.count("\n") == 1
