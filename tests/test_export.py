"""The export contract: the export_format hook kind, rlmodules.export.export, the manifest it
writes and `rlmodules export`, with an in-process format (no ONNX needed)."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import rlmodules
from rlmodules import (
    CheckpointError,
    ExportError,
    MultiRLModuleSpec,
    RLModuleSpec,
    UnknownNameError,
    registry,
)
from rlmodules.checkpoint import file_checksum, signed_json
from rlmodules.cli import main
from rlmodules.export import (
    MANIFEST_FILE,
    ExportedFile,
    FormatRef,
    ObservationNormalization,
    export,
    read_manifest,
    sample_observations,
)
from safetensors.numpy import save_file

OBS = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
ACTIONS = gym.spaces.Discrete(2)


class WeightsFormat:
    """Writes each module's state as safetensors: the smallest honest exporter."""

    def __init__(self):
        self.seen = []

    def export(self, module, directory, *, verify):
        self.seen.append((module, verify))
        state = {k: v.numpy() for k, v in module.get_state().items()}
        save_file(state, str(directory / "weights.safetensors"))
        return {"modules": {"default_policy": {"file": "weights.safetensors"}},
                "libraries": {"safetensors": "any"}}


class Plugin:
    def __init__(self, fmt):
        self.fmt = fmt

    @rlmodules.hookimpl
    def rlmodules_export_formats(self):
        return {"weights": self.fmt}


def _module(inference_only=False):
    return RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACTIONS,
                        inference_only=inference_only,
                        model_config={"fcnet_hiddens": [8]}).build()


@pytest.fixture
def weights(rlmodules_registry):
    fmt = WeightsFormat()
    rlmodules_registry.register_plugin(Plugin(fmt), name="test")
    return fmt


def test_a_checkpoint_exports_its_inference_only_build_with_the_manifest(tmp_path, weights):
    path = _module().save_to_path(tmp_path / "ckpt")
    out = export(path, tmp_path / "out", format="weights", verify=False)
    (module, verify), = weights.seen
    assert module.inference_only and not module.training and verify is False
    manifest = read_manifest(out)
    assert manifest.format == FormatRef(name="test/weights", distribution=None, version=None)
    assert manifest.multi_agent is False
    entry = manifest.modules["default_policy"]
    assert entry.module_class == "rlmodules/ppo"
    assert entry.observation_space["shape"] == [4]
    assert entry.action_space == {"type": "Discrete", "n": 2, "start": 0}
    assert entry.observation_normalization is None
    assert entry.artefact == {"file": "weights.safetensors"}
    size = (out / "weights.safetensors").stat().st_size
    assert manifest.files == {"weights.safetensors": ExportedFile(
        checksum=file_checksum(out / "weights.safetensors"), bytes=size)}
    assert manifest.metadata_checksum.startswith("xxh3_64/canonical-json:")
    assert set(manifest.libraries) == {"rlmodules", "torch", "safetensors"}
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_FILE, "weights.safetensors"]
    with pytest.raises(ExportError, match="export needs an RLModule or the path of a module "
                       "checkpoint, got int"):
        export(3, tmp_path / "other", format="weights")


def test_the_cli_exports_and_a_module_is_exported_from_a_copy(tmp_path, weights, capsys):
    module = _module()
    export(module, tmp_path / "direct", format="weights")
    assert module.training and weights.seen[0][0] is not module
    path = module.save_to_path(tmp_path / "ckpt")
    assert main(["export", str(path), "--format", "weights", "--out", str(tmp_path / "out"),
                 "--no-verify"]) == 0
    assert weights.seen[-1][1] is False
    assert capsys.readouterr().out.splitlines() == [
        f"default_policy: {tmp_path / 'out' / 'weights.safetensors'}  not verified",
        f"manifest: {tmp_path / 'out' / 'manifest.json'}"]


