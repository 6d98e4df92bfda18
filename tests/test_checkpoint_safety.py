"""Checkpoint safety: no unpickling, no imports named by the file, corruption caught early."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from _checkpoint_modules import (
    ACT,
    OBS,
    SHARED_CLASSES,
    assert_same_state,
    randomize,
    shared_encoder_spec,
)
from rlmodules import CheckpointError, Columns, RLModule, RLModuleSpec
from rlmodules.checkpoint import METADATA_FILE, file_checksum, write_json_file


def build(name="ppo", seed=0):
    module = RLModuleSpec(module_class=name, observation_space=OBS, action_space=ACT,
                          model_config={"fcnet_hiddens": [16]}).build()
    return randomize(module, seed)


def snapshot(module):
    state = module.get_state()
    return {k: ({n: t.clone() for n, t in v.items()} if isinstance(v, dict) else v.clone())
            for k, v in state.items()}


def edit_metadata(path: Path, change) -> None:
    """Change the metadata as an attacker would: consistently, checksum recomputed."""
    meta_path = path / METADATA_FILE
    meta = json.loads(meta_path.read_text())
    change(meta)
    write_json_file(meta_path, meta)


def tensor_entries(node):
    if node.get("tensors"):
        yield node["tensors"]
    for child in node.get("components", {}).values():
        yield from tensor_entries(child)


class CreatesMarker:
    """Unpickling this runs ``open(marker, "w")``: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# --- never unpickle -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
@pytest.mark.parametrize("recorded_checksum", ["stale", "forged"])
def test_a_pickle_payload_in_any_tensor_file_never_runs(tmp_path, fmt, recorded_checksum):
    source = randomize(shared_encoder_spec().build(), 1)
    source.save_to_path(tmp_path / "c", format=fmt)
    files = [e["file"] for e in tensor_entries(json.loads(
        (tmp_path / "c" / METADATA_FILE).read_text())["module"])]
    assert len(files) == 3  # the shared encoder and the two policies
    target = randomize(shared_encoder_spec().build(), 2)
    before = snapshot(target)
    for i, name in enumerate(files):
        marker = tmp_path / f"pwned-{i}"
        with open(tmp_path / "c" / name, "wb") as f:
            if fmt == "torch":
                torch.save({"w": CreatesMarker(marker)}, f)
            else:
                pickle.dump(CreatesMarker(marker), f)
        if recorded_checksum == "forged":  # an attacker who also rewrites the metadata
            def forge(meta, name=name):
                for entry in tensor_entries(meta["module"]):
                    if entry["file"] == name:
                        entry["checksum"] = file_checksum(tmp_path / "c" / name)
                        entry["bytes"] = (tmp_path / "c" / name).stat().st_size
            edit_metadata(tmp_path / "c", forge)
        with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
            RLModule.from_checkpoint(tmp_path / "c", trusted_objects=SHARED_CLASSES)
        with pytest.raises(CheckpointError):
            target.restore_from_path(tmp_path / "c")
        assert not marker.exists()
        assert_same_state(target.get_state(), before)
        source.save_to_path(tmp_path / "c", format=fmt)  # a clean copy for the next file


def test_un_imported_import_path_is_refused_without_importing(tmp_path, monkeypatch):
    package = tmp_path / "site"
    package.mkdir()
    (package / "evil_rl_module_xyz.py").write_text(textwrap.dedent(f"""
        open({str(tmp_path / "imported")!r}, "w").close()
        class Evil:
            pass
    """))
    monkeypatch.syspath_prepend(str(package))
    build().save_to_path(tmp_path / "c")
    edit_metadata(tmp_path / "c", lambda m: m["module"].__setitem__(
        "module_class", {"import_path": "evil_rl_module_xyz:Evil"}))
    with pytest.raises(CheckpointError, match=r"c: module import path 'evil_rl_module_xyz:Evil' "
                                              r"is refused: it is not registered, and "
                                              r"rlmodules never imports a name read from a "
                                              r"file; .*allow_import=True"):
        RLModule.from_checkpoint(tmp_path / "c")
    assert not (tmp_path / "imported").exists()
    assert "evil_rl_module_xyz" not in sys.modules
    try:  # the explicit opt-in imports it (and then finds it is no RLModule)
        with pytest.raises(CheckpointError, match="not a RLModule subclass"):
            RLModule.from_checkpoint(tmp_path / "c", allow_import=True)
        assert (tmp_path / "imported").exists()
    finally:
        sys.modules.pop("evil_rl_module_xyz", None)


def test_missing_plugin_names_the_distribution_to_install(tmp_path):
    build().save_to_path(tmp_path / "c")
    edit_metadata(tmp_path / "c", lambda m: m["module"].__setitem__("module_class", {
        "name": "rlmodules_lstm/lstm_ppo_xyz", "distribution": "rlmodules-lstm",
        "version": "0.3.0"}))
    with pytest.raises(CheckpointError, match=r"needs module 'rlmodules_lstm/lstm_ppo_xyz' from "
                                              r"rlmodules-lstm 0\.3\.0, which is not installed; "
                                              r"install it with `pip install "
                                              r"rlmodules-lstm==0\.3\.0`"):
        RLModule.from_checkpoint(tmp_path / "c")


