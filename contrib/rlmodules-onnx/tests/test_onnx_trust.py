"""An export is a checkpoint too: OnnxPolicy checks the manifest's checksum and every
graph's, refuses graphs outside the directory, graphs that do not match the manifest and
every malformed field with our error, and checks observations as compute_actions does. A
Hypothesis fuzzer edits the manifest as an attacker would (re-signed), flips bits and
truncates: every variant is refused with an RLModulesError or acts as the original."""

from __future__ import annotations

import json
import os
import shutil

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rlmodules import BatchError, CheckpointError, ExportError, RLModulesError, RLModuleSpec
from rlmodules.checkpoint import file_checksum, signed_json
from rlmodules.export import export
from rlmodules_onnx import OnnxPolicy

OBS = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
BOX_ACTIONS = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


def _export(space, actions, root, name):
    torch.manual_seed(0)
    module = RLModuleSpec(module_class="ppo", observation_space=space, action_space=actions,
                          model_config={"fcnet_hiddens": [8]}).build()
    return export(module, root / name, format="onnx")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    cartpole = gym.make("CartPole-v1")
    return {
        "cartpole": _export(cartpole.observation_space, cartpole.action_space, root, "cartpole"),
        "wide": _export(gym.spaces.Box(-1.0, 1.0, (6,), np.float32), cartpole.action_space,
                        root, "wide"),
        "continuous": _export(cartpole.observation_space, BOX_ACTIONS, root, "continuous"),
        "indexed": _export(gym.spaces.Dict({"mode": gym.spaces.Discrete(3, start=1),
                                            "pos": gym.spaces.Box(-1.0, 1.0, (2,))}),
                           gym.spaces.Discrete(2), root, "indexed"),
    }


@pytest.fixture
def cartpole(exports, tmp_path):
    """A fresh copy of the CartPole export to tamper with."""
    return shutil.copytree(exports["cartpole"], tmp_path / "copy")


def edit(directory, change, *, sign=True):
    """Change the manifest's JSON, re-signed with a valid checksum unless ``sign=False``."""
    path = directory / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(signed_json(data) if sign else json.dumps(data))


def artefact(data):
    return data["modules"]["default_policy"]["artefact"]


def resign_file(directory, name):
    """Record the current checksum and size of ``name``, as an attacker would."""
    path = directory / name
    edit(directory, lambda d: d["files"].update(
        {name: {"checksum": file_checksum(path), "bytes": path.stat().st_size}}))


# --- graphs outside the directory, edited graphs, graphs that do not match ----------------------
@pytest.mark.parametrize("file", ["../x.onnx", "/tmp/x.onnx", "sub/x.onnx", ""])
def test_a_graph_named_outside_the_directory_is_refused(cartpole, file):
    edit(cartpole, lambda d: artefact(d).update(file=file))
    with pytest.raises(ExportError, match=r"manifest.json is malformed: file must be a plain "
                       r"file name inside the export directory \(no '/' or '..'\), got "
                       + repr(file).replace(".", r"\.") + r" @ \$\.modules\['default_policy'\]"
                       r"\.artefact$"):
        OnnxPolicy(cartpole)


def test_a_graph_that_links_out_of_the_directory_is_refused(cartpole, tmp_path):
    outside = tmp_path / "elsewhere.onnx"
    shutil.move(cartpole / "default_policy.onnx", outside)
    os.symlink(outside, cartpole / "default_policy.onnx")
    with pytest.raises(CheckpointError, match=r"default_policy.onnx is a link to .*elsewhere.onnx,"
                       r" outside the checkpoint"):
        OnnxPolicy(cartpole)


def test_a_graph_the_manifest_holds_no_checksum_of_is_refused(cartpole):
    shutil.copy(cartpole / "default_policy.onnx", cartpole / "other.onnx")
    edit(cartpole, lambda d: artefact(d).update(file="other.onnx"))
    with pytest.raises(ExportError, match=r"the manifest names graphs \['other.onnx'\] that it "
                       r"holds no checksum of"):
        OnnxPolicy(cartpole)


def test_an_edited_graph_is_refused(cartpole):
    graph = cartpole / "default_policy.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0x01
    graph.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"default_policy.onnx has checksum .*, not the "
                       r"recorded .*: it was altered or truncated; export the checkpoint again"):
        OnnxPolicy(cartpole)


def test_a_graph_that_does_not_match_the_manifest_is_refused(cartpole, exports):
    # another module's valid graph, with its checksum recorded as an attacker would
    shutil.copy(exports["wide"] / "default_policy.onnx", cartpole / "default_policy.onnx")
    resign_file(cartpole, "default_policy.onnx")
    with pytest.raises(ExportError, match=r"default_policy.onnx does not match its manifest: "
                       r"its inputs are \[\('obs', 'float32', \['batch', 6\]\)\], the manifest "
                       r"says \[\('obs', 'float32', \[None, 4\]\)\]"):
        OnnxPolicy(cartpole)


