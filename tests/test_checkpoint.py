"""Module checkpoints: round trips, components, state selection, formats, reusable pieces."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import rlmodules
import torch
from _checkpoint_modules import (
    ACT,
    OBS,
    SHARED_CLASSES,
    MultiAgentPGWithSharedEncoder,
    PGPolicyUsingSharedEncoder,
    SharedEncoderPlugin,
    assert_same_state,
    randomize,
    shared_encoder_spec,
)
from rlmodules import (
    CheckpointError,
    Columns,
    MultiRLModule,
    RLModule,
    RLModuleSpec,
    UnknownNameError,
    registry,
)
from rlmodules.checkpoint import (
    METADATA_FILE,
    atomic_directory,
    read_tensor_file,
    write_tensor_file,
)

OBS_BATCH = {Columns.OBS: torch.linspace(-1, 1, 12).reshape(3, 4)}


def build(name: str, *, inference_only: bool = False, seed: int = 0) -> RLModule:
    module = RLModuleSpec(module_class=name, observation_space=OBS, action_space=ACT,
                          inference_only=inference_only,
                          model_config={"fcnet_hiddens": [16]}).build()
    return randomize(module, seed)


def logits(module: RLModule, batch=OBS_BATCH) -> torch.Tensor:
    return module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS]


@pytest.fixture
def shared_plugin():
    name = registry.register_plugin(SharedEncoderPlugin(), name="shared_encoder_test")
    yield name
    registry.unregister_plugin(name)


# --- round trips --------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
@pytest.mark.parametrize("name", ["ppo", "bc", "dqn"])
def test_default_modules_round_trip(tmp_path, name, fmt):
    module = build(name)
    path = module.save_to_path(tmp_path / "ckpt", format=fmt)
    assert path == str(tmp_path / "ckpt")
    loaded = RLModule.from_checkpoint(path)
    assert type(loaded) is type(module)
    assert loaded.model_config == module.model_config
    assert_same_state(loaded.get_state(), module.get_state())
    if name == "dqn":
        out, ref = loaded.forward_inference(OBS_BATCH), module.forward_inference(OBS_BATCH)
        torch.testing.assert_close(out[Columns.QF_PREDS], ref[Columns.QF_PREDS])
    else:
        torch.testing.assert_close(logits(loaded), logits(module))


def test_metadata_names_the_registered_class_and_its_distribution(tmp_path):
    module = build("ppo")
    meta = module.get_metadata()
    assert meta["checkpoint_format_version"] == 2
    assert meta["rlmodules_version"] == rlmodules.__version__
    node = meta["module"]
    assert node["module_class"] == {"name": "rlmodules/ppo", "distribution": "rlmodules",
                                    "version": rlmodules.__version__}
    categorical = {"name": "rlmodules/categorical", "distribution": "rlmodules",
                   "version": rlmodules.__version__}
    assert node["action_distributions"] == dict.fromkeys(
        ("train", "exploration", "inference"), categorical)
    assert node["observation_space"] == rlmodules.space_to_json(OBS)
    assert node["model_config"]["fcnet_hiddens"] == [16]
    assert node["inference_only"] is False and node["catalog_class"] is None
    module.save_to_path(tmp_path / "c")
    written = json.loads((tmp_path / "c" / METADATA_FILE).read_text())
    entry = written["module"]["tensors"]
    assert entry["file"] == "module.safetensors"
    assert entry["format"]["name"] == "rlmodules/safetensors"
    assert entry["checksum"].startswith("xxh3_64/8MiB:")
    assert entry["num_elements"] == sum(p.numel() for p in module.state_dict().values())


def test_seeds_checkpoint_example_ports(tmp_path):
    # The seeds' "Checkpointing RL Modules" example with only the imports changed.
    from rlmodules.plugins import DefaultPPOTorchRLModule, PPOCatalog

    module = RLModuleSpec(
        module_class=DefaultPPOTorchRLModule, observation_space=OBS, action_space=ACT,
        model_config=rlmodules.DefaultModelConfig() | {"fcnet_hiddens": [32]},
        catalog_class=PPOCatalog,
    ).build()
    module_ckpt_path = tmp_path / "empty_dir_made_by_mkdtemp"
    module_ckpt_path.mkdir()
    module.save_to_path(module_ckpt_path)
    loaded_module = RLModule.from_checkpoint(module_ckpt_path)
    torch.testing.assert_close(logits(loaded_module), logits(module))


def test_save_without_path_uses_a_fresh_temp_dir():
    module = build("bc")
    first, second = module.save_to_path(), module.save_to_path()
    assert first != second
    torch.testing.assert_close(logits(RLModule.from_checkpoint(first)), logits(module))


def test_from_checkpoint_skips_initializers_the_load_overwrites(tmp_path, monkeypatch):
    module = build("ppo")
    module.save_to_path(tmp_path / "c")
    calls = []
    real = torch.nn.init.orthogonal_
    monkeypatch.setattr(torch.nn.init, "orthogonal_",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    loaded = RLModule.from_checkpoint(tmp_path / "c")
    assert calls == []  # orthogonal init of large layers costs seconds; the load replaces it
    assert_same_state(loaded.get_state(), module.get_state())
    build("ppo")
    assert calls  # building outside a load initialises as configured


def test_restore_overwrites_weights_in_place_and_keeps_parameters(tmp_path):
    source, target = build("ppo", seed=1), build("ppo", seed=2)
    source.save_to_path(tmp_path / "c")
    params = list(target.parameters())
    target.restore_from_path(tmp_path / "c")
    assert all(p is q for p, q in zip(params, target.parameters()))
    assert_same_state(target.get_state(), source.get_state())


def test_saving_again_replaces_the_checkpoint(tmp_path):
    build("bc", seed=1).save_to_path(tmp_path / "c")
    newer = build("bc", seed=2)
    newer.save_to_path(tmp_path / "c", format="torch")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["module.pt", METADATA_FILE]
    assert_same_state(RLModule.from_checkpoint(tmp_path / "c").get_state(), newer.get_state())
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temp dirs left behind


class Tied(rlmodules.TorchRLModule):
    def setup(self):
        self.a = torch.nn.Linear(4, 4)
        self.b = torch.nn.Linear(4, 4)
        self.b.weight = self.a.weight

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.b(self.a(batch[Columns.OBS]))[:, :2]}


def test_tied_weights_round_trip(tmp_path):
    module = randomize(Tied(observation_space=OBS, action_space=ACT), 3)
    module.save_to_path(tmp_path / "c")
    fresh = Tied(observation_space=OBS, action_space=ACT)
    fresh.restore_from_path(tmp_path / "c")
    assert fresh.b.weight is fresh.a.weight
    torch.testing.assert_close(logits(fresh), logits(module))


# --- inference-only -----------------------------------------------------------------------------
def test_full_checkpoint_restores_into_inference_only_build(tmp_path):
    full = build("ppo")
    full.save_to_path(tmp_path / "c")
    lean = build("ppo", inference_only=True, seed=5)
    lean.restore_from_path(tmp_path / "c")
    torch.testing.assert_close(logits(lean), logits(full))
    loaded = RLModule.from_checkpoint(tmp_path / "c", inference_only=True)
    assert loaded.inference_only and not any(k.startswith("vf") for k in loaded.get_state())
    torch.testing.assert_close(logits(loaded), logits(full))


def test_get_state_inference_only_drops_training_weights():
    full = build("ppo")
    lean_keys = set(full.get_state(inference_only=True))
    assert lean_keys == set(build("ppo", inference_only=True).get_state())
    assert lean_keys < set(full.get_state())
    assert not any(k.startswith("vf") for k in lean_keys)


def test_inference_only_checkpoint_cannot_fill_a_full_module(tmp_path):
    build("ppo", inference_only=True).save_to_path(tmp_path / "c")
    full = build("ppo")
    before = full.get_state()
    before = {k: v.clone() for k, v in before.items()}
    with pytest.raises(CheckpointError, match=r"missing keys \['vf\.0\.weight'"):
        full.restore_from_path(tmp_path / "c")
    assert_same_state(full.get_state(), before)


def test_a_load_error_names_the_spaces_when_they_differ(tmp_path):
    build("ppo").save_to_path(tmp_path / "c")
    other = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (7,)),
                         action_space=ACT, model_config={"fcnet_hiddens": [16]}).build()
    with pytest.raises(CheckpointError, match=r"shape mismatches .* was built for observation "
                                              r"space Box\(.*\(4,\).*this one has Box\(.*\(7,\)"):
        other.restore_from_path(tmp_path / "c")
    # Inside a MultiRLModule too, under the module id whose spaces differ.
    build("ppo").as_multi_rl_module().save_to_path(tmp_path / "m")
    with pytest.raises(CheckpointError, match=r"module id 'default_policy'.*\(7,\)"):
        other.as_multi_rl_module().restore_from_path(tmp_path / "m")


# --- MultiRLModule with a shared encoder ----------------------------------------------------------
def multi_batch():
    return {"p0": dict(OBS_BATCH), "p1": {Columns.OBS: OBS_BATCH[Columns.OBS][:2]}}


def multi_logits(multi):
    out = multi.forward_inference(multi_batch())
    return {mid: o[Columns.ACTION_DIST_INPUTS] for mid, o in out.items()}


@pytest.mark.parametrize("registered", [True, False], ids=["by-name", "by-import-path"])
def test_shared_encoder_multi_round_trip(tmp_path, request, registered):
    if registered:
        request.getfixturevalue("shared_plugin")
    multi = randomize(shared_encoder_spec().build(), 7)
    multi.save_to_path(tmp_path / "c")
    meta = json.loads((tmp_path / "c" / METADATA_FILE).read_text())["module"]
    if registered:
        assert meta["module_class"]["name"] == "shared_encoder_test/pg_shared_multi"
    else:
        assert meta["module_class"]["import_path"].endswith(":MultiAgentPGWithSharedEncoder")
    assert sorted(meta["components"]) == ["p0", "p1"]
    assert meta["components"]["p0"]["model_config"] == {"feature_dim": 8, "hidden_dim": 32}
    loaded = RLModule.from_checkpoint(tmp_path / "c", trusted_objects=SHARED_CLASSES)
    assert type(loaded) is MultiAgentPGWithSharedEncoder
    state = loaded.get_state()
    assert set(state) == {"p0", "p1", MultiRLModule.OWN_STATE_KEY}
    assert_same_state(state, multi.get_state())
    for mid, out in multi_logits(loaded).items():
        torch.testing.assert_close(out, multi_logits(multi)[mid])


def test_component_restore_touches_only_that_module_id(tmp_path):
    source = randomize(shared_encoder_spec().build(), 1)
    source.save_to_path(tmp_path / "c")
    target = randomize(shared_encoder_spec().build(), 2)
    before = target.get_state()
    before = {k: {n: t.clone() for n, t in v.items()} for k, v in before.items()}
    target.restore_from_path(tmp_path / "c", component="p0")
    after = target.get_state()
    assert_same_state(after["p0"], source.get_state()["p0"])
    assert_same_state(after["p1"], before["p1"])
    assert_same_state(after["__multi__"], before["__multi__"])


def test_one_agent_of_a_multi_checkpoint_loads_alone(tmp_path):
    source = randomize(shared_encoder_spec().build(), 1)
    source.save_to_path(tmp_path / "c")
    alone = RLModule.from_checkpoint(tmp_path / "c", component="p1",
                                     trusted_objects=SHARED_CLASSES)
    assert type(alone) is PGPolicyUsingSharedEncoder
    assert_same_state(alone.get_state(), source["p1"].get_state())
    standalone = randomize(PGPolicyUsingSharedEncoder(
        observation_space=OBS, action_space=ACT,
        model_config={"feature_dim": 8, "hidden_dim": 32}), 9)
    standalone.restore_from_path(tmp_path / "c", component="p0")
    assert_same_state(standalone.get_state(), source["p0"].get_state())


def test_single_module_checkpoint_restores_into_a_module_id(tmp_path):
    single = build("bc", seed=4)
    single.save_to_path(tmp_path / "single")
    multi = MultiRLModule(observation_space=OBS, action_space=ACT)
    multi.add_module("a", build("bc", seed=5))
    multi.add_module("b", build("bc", seed=6))
    b_before = {k: v.clone() for k, v in multi["b"].get_state().items()}
    multi.restore_from_path(tmp_path / "single", component="a")
    assert_same_state(multi["a"].get_state(), single.get_state())
    assert_same_state(multi["b"].get_state(), b_before)


def nested_multi(seed):
    team = MultiRLModule(observation_space=OBS, action_space=ACT)
    team.add_module("a", build("bc", seed=seed))
    team.add_module("b", build("ppo", seed=seed + 1))
    league = MultiRLModule(observation_space=OBS, action_space=ACT)
    league.add_module("team", team)
    league.add_module("solo", build("bc", seed=seed + 2))
    return league


def test_nested_containers_and_deep_component_paths(tmp_path):
    source = nested_multi(10)
    source.save_to_path(tmp_path / "c")
    loaded = RLModule.from_checkpoint(tmp_path / "c")
    assert isinstance(loaded["team"], MultiRLModule)
    assert_same_state(loaded.get_state(), source.get_state())
    target = nested_multi(20)
    target.restore_from_path(tmp_path / "c", component="team/b")
    assert_same_state(target["team"]["b"].get_state(), source["team"]["b"].get_state())
    assert not torch.equal(target["team"]["a"].get_state()["pi.0.weight"],
                           source["team"]["a"].get_state()["pi.0.weight"])
    assert type(RLModule.from_checkpoint(tmp_path / "c", component="team/b")).__name__ == \
        "DefaultPPOTorchRLModule"


def test_unknown_component_lists_what_exists(tmp_path):
    source = randomize(shared_encoder_spec().build(), 1)
    source.save_to_path(tmp_path / "c")
    with pytest.raises(CheckpointError, match=r"has no component 'p7'.*\['p0', 'p1'\]"):
        RLModule.from_checkpoint(tmp_path / "c", component="p7")
    build("bc").save_to_path(tmp_path / "single")
    with pytest.raises(CheckpointError, match=r"module has no component 'p7'.*\['p0', 'p1'\]"):
        source.restore_from_path(tmp_path / "single", component="p7")
    with pytest.raises(CheckpointError, match="names a part of neither"):
        build("bc").restore_from_path(tmp_path / "single", component="p0")


def test_full_restore_needs_the_same_module_ids(tmp_path):
    nested_multi(1).save_to_path(tmp_path / "c")
    other = MultiRLModule(observation_space=OBS, action_space=ACT)
    other.add_module("solo", build("bc"))
    with pytest.raises(CheckpointError, match=r"has module ids \['team', 'solo'\].*has \['solo'\]"):
        other.restore_from_path(tmp_path / "c")


# --- get_state / set_state ---------------------------------------------------------------------
def test_get_state_selects_components():
    multi = shared_encoder_spec().build()
    assert list(multi.get_state(components="p0")) == ["p0"]
    assert set(multi.get_state(not_components=["p0"])) == {"p1", "__multi__"}
    assert list(multi.get_state(components="__multi__")) == ["__multi__"]
    assert "__multi__" not in multi.get_state(not_components="__multi__")
    league = nested_multi(0)
    assert list(league.get_state(components="team/a")) == ["team"]
    assert list(league.get_state(components="team/a")["team"]) == ["a"]
    assert list(league.get_state(not_components="team/a")["team"]) == ["b"]
    with pytest.raises(UnknownNameError, match=r"no component 'p9'; it has \['p0', 'p1'\]"):
        multi.get_state(components=["p9"])
    with pytest.raises(UnknownNameError, match="has no checkpointable components"):
        build("bc").get_state(components="x")


def test_set_state_checks_everything_before_changing_anything():
    multi = randomize(shared_encoder_spec().build(), 1)
    before = {k: {n: t.clone() for n, t in v.items()} for k, v in multi.get_state().items()}
    good = randomize(shared_encoder_spec().build(), 2).get_state()
    bad = dict(good, p1={**good["p1"], "_pi_head.0.weight": torch.zeros(3, 3)})
    mismatch = r"\['_pi_head\.0\.weight: \(3, 3\) \(expected \(4, 8\)\)'"
    with pytest.raises(CheckpointError, match=r"module id 'p1'.*shape mismatches " + mismatch):
        multi.set_state(bad)
    assert_same_state(multi.get_state(), before)  # p0 and the shared encoder untouched too
    with pytest.raises(CheckpointError, match=r"unexpected keys \['extra'\]"):
        multi.set_state({"p0": {**good["p0"], "extra": torch.zeros(1)}})
    with pytest.raises(CheckpointError, match=r"values that are not tensors \['_pi_head\.0\.bias"):
        multi.set_state({"p0": {**good["p0"], "_pi_head.0.bias": [0.0] * 32}})
    with pytest.raises(CheckpointError, match=r"shared weights: missing keys"):
        multi.set_state({"__multi__": {}})
    assert_same_state(multi.get_state(), before)
    multi.set_state(good)
    assert_same_state(multi.get_state(), good)


# --- formats -----------------------------------------------------------------------------------
class NpzFormat:
    """A third-party format: numpy .npz archives, read without pickle."""

    file_extension = ".npz"

    def save(self, tensors, path):
        with open(path, "wb") as f:
            np.savez(f, **{k: t.cpu().numpy() for k, t in tensors.items()})

    def load(self, path, device):
        with np.load(path, allow_pickle=False) as data:
            return {k: torch.from_numpy(data[k]).to(device) for k in data.files}


class NpzPlugin:
    @rlmodules.hookimpl
    def rlmodules_checkpoint_formats(self):
        return {"npz": NpzFormat}


def test_a_plugin_format_is_chosen_per_save(tmp_path):
    name = registry.register_plugin(NpzPlugin(), name="npz_formats")
    try:
        module = build("ppo")
        module.save_to_path(tmp_path / "c", format="npz")
        assert (tmp_path / "c" / "module.npz").is_file()
        meta = json.loads((tmp_path / "c" / METADATA_FILE).read_text())
        assert meta["module"]["tensors"]["format"]["name"] == "npz_formats/npz"
        torch.testing.assert_close(logits(RLModule.from_checkpoint(tmp_path / "c")),
                                   logits(module))
    finally:
        registry.unregister_plugin(name)
    with pytest.raises(CheckpointError, match=r"format 'npz_formats/npz'.*not installed"):
        RLModule.from_checkpoint(tmp_path / "c")


def test_unknown_format_is_refused_before_writing(tmp_path):
    with pytest.raises(UnknownNameError, match=r"unknown checkpoint_format name 'safetensor'.*"
                                                r"Did you mean 'safetensors'"):
        build("bc").save_to_path(tmp_path / "c", format="safetensor")
    with pytest.raises(CheckpointError, match="is an import path"):
        build("bc").save_to_path(tmp_path / "c", format="pickle:dumps")
    assert not (tmp_path / "c").exists()


# --- reusable pieces ------------------------------------------------------------------------------
def test_atomic_directory_and_tensor_files_for_other_checkpoints(tmp_path):
    tensors = {"w": torch.arange(6.0).reshape(2, 3), "step": torch.tensor(7)}
    with atomic_directory(tmp_path / "algo", marker_file="state.json") as tmp:
        entry = write_tensor_file(tmp, "optimizer", tensors, format="torch")
        (tmp / "state.json").write_text(json.dumps({"optimizer": entry}))
        assert not (tmp_path / "algo").exists()
    entry = json.loads((tmp_path / "algo" / "state.json").read_text())["optimizer"]
    assert entry["file"] == "optimizer.pt" and entry["num_elements"] == 7
    assert_same_state(read_tensor_file(tmp_path / "algo", entry), tensors)
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_directory(tmp_path / "algo", marker_file="state.json") as tmp:
            (tmp / "state.json").write_text("{}")
            raise RuntimeError("boom")
    assert json.loads((tmp_path / "algo" / "state.json").read_text())["optimizer"] == entry
    assert [p.name for p in tmp_path.iterdir()] == ["algo"]
    with pytest.raises(CheckpointError, match=r"must be a plain file name inside the checkpoint"):
        read_tensor_file(tmp_path / "algo", {**entry, "file": "../algo/optimizer.pt"})


def test_refuses_to_replace_something_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(CheckpointError, match=r"refusing to replace .*notes: the directory is "
                                              r"not empty and holds no 'rlmodule.json'"):
        build("bc").save_to_path(tmp_path / "notes")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="exists and is not a directory"):
        build("bc").save_to_path(tmp_path / "file")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "notes"]


def test_a_class_defined_in_a_function_cannot_be_saved(tmp_path):
    class Local(Tied):
        pass

    with pytest.raises(rlmodules.SpecError, match="neither registered nor importable"):
        Local(observation_space=OBS, action_space=ACT).save_to_path(tmp_path / "c")
    assert not (tmp_path / "c").exists()