def test_newer_format_version_is_refused_and_current_loads(tmp_path):
    module = build()
    module.save_to_path(tmp_path / "c")
    meta_path = tmp_path / "c" / METADATA_FILE
    legacy = json.loads(meta_path.read_text())  # as rlmodules 0.1 wrote it: no checksums
    del legacy["metadata_checksum"], legacy["module"]["action_distributions"]
    legacy["checkpoint_format_version"] = 1
    meta_path.write_text(json.dumps(legacy))
    RLModule.from_checkpoint(tmp_path / "c")
    edit_metadata(tmp_path / "c", lambda m: m.__setitem__("checkpoint_format_version", 3))
    with pytest.raises(CheckpointError, match=r"uses checkpoint format version 3 .*newer than "
                                              r"the version 2 this rlmodules .* reads; upgrade "
                                              r"with `pip install -U rlmodules`"):
        RLModule.from_checkpoint(tmp_path / "c")
    with pytest.raises(CheckpointError, match="newer than"):
        module.restore_from_path(tmp_path / "c")
    edit_metadata(tmp_path / "c", lambda m: m.__setitem__("checkpoint_format_version", "1"))
    with pytest.raises(CheckpointError, match=r"checkpoint_format_version '1'; expected an "
                                              r"integer from 1 to 2"):
        RLModule.from_checkpoint(tmp_path / "c")


def test_not_a_checkpoint_and_malformed_metadata(tmp_path):
    with pytest.raises(CheckpointError, match=r"not an rlmodules module checkpoint: it does not "
                                              r"exist"):
        RLModule.from_checkpoint(tmp_path / "nothing")
    build().save_to_path(tmp_path / "c")
    edit_metadata(tmp_path / "c", lambda m: m["module"].__setitem__("inference_only", "no"))
    with pytest.raises(CheckpointError, match=r"malformed: module.inference_only: got 'no', "
                                              r"expected true or false"):
        RLModule.from_checkpoint(tmp_path / "c")
    (tmp_path / "c" / METADATA_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="is not valid JSON"):
        RLModule.from_checkpoint(tmp_path / "c")


# --- corruption ----------------------------------------------------------------------------------
def corrupt(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) - 64]))
    else:
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_truncated_or_flipped_file_is_caught_before_any_weight_changes(tmp_path, fmt, how):
    source = randomize(shared_encoder_spec().build(), 1)
    source.save_to_path(tmp_path / "c", format=fmt)
    p1_file = json.loads((tmp_path / "c" / METADATA_FILE).read_text())[
        "module"]["components"]["p1"]["tensors"]["file"]
    corrupt(tmp_path / "c" / p1_file, how)
    target = randomize(shared_encoder_spec().build(), 2)
    before = snapshot(target)
    expected = "truncated" if how == "truncate" else "corrupted: checksum"
    with pytest.raises(CheckpointError, match=rf"{p1_file.replace('.', '[.]')}.* {expected}"):
        target.restore_from_path(tmp_path / "c")
    assert_same_state(target.get_state(), before)  # p0 and the shared encoder too
    target.restore_from_path(tmp_path / "c", component="p0")  # the intact part still loads
    assert_same_state(target["p0"].get_state(), source["p0"].get_state())
    with pytest.raises(CheckpointError, match=p1_file.replace(".", "[.]")):
        RLModule.from_checkpoint(tmp_path / "c", trusted_objects=SHARED_CLASSES)


def test_missing_tensor_file(tmp_path):
    build().save_to_path(tmp_path / "c")
    (tmp_path / "c" / "module.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"checkpoint file .*module\.safetensors is missing"):
        RLModule.from_checkpoint(tmp_path / "c")


# --- another process ------------------------------------------------------------------------------
def test_another_process_loads_by_registered_name(tmp_path):
    module = build("ppo", seed=3)
    module.save_to_path(tmp_path / "c")
    batch = {Columns.OBS: torch.linspace(-1, 1, 8).reshape(2, 4)}
    script = textwrap.dedent(f"""
        import json, sys, torch
        from rlmodules import RLModule
        module = RLModule.from_checkpoint({str(tmp_path / "c")!r})
        obs = torch.linspace(-1, 1, 8).reshape(2, 4)
        out = module.forward_inference({{"obs": obs}})["action_dist_inputs"]
        print(json.dumps([type(module).__name__, "ppo" in sys.modules, out.tolist()]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    name, _, out = json.loads(done.stdout.strip().splitlines()[-1])
    assert name == "DefaultPPOTorchRLModule"
    torch.testing.assert_close(torch.tensor(out),
                               module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_checkpoint_loads_onto_cuda_and_back(tmp_path):
    module = build()
    module.save_to_path(tmp_path / "cpu")
    on_gpu = RLModule.from_checkpoint(tmp_path / "cpu", device="cuda")
    assert all(p.is_cuda for p in on_gpu.parameters())
    assert_same_state(on_gpu.get_state(), module.get_state())
    fresh_gpu = build(seed=9).to("cuda")
    fresh_gpu.restore_from_path(tmp_path / "cpu")
    assert all(p.is_cuda for p in fresh_gpu.parameters())
    on_gpu.save_to_path(tmp_path / "gpu")
    back = build(seed=8)
    back.restore_from_path(tmp_path / "gpu")
    assert_same_state(back.get_state(), module.get_state())


def test_an_edited_model_config_is_refused_before_it_allocates(tmp_path):
    """Layer sizes of ten billion weights would allocate 40 GB; the meta-device build sees it
    first, against the elements the tensor files hold."""
    build().save_to_path(tmp_path / "c")
    edit_metadata(tmp_path / "c", lambda meta: meta["module"]["model_config"].update(
        fcnet_hiddens=[100_000, 100_000]))
    with pytest.raises(CheckpointError) as caught:
        RLModule.from_checkpoint(tmp_path / "c")
    assert str(caught.value) == (
        f"checkpoint {tmp_path / 'c'}: its recorded config builds a module of 10,000,900,003 "
        f"weights, but its tensor files hold 131; the metadata does not describe these "
        f"weights (was it edited?); save it again")
    edit_metadata(tmp_path / "c", lambda meta: meta["module"]["model_config"].update(
        fcnet_hiddens=[16]))
    RLModule.from_checkpoint(tmp_path / "c")  # as saved, it loads