@pytest.mark.parametrize("change", [
    lambda a: a["inputs"][0].update(dtype="float64"),
    lambda a: a["outputs"][1].update(dtype="float32"),
    lambda a: a["outputs"][0].update(shape=[None, 2, 1]),
])
def test_a_manifest_whose_dtypes_or_ranks_differ_from_the_graph_is_refused(cartpole, change):
    edit(cartpole, lambda d: change(artefact(d)))
    with pytest.raises(ExportError, match="does not match its manifest"):
        OnnxPolicy(cartpole)


def test_a_graph_that_is_not_onnx_is_refused(cartpole):
    (cartpole / "default_policy.onnx").write_bytes(b"not a graph")
    resign_file(cartpole, "default_policy.onnx")
    with pytest.raises(ExportError, match="cannot load the ONNX graph .*default_policy.onnx"):
        OnnxPolicy(cartpole)


# --- malformed fields ----------------------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("inputs"), r"required field missing @ \$.*artefact.inputs"),
    (lambda a: a.update(inputs="obs"), r"artefact.inputs"),
    (lambda a: a["inputs"][0].update(dtype="complex64"), r"'dtype' must be in"),
    (lambda a: a["inputs"][0].update(shape=[4]), r"shape must start with the batch axis"),
    (lambda a: a.update(outputs=a["outputs"][::-1]), r"outputs are \['actions', "),
    (lambda a: a.update(observations=7), r"observations: expected a tensor name"),
    (lambda a: a.update(opset="18"), r"expected int, got str '18' @ .*artefact.opset"),
    (lambda a: a["actions_for_env"]["actions"].update(low=[0, 1, 2], high=[1, 2, 3]),
     r"bounds of shape \(3,\) do not fit 'actions'"),
    (lambda a: a["actions_for_env"]["actions"].update(low=0), r"low and high come together"),
    (lambda a: a["action_distribution"].update(exploration={"type": "categorical"}),
     r"categorical description has bad or missing \['start'\]"),
    (lambda a: a["action_distribution"].update(exploration={"type": "subprocess:Popen"}),
     r"unknown distribution description"),
    (lambda a: a.update(initial_state={"h": [0.0]}),
     r"state_in, state_out and initial_state come together"),
    (lambda a: a["verification"].update(max_abs_diff=-1.0), r"'max_abs_diff' must be >= 0"),
    (lambda a: a.update(command="rm -rf /"), r"unknown field\(s\) \['command'\]"),
])
def test_every_malformed_field_is_our_error(cartpole, change, message):
    edit(cartpole, lambda d: change(artefact(d)))
    with pytest.raises(ExportError, match=r"manifest.json is malformed: .*" + message):
        OnnxPolicy(cartpole)


def test_tensors_that_nest_otherwise_than_the_spaces_are_refused(cartpole):
    edit(cartpole, lambda d: artefact(d).update(observations={"dict": {"x": "obs"}}))
    with pytest.raises(ExportError, match=r"module 'default_policy': the manifest's obs template "
                       r"\{'dict': \{'x': 'obs'\}\} does not match its observation_space "
                       r"\(expected 'obs'\); export the checkpoint again"):
        OnnxPolicy(cartpole)


# --- observations ------------------------------------------------------------------------------
@pytest.mark.parametrize("obs, message", [
    ([["a", "b", "c", "d"]], r"must hold numbers .*got <U1 values such as np.str_\('a'\)"),
    ([[0.0, 1.0], [0.0, 1.0, 2.0, 3.0]], r"must hold numbers in a regular batch, got a ragged"),
    (None, r"must hold numbers .*got None"),
    ([[None, 1.0, 2.0, 3.0]], r"must hold numbers .*got a ragged list or None values"),
    (np.ones((2, 4), np.complex64), r"must hold numbers .*got complex numbers"),
    (np.zeros((2, 5), np.float32), r"observation 'obs' has shape \(2, 5\); the policy takes a "
     r"batch \[B, 4\]"),
])
def test_bad_observations_are_a_batch_error_never_nan_actions(exports, obs, message):
    policy = OnnxPolicy(exports["cartpole"], seed=0)
    for explore in (False, True):
        with pytest.raises(BatchError, match=message):
            policy.compute_actions(obs, explore=explore)


def test_nan_observations_never_become_nan_actions(exports):
    nan = np.full((2, 4), np.nan, np.float32)
    message = r"observation 'obs' contains NaN \(8 of 8 values\), which no observation is"
    with pytest.raises(BatchError, match=message):  # exploring: the logp shows it
        OnnxPolicy(exports["cartpole"], seed=0).compute_actions(nan, explore=True)
    continuous = OnnxPolicy(exports["continuous"], seed=0)
    for explore in (False, True):  # continuous actions: they show it
        with pytest.raises(BatchError, match=message):
            continuous.compute_actions(nan, explore=explore)
    # greedy discrete actions are never NaN: like compute_actions, the step pays no check
    assert OnnxPolicy(exports["cartpole"]).compute_actions(nan)["actions"].shape == (2,)


