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


def test_an_out_whose_metrics_file_is_a_directory_is_one_line(tmp_path, capsys):
    from rlmodules.cli import main

    (tmp_path / "run" / "metrics.jsonl").mkdir(parents=True)
    assert main(["train", "--timesteps", "10", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"rlmodules train: error: --out {tmp_path / 'run'}: cannot write "
                   f"{tmp_path / 'run' / 'metrics.jsonl'} (Is a directory)"), err


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
def test_large_fuzz_of_module_checkpoints_and_episodes(module_checkpoint, episodes_dir,
                                                       tmp_path, data):
    if data.draw(st.booleans()):
        test_edited_module_metadata_is_refused_or_loads_the_saved_weights.hypothesis\
            .inner_test(module_checkpoint, tmp_path, data)
    else:
        test_edited_episode_index_is_refused_or_reads_consistent_episodes.hypothesis\
            .inner_test(episodes_dir, tmp_path, data)
