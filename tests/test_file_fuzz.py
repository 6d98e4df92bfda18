"""Structural fuzzers for the file kinds outside a run directory: module checkpoints,
recorded episodes, ``--config`` files and ``run.json``. Every field is edited (type swaps,
out-of-range numbers, deletions, extra keys, deep nesting) and re-signed with a valid
checksum, and bits are flipped or files cut short: each variant is refused with an
``RLModulesError`` and changes nothing, or loads consistently."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from _tamper import BYTE_EDITS, FAST, SLOW, byte_edited, edited, json_edits, read_doc, write_signed
from hypothesis import given
from hypothesis import strategies as st
from rlmodules import RLModule, RLModuleSpec
from rlmodules.checkpoint import METADATA_FILE
from rlmodules.errors import ConfigError, RLModulesError

OBS = gym.spaces.Box(-1.0, 1.0, (3,))
ACT = gym.spaces.Dict({"a": gym.spaces.Discrete(3), "b": gym.spaces.Box(-1.0, 1.0, (2,))})


@pytest.fixture(scope="module")
def module_checkpoint(tmp_path_factory):
    module = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [8]}).build()
    return module, Path(module.save_to_path(tmp_path_factory.mktemp("m") / "c"))


def _module_attempt(module_checkpoint, path):
    """Load and restore ``path``: refused without a change, or the saved weights exactly."""
    saved, _ = module_checkpoint
    target = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [8]}).build()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    try:
        target.restore_from_path(path)
    except RLModulesError:
        assert all(torch.equal(v, before[k]) for k, v in target.state_dict().items())
    else:
        assert all(torch.equal(v, saved.state_dict()[k]) for k, v in target.state_dict().items())
    try:
        loaded = RLModule.from_checkpoint(path)
    except RLModulesError:
        return
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, saved.state_dict()[key])


def _copy(source: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / f"c{len(list(tmp_path.iterdir()))}"
    shutil.copytree(source, target)
    return target


@FAST
@given(data=st.data())
def test_edited_module_metadata_is_refused_or_loads_the_saved_weights(
        module_checkpoint, tmp_path, data):
    path = _copy(module_checkpoint[1], tmp_path)
    doc = read_doc(path / METADATA_FILE)
    write_signed(path / METADATA_FILE, edited(doc, data.draw(json_edits(doc))))
    _module_attempt(module_checkpoint, path)


@FAST
@given(edit=BYTE_EDITS, name=st.sampled_from([METADATA_FILE, "module.safetensors"]))
def test_flipped_or_truncated_module_files_are_refused(module_checkpoint, tmp_path, edit, name):
    path = _copy(module_checkpoint[1], tmp_path)
    (path / name).write_bytes(byte_edited((path / name).read_bytes(), edit))
    _module_attempt(module_checkpoint, path)


# --- recorded episodes -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def episodes_dir(tmp_path_factory):
    from rlmodules.algorithms.episodes import AgentEpisode, EpisodeWriter

    path = tmp_path_factory.mktemp("e") / "episodes"
    spaces = {"default_agent": (gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3))}
    with EpisodeWriter(path, env="x", observation_spaces={"default_agent": spaces[
            "default_agent"][0]}, action_spaces={"default_agent": spaces["default_agent"][1]}
                       ) as writer:
        for length in (3, 4):
            writer.add_episode({"default_agent": AgentEpisode(
                np.zeros((length, 2), np.float32), np.arange(length) % 3,
                np.ones(length, np.float32), True, False)})
    return path


def _episodes_attempt(path):
    from rlmodules.algorithms.episodes import read_episodes

    try:
        recorded = read_episodes(path)
    except RLModulesError:
        return
    for agent, space in recorded.action_spaces.items():
        for episode in recorded.episodes:
            if agent in episode:
                assert all(space.contains(a) for a in episode[agent].actions)
                assert np.isfinite(episode[agent].rewards).all()


@FAST
@given(data=st.data())
def test_edited_episode_index_is_refused_or_reads_consistent_episodes(episodes_dir, tmp_path,
                                                                       data):
    path = _copy(episodes_dir, tmp_path)
    doc = read_doc(path / "episodes.json")
    write_signed(path / "episodes.json", edited(doc, data.draw(json_edits(doc))))
    _episodes_attempt(path)


@FAST
@given(edit=BYTE_EDITS, data=st.data())
def test_flipped_or_truncated_episode_files_are_refused(episodes_dir, tmp_path, edit, data):
    path = _copy(episodes_dir, tmp_path)
    target = data.draw(st.sampled_from(sorted(p for p in path.iterdir())))
    target.write_bytes(byte_edited(target.read_bytes(), edit))
    _episodes_attempt(path)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.update({"default_agent/actions": np.array([0, 1, 7])}),
     r"agent 'default_agent''s actions holds values outside Discrete\(3\)"),
    (lambda t: t.update({"default_agent/rewards": np.array([1, np.nan, 1], np.float32)}),
     r"array 'default_agent/rewards' holds NaN or infinite values"),
    (lambda t: t.update({"default_agent/obs": np.zeros((3, 2), np.float64)}),
     r"array 'default_agent/obs' has dtype float64 and shape \(3, 2\), expected float32"),
])
def test_episode_arrays_outside_their_spaces_are_refused(episodes_dir, tmp_path, change,
                                                         message):
    import hashlib

    from rlmodules.algorithms.episodes import read_episodes
    from rlmodules.errors import EpisodeDataError
    from safetensors.numpy import load, save

    path = _copy(episodes_dir, tmp_path)
    index = read_doc(path / "episodes.json")
    entry = index["episodes"][0]
    tensors = load((path / entry["file"]).read_bytes())
    change(tensors)
    data = save(tensors)
    (path / entry["file"]).write_bytes(data)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    write_signed(path / "episodes.json", index)
    with pytest.raises(EpisodeDataError, match=message):
        read_episodes(path)


# --- config files and run.json ---------------------------------------------------------------
CONFIG = {"environment": {"env": "CartPole-v1"}, "training": {"lr": 0.001, "gamma": 0.99},
          "rl_module": {"model_config": {"fcnet_hiddens": [8, 8]}}}


@FAST
@given(data=st.data(), suffix=st.sampled_from([".json", ".toml"]))
def test_edited_config_files_are_one_config_error_or_a_config(tmp_path, data, suffix):
    from rlmodules.algorithms.config import PPOConfig
    from rlmodules.cli.run_files import read_config_file

    doc = edited(CONFIG, data.draw(json_edits(CONFIG)))
    path = tmp_path / f"c{len(list(tmp_path.iterdir()))}{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(doc))
    else:
        path.write_text(_toml(doc))
    try:
        PPOConfig().update_from_dict(read_config_file(path))
    except RLModulesError:
        pass


def _toml(doc):
    """A small TOML writer for the fuzzer (tables of JSON-like values)."""
    lines = []
    for section, values in doc.items():
        if not isinstance(values, dict):
            lines.append(f"{section} = {json.dumps(values)}")
            continue
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()
                  if not isinstance(value, (dict, type(None)))]
    return "\n".join(lines)


@pytest.mark.parametrize("suffix, raw, message", [
    (".json", "[" * 10_000 + "]" * 10_000, r"nests deeper than 64 levels"),
    (".toml", "x = " + "[" * 10_000 + "]" * 10_000, r"nests deeper than 64 levels"),
    (".toml", b"[training]\nlr = 0.1 # caf\xe9\n", r"is not UTF-8 text \(byte 25 is 0xe9\)"),
    (".json", b'{"training": {"lr": 1}}\xff', r"is not UTF-8 text"),
    (".json", '{"trainig": {}}', r"has unknown key\(s\) 'trainig'. Did you mean 'training'\?"),
    (".json", '{"training": [1]}', r"training: got \[1\], expected an object"),
])
def test_train_config_files_that_cannot_be_read_are_one_line(tmp_path, capsys, suffix, raw,
                                                             message):
    from rlmodules.cli import main

    path = tmp_path / f"bad{suffix}"
    path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"rlmodules train: error: --config {path}"), err
    assert __import__("re").search(message, err), err


def test_a_run_whose_metrics_file_is_a_directory_is_one_line(tmp_path, capsys):
    from rlmodules.cli import main

    run = tmp_path / "run"
    assert main(["train", "--timesteps", "10", "--out", str(run)]) == 0
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").mkdir()
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--timesteps", "20"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"rlmodules train: error: --resume {run}: cannot write "
                   f"{run / 'metrics.jsonl'} (Is a directory)"), err


RUN = {"env": "CartPole-v1", "module": "ppo", "timesteps": 1000, "stop_return": 475.0,
       "algo": "ppo", "time_total_s": 1.5}


@FAST
@given(data=st.data())
def test_edited_run_files_are_one_config_error_or_a_run(tmp_path, data):
    from rlmodules.cli.run_files import read_run_file

    run_dir = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps(edited(RUN, data.draw(json_edits(RUN)))))
    try:
        saved = read_run_file(run_dir)
    except ConfigError:
        return
    assert isinstance(saved["timesteps"], int) and saved["timesteps"] >= 1


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_large_fuzz_of_module_checkpoints_episodes_and_packages(
        module_checkpoint, episodes_dir, package_dir, tmp_path, data, capsys):
    kind = data.draw(st.sampled_from(["module", "episodes", "package"]))
    if kind == "module":
        test_edited_module_metadata_is_refused_or_loads_the_saved_weights.hypothesis\
            .inner_test(module_checkpoint, tmp_path, data)
    elif kind == "episodes":
        test_edited_episode_index_is_refused_or_reads_consistent_episodes.hypothesis\
            .inner_test(episodes_dir, tmp_path, data)
    else:
        test_edited_package_manifest_is_refused_or_loads_the_saved_weights.hypothesis\
            .inner_test(module_checkpoint, package_dir, tmp_path, data, capsys)


# --- packaged policies (rlmodules_package.json) ----------------------------------------------
@pytest.fixture(scope="module")
def package_dir(module_checkpoint, tmp_path_factory):
    """A packaged folder as ``rlmodules package`` writes it, around the module checkpoint."""
    import shutil

    from rlmodules.policy_package import write_package_manifest

    folder = tmp_path_factory.mktemp("p") / "package"
    shutil.copytree(module_checkpoint[1], folder / "module")
    (folder / "README.md").write_text("# a policy\n")
    write_package_manifest(folder, {
        "rlmodules_version": "0.1.0", "created": "2025-01-01T00:00:00+00:00",
        "algorithm": "PPO", "module_name": "ppo", "stateful": False, "env": "CartPole-v1",
        "env_config": {}, "observation_filter": None,
        "contents": {"module": "module", "algorithm": None, "export": None},
        "evaluation": {"episodes": 2, "seeds": [7, 8], "returns": [10.0, 12.5],
                       "lengths": [10, 13], "mean": 11.25, "std": 1.25, "explore": False,
                       "recorded_episode": None, "recorded_frames": None},
        "video": None, "training": {"iteration": 1, "timesteps": 512, "episodes": 20,
                                    "time_total_s": 1.5},
        "run": False, "learning_curve": None,
        "requirements": [{"distribution": "rlmodules", "version": "0.1.0"}],
    })
    return folder


def _package_attempt(module_checkpoint, path):
    """Verify, inspect and load ``path``: our error, or the saved weights exactly."""
    from rlmodules.cli import main
    from rlmodules.policy_package import verify_package

    assert main(["inspect", "--verify", str(path)]) in (0, 1)
    try:
        verify_package(path)
        loaded = RLModule.from_checkpoint(path)
    except RLModulesError:
        return
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, module_checkpoint[0].state_dict()[key])


@FAST
@given(data=st.data())
def test_edited_package_manifest_is_refused_or_loads_the_saved_weights(
        module_checkpoint, package_dir, tmp_path, data, capsys):
    from rlmodules.policy_package import PACKAGE_FILE

    path = _copy(package_dir, tmp_path)
    doc = read_doc(path / PACKAGE_FILE)
    write_signed(path / PACKAGE_FILE, edited(doc, data.draw(json_edits(doc))))
    _package_attempt(module_checkpoint, path)


@FAST
@given(edit=BYTE_EDITS, name=st.sampled_from(["rlmodules_package.json", "README.md",
                                               "module/rlmodule.json"]))
def test_flipped_or_truncated_package_files_are_refused(module_checkpoint, package_dir,
                                                        tmp_path, edit, name, capsys):
    path = _copy(package_dir, tmp_path)
    (path / name).write_bytes(byte_edited((path / name).read_bytes(), edit))
    _package_attempt(module_checkpoint, path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["contents"].update(module="../module"),
     r"contents.module: got '../module', expected a plain file name inside the directory"),
    (lambda d: d["files"].update({"../secret": d["files"]["README.md"]}),
     r"files\['../secret'\]: got '../secret', expected a relative path of plain names"),
    (lambda d: d["evaluation"].update(returns=[1.0]),
     r"evaluation.seeds: got \[7, 8\], expected one per episode \(1 returns\)"),
    (lambda d: d["training"].update(timesteps="512"),
     r"training.timesteps: got '512', expected an integer from 0 to 2\*\*63 - 1"),
    (lambda d: d["requirements"].append({"distribution": "x", "version": 1}),
     r"requirements\[1\].version: got 1, expected a string"),
    (lambda d: d.update(command="rm -rf /"), r"the top level has unknown key\(s\) 'command'"),
])
def test_each_malformed_package_field_is_named(package_dir, tmp_path, change, message):
    from rlmodules.errors import CheckpointError
    from rlmodules.policy_package import PACKAGE_FILE, read_package_manifest

    path = _copy(package_dir, tmp_path)
    doc = read_doc(path / PACKAGE_FILE)
    change(doc)
    write_signed(path / PACKAGE_FILE, doc)
    with pytest.raises(CheckpointError, match=r"rlmodules_package.json is malformed: " + message):
        read_package_manifest(path)
