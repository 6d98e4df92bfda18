"""A DQN, a SAC and a MeanStdFilter PPO run directory, tampered with as an attacker would:
every field of every JSON file edited and re-signed, tensor files rewritten with wrong
dtypes, shapes, NaNs and out-of-range values under valid checksums, and bits flipped or
files cut short. Each variant is refused with an ``RLModulesError`` before any state
changes (weights, optimizer, replay buffer, statistics, RNGs and counters are compared with
a snapshot), or it restores a consistent state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from _tamper import BYTE_EDITS, FEW, SLOW, byte_edited, edited, json_edits, read_doc, write_signed
from hypothesis import given
from hypothesis import strategies as st
from rlmodules.algorithms.algorithm import Algorithm
from rlmodules.algorithms.checkpoint import STATE_FILE, read_algorithm_state
from rlmodules.checkpoint import read_tensor_file, write_tensor_file
from rlmodules.errors import RLModulesError

MODULE_META = "learner_group/learner/rl_module/rlmodule.json"


def _config(kind):
    from rlmodules.algorithms.config import PPOConfig
    from rlmodules.algorithms.offpolicy_config import DQNConfig, SACConfig

    small = {"num_steps_sampled_before_learning_starts": 16, "train_batch_size": 8,
             "min_sample_timesteps_per_iteration": 32}
    if kind == "dqn":
        config = DQNConfig().environment("CartPole-v1").training(
            replay_buffer_config={"type": "prioritized", "capacity": 64}, **small)
    elif kind == "sac":
        config = SACConfig().environment("Pendulum-v1").training(
            replay_buffer_config={"capacity": 64}, **small)
    else:
        config = PPOConfig().environment("CartPole-v1").env_runners(
            observation_filter="MeanStdFilter").training(
            train_batch_size=32, minibatch_size=16, num_epochs=1)
    return config.rl_module(model_config={"fcnet_hiddens": [8]}).debugging(seed=0)


@pytest.fixture(scope="module", params=["dqn", "sac", "ppo"])
def run(request, tmp_path_factory):
    """``(algo, run_dir)``: an algorithm trained two iterations, checkpointed after the first
    in a run directory as `rlmodules train` writes it."""
    from rlmodules.cli.run_files import write_run_file

    algo = _config(request.param).build()
    algo.train()
    run_dir = tmp_path_factory.mktemp(request.param)
    algo.save_to_path(run_dir / "checkpoint")
    write_run_file(run_dir, {"env": str(algo.config.env), "module": request.param,
                             "timesteps": 10_000, "stop_return": None, "algo": "ppo"
                             if request.param == "ppo" else request.param})
    algo.train()  # the live state now differs from the checkpoint's
    yield algo, run_dir
    algo.stop()


def snapshot(algo):
    """Everything a restore may change, as plain comparable values."""
    tensors, data = algo.learner.get_optimizer_state()
    parts = {
        "weights": algo.module.state_dict(),
        "optimizer": tensors,
        "optimizer_data": json.dumps(data, sort_keys=True),
        "rng": {"torch": torch.get_rng_state(), "learner": algo.torch_generator.get_state()},
        "numpy_rng": json.dumps(algo.np_random.bit_generator.state),
        "counters": (algo.iteration, algo.timesteps, algo.episodes, list(algo.recent_returns),
                     list(algo.recent_lengths)),
    }
    if algo.obs_normalizer is not None:
        parts["obs_stats"] = algo.obs_normalizer.state()
    if hasattr(algo, "replay_buffer"):
        arrays, buffer_data = algo.replay_buffer.get_state()
        parts["buffer"] = (arrays, json.dumps(buffer_data, sort_keys=True))
        parts["learner_extra"] = (algo.learner.state_tensors(), algo.owed_updates,
                                  algo.learner.last_target_update)
    return _plain(parts)


def _plain(value):
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), value.detach().cpu().numpy().tobytes())
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, value.tobytes())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def attempt(algo, checkpoint):
    """Restore ``checkpoint``: refused with nothing changed, or restored consistently."""
    before = snapshot(algo)
    try:
        algo.restore_from_path(checkpoint)
    except RLModulesError:
        assert snapshot(algo) == before, "a refused restore changed the algorithm's state"
        return False
    state = read_algorithm_state(checkpoint)
    assert (algo.iteration, algo.timesteps) == (state["iteration"], state["timesteps"])
    if algo.obs_normalizer is not None:
        tensors, _ = algo.obs_normalizer.state()
        assert all(torch.isfinite(t).all() for t in tensors.values())
    return True


def tampered_copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / f"c{len(list(tmp_path.iterdir()))}"
    shutil.copytree(run_dir / "checkpoint", copy)
    return copy


def _fuzz_json(run, tmp_path, data, file):
    algo, run_dir = run
    checkpoint = tampered_copy(run_dir, tmp_path)
    doc = read_doc(checkpoint / file)
    write_signed(checkpoint / file, edited(doc, data.draw(json_edits(doc))))
    attempt(algo, checkpoint)


@FEW
@given(data=st.data())
def test_edited_and_resigned_state_files_are_refused_or_restored_whole(run, tmp_path, data):
    _fuzz_json(run, tmp_path, data, data.draw(st.sampled_from([STATE_FILE, MODULE_META])))


TENSOR_EDITS = st.sampled_from(["nan", "inf", "dtype", "rows", "delete", "extra", "negate",
                                "shift", "zero"])


def _edit_tensor(tensor: torch.Tensor, kind: str) -> torch.Tensor | None:
    if kind == "delete":
        return None
    if kind == "dtype":
        return tensor.to(torch.float16 if tensor.dtype != torch.float16 else torch.float64)
    if kind == "rows":
        return tensor[:-1] if tensor.ndim and len(tensor) else torch.zeros(3, 2)
    flat = tensor.clone().double() if not tensor.is_floating_point() else tensor.clone()
    if kind in ("nan", "inf") and flat.numel():
        flat.view(-1)[0] = float(kind)
    elif kind == "negate":
        flat = -flat - 1
    elif kind == "shift":
        flat = flat + 1000
    elif kind == "zero":
        flat = torch.zeros_like(flat)
    return flat.to(tensor.dtype)


def _tensor_entries(state):
    entries = dict(state["tensor_files"])
    if "file" in state.get("extra", {}):
        entries["extra"] = state["extra"]["file"]
    return entries


@FEW
@given(data=st.data())
def test_tensor_files_rewritten_with_valid_checksums_are_refused_or_restored_whole(
        run, tmp_path, data):
    algo, run_dir = run
    checkpoint = tampered_copy(run_dir, tmp_path)
    state = read_doc(checkpoint / STATE_FILE)
    entries = _tensor_entries(state)
    which = data.draw(st.sampled_from(sorted(entries)))
    tensors = read_tensor_file(checkpoint, entries[which])
    name = data.draw(st.sampled_from(sorted(tensors)))
    kind = data.draw(TENSOR_EDITS)
    if kind == "extra":
        tensors["unexpected"] = torch.zeros(2)
    else:
        new = _edit_tensor(tensors[name], kind)
        if new is None:
            del tensors[name]
        else:
            tensors[name] = new
    entry = write_tensor_file(checkpoint, Path(entries[which]["file"]).stem, tensors)
    if which == "extra":
        state["extra"]["file"] = entry
    else:
        state["tensor_files"][which] = entry
    write_signed(checkpoint / STATE_FILE, state)
    attempt(algo, checkpoint)


@FEW
@given(edit=BYTE_EDITS, data=st.data())
def test_flipped_bits_and_truncated_files_are_refused_or_restored_whole(run, tmp_path, edit,
                                                                        data):
    algo, run_dir = run
    checkpoint = tampered_copy(run_dir, tmp_path)
    files = sorted(p for p in checkpoint.rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files))
    target.write_bytes(byte_edited(target.read_bytes(), edit))
    attempt(algo, checkpoint)


@pytest.mark.parametrize("field, value, message", [
    (("obs_normalization", "clip"), -1, r"obs_normalization.clip: got -1, expected a finite "
                                        r"number > 0"),
    (("extra", "replay_buffer", "next"), 7000, r"extra.*next: got 7000, expected"),
    (("extra", "replay_buffer", "capacity"), 0, r"capacity: got 0, expected an integer >= 1"),
    (("extra", "owed_updates"), 1e18, r"owed_updates: got 1e\+18, expected a number from 0"),
    (("numpy_rng", "state", "inc"), -1, r"numpy_rng.state.inc: got -1, expected an integer "
                                        r"from 0 to"),
    (("timesteps",), True, r"timesteps: got True, expected an integer from 0"),
    (("config", "training"), [1], r"config.training: got \[1\], expected an object or null"),
])
def test_named_tampering_is_one_error_naming_the_field(run, tmp_path, field, value, message):
    """The cases found by hand, among them the one that used to change the weights before it
    failed (a normalisation clip of -1)."""
    algo, run_dir = run
    checkpoint = tampered_copy(run_dir, tmp_path)
    state = read_doc(checkpoint / STATE_FILE)
    parent = state
    for part in field[:-1]:
        parent = parent.get(part, {})
    if field[-1] not in parent:
        pytest.skip(f"{type(algo).__name__} checkpoints have no {'.'.join(field)}")
    parent[field[-1]] = value
    write_signed(checkpoint / STATE_FILE, state)
    before = snapshot(algo)
    with pytest.raises(RLModulesError, match=message):
        algo.restore_from_path(checkpoint)
    assert snapshot(algo) == before
    with pytest.raises(RLModulesError, match=message):
        Algorithm.from_checkpoint(checkpoint)


def test_an_algorithm_without_extra_state_refuses_keys_slipped_into_it(run, tmp_path):
    algo, run_dir = run
    checkpoint = tampered_copy(run_dir, tmp_path)
    state = read_doc(checkpoint / STATE_FILE)
    if state["extra"]:
        pytest.skip(f"{type(algo).__name__} saves extra state")
    state["extra"]["owed_updates"] = 1e18
    write_signed(checkpoint / STATE_FILE, state)
    before = snapshot(algo)
    with pytest.raises(RLModulesError, match=r"extra is malformed: .*owed_updates"):
        algo.restore_from_path(checkpoint)
    assert snapshot(algo) == before


def test_train_resume_of_a_tampered_run_is_one_line_and_changes_no_file(run, tmp_path,
                                                                        capsys):
    from rlmodules.cli import main

    _, run_dir = run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    state = read_doc(copy / "checkpoint" / STATE_FILE)
    state["iteration"] = -3
    write_signed(copy / "checkpoint" / STATE_FILE, state)
    (copy / "metrics.jsonl").write_text("")
    files = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert main(["train", "--resume", str(copy)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "iteration: got -3, expected an integer from 0" in err, err
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == files
    (copy / "run.json").write_bytes(b'{"env": "CartPole-v1", "timesteps": "lots"')
    assert main(["train", "--resume", str(copy)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "run.json is not valid JSON" in err, err


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_large_fuzz_of_every_run_dir_file(run, tmp_path, data):
    kind = data.draw(st.sampled_from(["json", "tensor", "bytes"]))
    if kind == "json":
        _fuzz_json(run, tmp_path, data, data.draw(st.sampled_from([STATE_FILE, MODULE_META])))
    elif kind == "tensor":
        test_tensor_files_rewritten_with_valid_checksums_are_refused_or_restored_whole.hypothesis\
            .inner_test(run, tmp_path, data)
    else:
        test_flipped_bits_and_truncated_files_are_refused_or_restored_whole.hypothesis\
            .inner_test(run, tmp_path, data.draw(BYTE_EDITS), data)