def test_a_single_agent_training_runs_multi_rl_module_exports_as_its_module(tmp_path, weights):
    multi = MultiRLModuleSpec(rl_module_specs={"default_policy": RLModuleSpec(
        module_class="ppo", observation_space=OBS, action_space=ACTIONS)}).build()
    manifest = read_manifest(export(multi.save_to_path(tmp_path / "ckpt"), tmp_path / "out",
                                    format="weights"))
    assert manifest.multi_agent is False
    assert type(weights.seen[0][0]).__name__ == "DefaultPPOTorchRLModule"


def test_the_export_format_kind_is_listed(weights, capsys):
    assert main(["list", "export_format"]) == 0
    assert "export_format  weights  test" in capsys.readouterr().out
    assert "export_format" in registry.KINDS


def test_an_export_replaces_an_earlier_one_but_never_other_data(tmp_path, weights):
    module = _module()
    export(module, tmp_path / "out", format="weights")
    export(module, tmp_path / "out", format="weights")  # an earlier export: replaced
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("keep")
    with pytest.raises(CheckpointError, match="refusing to replace .*data: the directory is "
                       "not empty and holds no 'manifest.json'"):
        export(module, tmp_path / "data", format="weights")
    assert (tmp_path / "data" / "notes.txt").read_text() == "keep"


def test_a_format_that_answers_for_other_module_ids_is_an_error(tmp_path, rlmodules_registry):
    class Wrong(WeightsFormat):
        def export(self, module, directory, *, verify):
            return {"modules": {"p0": {}}}

    rlmodules_registry.register_plugin(Plugin(Wrong()), name="test")
    with pytest.raises(ExportError, match=r"export format 'test/weights' returned manifest "
                       r"entries for \['p0'\]; expected one per module id \['default_policy'\]"):
        export(_module(), tmp_path / "out", format="weights")
    assert not (tmp_path / "out").exists()


def test_a_format_without_export_and_bad_names_are_errors(tmp_path, rlmodules_registry):
    rlmodules_registry.register_plugin(Plugin(object()), name="test")
    with pytest.raises(ExportError, match=r"export format 'weights' is <object object at .*>, "
                       r"which has no export\(module, directory, verify=...\) method"):
        export(_module(), tmp_path / "out", format="weights")
    with pytest.raises(ExportError, match="an export format is a registered name such as "
                       "'onnx'.*got 'pkg.mod:Format'"):
        export(_module(), tmp_path / "out", format="pkg.mod:Format")


def test_without_the_onnx_plugin_the_error_names_the_package(tmp_path, capsys):
    path = _module().save_to_path(tmp_path / "ckpt")
    with registry.isolated_registry(blocked=("rlmodules-onnx",)):
        with pytest.raises(UnknownNameError, match=r"unknown export_format name 'onnx'.*"
                           r"`pip install rlmodules-onnx`"):
            export(path, tmp_path / "out", format="onnx")
        assert main(["export", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rlmodules export: error: unknown export_format name 'onnx'.")
    assert "'onnx' is provided by a plugin: `pip install rlmodules-onnx`." in err


def test_reading_a_directory_that_is_not_an_export(tmp_path):
    with pytest.raises(ExportError, match=f"{tmp_path} is not an export directory: it has no "
                       "manifest.json; write one with `rlmodules export CKPT --format onnx"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"manifest_version": 99}))
    with pytest.raises(ExportError, match=r"has manifest_version 99; this version of rlmodules "
                       r"reads 2 \(export the module again with this version of rlmodules, or "
                       r"upgrade it\)"):
        read_manifest(tmp_path)


def test_an_export_without_checksums_is_refused_with_how_to_export_again(tmp_path):
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"manifest_version": 1, "modules": {}}))
    with pytest.raises(ExportError, match=r"has manifest_version 1; this version of rlmodules "
                       r"reads 2 \(older exports carry no checksums, so they cannot be verified\): "
                       r"export the checkpoint again with `rlmodules export CKPT --out DIR`"):
        read_manifest(tmp_path)


@pytest.fixture
def exported(tmp_path, weights):
    return export(_module(), tmp_path / "out", format="weights")