@pytest.mark.parametrize("mode, message", [
    ([0, 1], r"observation 'obs/mode' must be integers in \[1, 3\] for its space; got 0"),
    ([1, 4], r"must be integers in \[1, 3\] for its space; got 4"),
    ([1.5, 2.0], r"must be integers in \[1, 3\] for its space; got 1.5"),
])
def test_an_index_observation_out_of_its_space_is_a_batch_error(exports, mode, message):
    policy = OnnxPolicy(exports["indexed"])
    pos = np.zeros((2, 2), np.float32)
    with pytest.raises(BatchError, match=message):
        policy.compute_actions({"mode": np.array(mode), "pos": pos})
    policy.compute_actions({"mode": np.array([1, 3]), "pos": pos})  # in range: acts


# --- the fuzzer ----------------------------------------------------------------------------------
def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=6)
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
        ["subprocess:Popen", "os:system", "builtins:eval", "importlib:import_module", "../x",
         "float64", "int64", "categorical", "plugin"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=4), children, max_size=3),
    max_leaves=5,
)


def _mutate(data, path, kind, value):
    if not path:
        return value
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if kind == "delete":
        del parent[key]
    elif kind == "add" and isinstance(parent[key], dict):
        parent[key]["extra"] = value
    elif kind == "add" and isinstance(parent[key], list):
        parent[key].append(value)
    elif kind == "nudge" and isinstance(parent[key], (int, float)) and not isinstance(
            parent[key], bool):
        parent[key] = parent[key] + 1
    else:
        parent[key] = value
    return data


#: Fields an edit may change acting through (accepted edits there need not act identically).
BEHAVIOUR = ("actions_for_env", "exploration", "observation_space")


def _act(directory):
    policy = OnnxPolicy(directory, seed=0)
    greedy = policy.compute_actions(OBS)
    explored = policy.compute_actions(OBS, explore=True)
    return greedy, explored


def _check(directory, original, behaviour_may_change):
    try:
        greedy, explored = _act(directory)
    except RLModulesError:
        return  # refused with our error
    for out, base in ((greedy, original[0]), (explored, original[1])):
        env_actions = np.asarray(out["actions_for_env"])
        assert env_actions.shape == (len(OBS),) and np.isfinite(env_actions).all()
        if not behaviour_may_change:
            assert np.array_equal(out["actions"], base["actions"])
            assert np.array_equal(env_actions, base["actions_for_env"])
            assert np.array_equal(out.get("action_logp"), base.get("action_logp"))


def _fuzz_manifest(exports, tmp_path_factory, data):
    source = exports["cartpole"]
    original = _act(source)
    manifest = json.loads((source / "manifest.json").read_text())
    paths = list(_paths(manifest))
    path = data.draw(st.sampled_from(paths), label="path")
    kind = data.draw(st.sampled_from(["replace", "delete", "add", "nudge"]), label="kind")
    value = data.draw(JSON, label="value")
    target = tmp_path_factory.mktemp("fuzz")
    shutil.copy(source / "default_policy.onnx", target)
    edited = _mutate(json.loads(json.dumps(manifest)), path, kind, value) if path or kind == \
        "replace" else manifest
    if not isinstance(edited, dict):
        (target / "manifest.json").write_text(json.dumps(edited))
    else:
        (target / "manifest.json").write_text(signed_json(edited))
    _check(target, original, any(p in BEHAVIOUR for p in path if isinstance(p, str)))


def _fuzz_bytes(exports, tmp_path_factory, data):
    source = exports["cartpole"]
    original = _act(source)
    name = data.draw(st.sampled_from(["manifest.json", "default_policy.onnx"]), label="file")
    target = tmp_path_factory.mktemp("bytes")
    shutil.copytree(source, target, dirs_exist_ok=True)
    raw = bytearray((target / name).read_bytes())
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[:data.draw(st.integers(0, len(raw) - 1), label="length")]
    else:
        bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
        raw[bit // 8] ^= 1 << (bit % 8)
    (target / name).write_bytes(bytes(raw))
    _check(target, original, behaviour_may_change=False)


FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=1500, derandomize=False)


@FAST
@given(data=st.data())
def test_fuzzed_manifests_are_refused_or_act_as_the_original(exports, tmp_path_factory, data):
    _fuzz_manifest(exports, tmp_path_factory, data)


@FAST
@given(data=st.data())
def test_bit_flips_and_truncations_are_refused_or_change_nothing(exports, tmp_path_factory,
                                                                 data):
    _fuzz_bytes(exports, tmp_path_factory, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_fuzzed_manifests_at_length(exports, tmp_path_factory, data):
    _fuzz_manifest(exports, tmp_path_factory, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_bit_flips_and_truncations_at_length(exports, tmp_path_factory, data):
    _fuzz_bytes(exports, tmp_path_factory, data)
