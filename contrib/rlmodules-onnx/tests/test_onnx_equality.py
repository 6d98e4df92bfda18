"""Exported policies act exactly as their modules: greedy actions equal and distribution
inputs within 1e-5 on 1,000 fresh observations, for the default PPO module (CartPole,
Pendulum), the lstm module on StatelessCartPole (its state carried by each side for 10
steps), the tiny Atari CNN on uint8 frames and a two-module MultiRLModule."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import BatchError, MultiRLModuleSpec, RLModuleSpec, compute_actions
from rlmodules.envs import StatelessCartPole
from rlmodules.export import export, sample_observations
from rlmodules_onnx import OnnxPolicy

CARTPOLE = gym.make("CartPole-v1")
PENDULUM = gym.make("Pendulum-v1")
STATELESS = StatelessCartPole()
FRAMES = gym.spaces.Box(0, 255, (64, 64, 4), np.uint8)  # 4 stacked frames
TOLERANCE = 1e-5

SPECS = {
    "cartpole": RLModuleSpec(module_class="ppo", observation_space=CARTPOLE.observation_space,
                             action_space=CARTPOLE.action_space),
    "pendulum": RLModuleSpec(module_class="ppo", observation_space=PENDULUM.observation_space,
                             action_space=PENDULUM.action_space),
    "lstm": RLModuleSpec(module_class="lstm", observation_space=STATELESS.observation_space,
                         action_space=STATELESS.action_space,
                         model_config={"lstm_cell_size": 32, "dense_layers": [32]}),
    "tiny_atari_cnn": RLModuleSpec(module_class="tiny_atari_cnn", observation_space=FRAMES,
                                   action_space=gym.spaces.Discrete(6)),
}


@pytest.fixture(scope="module", params=list(SPECS))
def exported(request, tmp_path_factory):
    torch.manual_seed(0)
    module = SPECS[request.param].build().eval()
    return module, export(module, tmp_path_factory.mktemp(request.param), format="onnx")


#: Dict / Tuple observations (a Discrete leaf one-hot encoded in the graph) and actions.
STRUCTURED = RLModuleSpec(
    module_class="ppo",
    observation_space=gym.spaces.Dict({
        "mode": gym.spaces.Discrete(3),
        "pose": gym.spaces.Tuple([gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
                                  gym.spaces.MultiBinary(2)]),
    }),
    action_space=gym.spaces.Dict({"move": gym.spaces.Discrete(3),
                                  "aim": gym.spaces.Box(-1.0, 1.0, (2,), np.float32)}),
)


@pytest.fixture(scope="module")
def exported_multi(tmp_path_factory):
    torch.manual_seed(0)
    module = MultiRLModuleSpec(rl_module_specs={"cart": SPECS["cartpole"],
                                                "structured": STRUCTURED}).build().eval()
    return module, export(module, tmp_path_factory.mktemp("multi"), format="onnx")


def assert_same(expected, got):
    """compute_actions' result (torch) and OnnxPolicy's (numpy) for one module."""
    dist_diff = np.abs(expected["action_dist_inputs"].numpy() - got["action_dist_inputs"])
    assert dist_diff.max() <= TOLERANCE
    actions, env_actions = expected["actions"], expected["actions_for_env"]
    if isinstance(actions, dict):  # a Dict action space: leaf by leaf
        assert actions.keys() == got["actions"].keys() == got["actions_for_env"].keys()
        pairs = [(actions[k].numpy(), got["actions"][k]) for k in actions]
        pairs += [(env_actions[k], got["actions_for_env"][k]) for k in actions]
    else:
        pairs = [(actions.numpy(), got["actions"]), (env_actions, got["actions_for_env"])]
    for want, have in pairs:
        assert want.dtype == have.dtype and want.shape == have.shape
        if want.dtype.kind == "f":
            assert np.abs(want - have).max() <= TOLERANCE
        else:
            assert np.array_equal(want, have)


def test_greedy_actions_equal_the_modules_on_1000_observations(exported):
    module, path = exported
    policy = OnnxPolicy(path)
    steps = 10 if module.is_stateful() else 1
    observations = sample_observations(module.observation_space, 1000, seed=123)
    torch_state = policy_state = None
    if module.is_stateful():
        torch_state = {k: v.expand(100, *v.shape) for k, v in module.get_initial_state().items()}
    for step in range(steps):
        obs = observations[step * (1000 // steps):(step + 1) * (1000 // steps)]
        batch = {"obs": obs, **({"state_in": torch_state} if torch_state is not None else {})}
        expected = compute_actions(module, batch, explore=False, for_env=True)
        got = policy.compute_actions(obs, explore=False, state=policy_state)
        assert_same(expected, got)
        if module.is_stateful():  # each side carries its own state
            torch_state, policy_state = expected["state_out"], got["state_out"]
            for key in torch_state:
                assert np.abs(torch_state[key].numpy() - policy_state[key]).max() <= TOLERANCE


def test_a_single_observation_acts_and_the_manifest_says_what_the_graph_is(exported):
    module, path = exported
    out = OnnxPolicy(path).compute_actions(sample_observations(module.observation_space, 1))
    assert out["actions_for_env"].shape[0] == 1
    entry = json.loads((path / "manifest.json").read_text())["modules"]["default_policy"]
    entry = entry["artefact"]
    assert entry["verification"]["observations"] == 1000
    assert entry["verification"]["max_abs_diff"] <= TOLERANCE
    assert entry["inputs"][0]["name"] == "obs"
    assert entry["inputs"][0]["shape"] == [None, *module.observation_space.shape]
    assert entry["inputs"][0]["dtype"] == str(module.observation_space.dtype)
    if module.is_stateful():
        assert [i["name"] for i in entry["inputs"][1:]] == ["state_in/h", "state_in/c"]
        assert [o["name"] for o in entry["outputs"][-2:]] == ["state_out/h", "state_out/c"]
        assert np.array_equal(entry["initial_state"]["state_in/h"], np.zeros(32))


def test_a_multi_rl_module_exports_one_graph_per_module_id(exported_multi):
    module, path = exported_multi
    assert sorted(p.name for p in path.iterdir()) == ["cart.onnx", "manifest.json",
                                                      "structured.onnx"]
    policy = OnnxPolicy(path)
    assert policy.module_ids == ["cart", "structured"]
    entry = json.loads((path / "manifest.json").read_text())["modules"]["structured"]["artefact"]
    assert [(i["name"], i["dtype"]) for i in entry["inputs"]] == [
        ("obs/mode", "int64"), ("obs/pose/0", "float32"), ("obs/pose/1", "int8")]
    assert [(o["name"], o["dtype"]) for o in entry["outputs"]] == [  # keys sorted
        ("action_dist_inputs", "float32"), ("actions/aim", "float32"), ("actions/move", "int64")]
    obs = {mid: sample_observations(module[mid].observation_space, 1000, seed=7)
           for mid in module.keys()}
    expected = compute_actions(module, {mid: {"obs": o} for mid, o in obs.items()},
                               explore=False, for_env=True)
    got = policy.compute_actions(obs)
    for mid in module.keys():
        assert_same(expected[mid], got[mid])
    assert policy.compute_actions({"cart": obs["cart"][:1]}).keys() == {"cart"}


def test_multi_agent_inputs_get_clear_errors(exported_multi):
    _, path = exported_multi
    policy = OnnxPolicy(path)
    with pytest.raises(BatchError, match=r"this policy is multi-agent \(module ids \['cart', "
                       r"'structured'\]\): pass observations as \{module_id: obs\}, got "
                       r"ndarray"):
        policy.compute_actions(np.zeros((1, 4), np.float32))
    with pytest.raises(BatchError, match=r"unknown module id 'p9'; this policy has \['cart', "
                       r"'structured'\]"):
        policy.compute_actions({"p9": np.zeros((1, 4), np.float32)})
    with pytest.raises(BatchError, match=r"obs must be a dict with keys \['mode', 'pose'\], "
                       r"got \['mode'\]"):
        policy.compute_actions({"structured": {"mode": np.zeros(1, np.int64)}})


def test_exploration_samples_the_modules_exploration_distribution(exported):
    module, path = exported
    policy = OnnxPolicy(path, seed=0)
    obs = sample_observations(module.observation_space, 200, seed=5)
    greedy = policy.compute_actions(obs)
    explored = policy.compute_actions(obs, explore=True)
    assert np.array_equal(explored["action_dist_inputs"], greedy["action_dist_inputs"])
    dist = module.get_exploration_action_dist_cls().from_logits(
        torch.as_tensor(explored["action_dist_inputs"]))
    logp = dist.logp(torch.as_tensor(explored["actions"])).numpy()
    assert np.allclose(explored["action_logp"], logp, atol=1e-4, rtol=1e-4)
    if module.is_stateful():  # exploring moves the state as acting greedily does
        for key, value in greedy["state_out"].items():
            assert np.array_equal(explored["state_out"][key], value)
    space = module.action_space
    if isinstance(space, gym.spaces.Box):  # samples leave the bounds; actions_for_env do not
        assert (explored["actions_for_env"] >= space.low).all()
        assert (explored["actions_for_env"] <= space.high).all()