def _edit(directory, change, *, sign=True):
    """Apply ``change`` to the manifest's JSON, re-signed with a valid checksum if ``sign``
    (as someone who edits a file on purpose would)."""
    path = directory / MANIFEST_FILE
    data = json.loads(path.read_text())
    change(data)
    path.write_text(signed_json(data) if sign else json.dumps(data))


def test_an_edited_manifest_or_file_is_refused(exported):
    _edit(exported, lambda d: d.update(multi_agent=True), sign=False)
    with pytest.raises(CheckpointError, match=r"manifest.json is corrupted: its "
                       r"metadata_checksum '.*' does not match its contents"):
        read_manifest(exported)
    _edit(exported, lambda d: d.update(multi_agent=False))
    graph = exported / "weights.safetensors"
    graph.write_bytes(graph.read_bytes()[:-1] + b"\x00")
    with pytest.raises(CheckpointError, match=r"export file .*weights.safetensors has checksum "
                       r"xxh3_64/8MiB:\w+, not the recorded xxh3_64/8MiB:\w+: it was altered or "
                       r"truncated; export the checkpoint again"):
        read_manifest(exported)
    graph.write_bytes(b"short")
    with pytest.raises(CheckpointError, match=r"weights.safetensors is 5 bytes, not the \d+ "
                       r"written"):
        read_manifest(exported)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(multi_agent="yes"), r"expected bool, got str 'yes' @ \$.multi_agent"),
    (lambda d: d.pop("files"), r"required field missing @ \$.files"),
    (lambda d: d.update(extra=1), r"unknown field\(s\) \['extra'\]"),
    (lambda d: d["modules"]["default_policy"].update(module_class=7),
     r"expected str, got int 7 @ \$.modules\['default_policy'\].module_class"),
    (lambda d: d["files"]["weights.safetensors"].update(bytes=-1),
     r"'bytes' must be >= 0: -1 @ \$.files\['weights.safetensors'\]$"),
    (lambda d: d["files"]["weights.safetensors"].update(bytes="12"),
     r"expected int, got str '12'"),
    (lambda d: d["files"].update({"../x.onnx": d["files"]["weights.safetensors"]}),
     r"file names must be plain names inside the directory, got \['../x.onnx'\]"),
    (lambda d: d["modules"]["default_policy"].update(observation_normalization={
        "mean": [0.0], "var": [-1.0], "clip": 10.0, "epsilon": 1e-8}),
     r"var must not be negative"),
])
def test_every_malformed_field_is_our_error_naming_it(exported, change, message):
    _edit(exported, change)
    with pytest.raises(ExportError, match=r"manifest.json is malformed: .*" + message):
        read_manifest(exported)


def test_files_outside_the_export_are_refused(exported, tmp_path):
    outside = tmp_path / "secret.bin"
    outside.write_bytes((exported / "weights.safetensors").read_bytes())
    (exported / "weights.safetensors").unlink()
    (exported / "weights.safetensors").symlink_to(outside)
    with pytest.raises(CheckpointError, match=r"is a link to .*secret.bin, outside the "
                       r"checkpoint"):
        read_manifest(exported)
    (exported / "weights.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"checkpoint file .*weights.safetensors is missing"):
        read_manifest(exported)


def test_statistics_need_a_format_that_can_bake_them(tmp_path, weights):
    stats = ObservationNormalization(mean=[0.0] * 4, var=[1.0] * 4, clip=5.0, epsilon=1e-8)
    with pytest.raises(ExportError, match=r"export format 'test/weights' cannot bake "
                       r"observation statistics into its artefact"):
        export(_module(), tmp_path / "out", format="weights", observation_normalization=stats)
    assert not (tmp_path / "out").exists()


def test_sample_observations_keep_the_structure_and_the_seed():
    space = gym.spaces.Dict({"pos": OBS, "mode": gym.spaces.Tuple([gym.spaces.Discrete(3)])})
    batch = sample_observations(space, 5, seed=1)
    assert batch["pos"].shape == (5, 4) and batch["pos"].dtype == np.float32
    assert batch["mode"][0].shape == (5,)
    again = sample_observations(space, 5, seed=1)
    assert np.array_equal(batch["pos"], again["pos"])
