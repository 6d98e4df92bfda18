"""`rlmodules export` and OnnxPolicy end to end: a CartPole episode, a process that cannot
import torch, verification that catches an unfaithful graph, and clear errors."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import BatchError, ExportError, RLModuleSpec, TorchRLModule, compute_actions
from rlmodules.checkpoint import signed_json
from rlmodules.cli import main
from rlmodules.export import export
from rlmodules_onnx import OnnxPolicy


def cartpole_episode(act, seed):
    """Return and actions of one CartPole-v1 episode; ``act(obs [1, 4])`` gives an action."""
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=seed)
    total, actions, done = 0.0, [], False
    while not done:
        action = act(obs[None])
        actions.append(int(action))
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
    return total, actions


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory):
    """A CartPole PPO checkpoint and its export through `rlmodules export`."""
    root = tmp_path_factory.mktemp("cartpole")
    torch.manual_seed(0)
    env = gym.make("CartPole-v1")
    module = RLModuleSpec(module_class="ppo", observation_space=env.observation_space,
                          action_space=env.action_space,
                          model_config={"fcnet_hiddens": [16]}).build()
    module.save_to_path(root / "ckpt")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["export", str(root / "ckpt"), "--format", "onnx", "--out",
                     str(root / "onnx")]) == 0
    return module.eval(), root / "onnx", printed.getvalue()


def test_the_cli_writes_a_verified_export(cartpole):
    _, path, printed = cartpole
    out = printed.splitlines()
    assert out[0].startswith(f"default_policy: {path / 'default_policy.onnx'}  verified on "
                             f"1000 observations (max |diff| ")
    assert out[1] == f"manifest: {path / 'manifest.json'}"


def test_an_onnx_episode_is_the_modules_episode(cartpole):
    module, path, _ = cartpole
    policy = OnnxPolicy(path)
    expected = cartpole_episode(lambda obs: compute_actions(
        module, {"obs": obs}, explore=False, for_env=True)["actions_for_env"][0], seed=3)
    got = cartpole_episode(lambda obs: policy.compute_actions(obs)["actions_for_env"][0], seed=3)
    assert got == expected


@pytest.mark.slow
def test_the_trained_cartpole_policy_returns_500_through_onnx(tmp_path):
    assert main(["train", "--seed", "0", "--out", str(tmp_path / "run")]) == 0
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "onnx")]) == 0
    policy = OnnxPolicy(tmp_path / "onnx")
    total, _ = cartpole_episode(lambda obs: policy.compute_actions(obs)["actions_for_env"][0],
                                seed=0)
    assert total == 500.0


def test_exploration_is_seeded_and_reports_logp(cartpole):
    module, path, _ = cartpole
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    first = OnnxPolicy(path, seed=1).compute_actions(obs, explore=True)
    again = OnnxPolicy(path, seed=1).compute_actions(obs, explore=True)
    assert np.array_equal(first["actions"], again["actions"])
    dist = module.get_exploration_action_dist_cls().from_logits(
        torch.as_tensor(first["action_dist_inputs"]))
    logp = dist.logp(torch.as_tensor(first["actions"])).numpy()
    assert np.allclose(first["action_logp"], logp, atol=1e-5)
    assert np.allclose(first["action_prob"], np.exp(logp), atol=1e-5)


BLOCKED_TORCH = textwrap.dedent("""
    import json, sys, time
    start = time.perf_counter()

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "gymnasium"):
                raise ImportError(f"{name} is blocked in this process")

    sys.meta_path.insert(0, Block())
    try:
        import torch
        raise SystemExit("torch was imported despite the block")
    except ImportError:
        pass
    from rlmodules_onnx import OnnxPolicy

    policy = OnnxPolicy(sys.argv[1], seed=0)
    obs = [[0.01, -0.02, 0.03, 0.04], [0.1, 0.2, -0.1, -0.3]]
    greedy = policy.compute_actions(obs)
    explored = policy.compute_actions(obs, explore=True)
    assert not [m for m in sys.modules if m.split(".")[0] in ("torch", "gymnasium")]
    print(json.dumps({"greedy": greedy["actions_for_env"].tolist(),
                      "explored": explored["actions_for_env"].tolist(),
                      "logp": explored["action_logp"].tolist()}))
""")


def test_onnx_policy_acts_where_torch_cannot_be_imported(cartpole):
    _, path, _ = cartpole
    result = subprocess.run([sys.executable, "-c", BLOCKED_TORCH, str(path)],
                            capture_output=True, text=True, check=True)
    out = json.loads(result.stdout)
    obs = np.array([[0.01, -0.02, 0.03, 0.04], [0.1, 0.2, -0.1, -0.3]], np.float32)
    assert out["greedy"] == OnnxPolicy(path).compute_actions(obs)["actions_for_env"].tolist()
    assert out["explored"] == OnnxPolicy(path, seed=0).compute_actions(
        obs, explore=True)["actions_for_env"].tolist()


def test_bad_inputs_get_clear_errors(cartpole, tmp_path):
    _, path, _ = cartpole
    policy = OnnxPolicy(path)
    with pytest.raises(BatchError, match=r"observation 'obs' has shape \(4,\); the policy takes "
                       r"a batch \[B, 4\] \(add a batch axis: obs\[None\]\)"):
        policy.compute_actions(np.zeros(4, np.float32))
    with pytest.raises(BatchError, match=r"observation 'obs' has shape \(2, 3\); the policy "
                       r"takes a batch \[B, 4\]$"):
        policy.compute_actions(np.zeros((2, 3), np.float32))
    with pytest.raises(ExportError, match=f"{tmp_path} is not an export directory"):
        OnnxPolicy(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["modules"]["default_policy"]["artefact"]["action_distribution"]["exploration"] = None
    (copy / "manifest.json").write_text(signed_json(manifest))
    with pytest.raises(ExportError, match="this export cannot explore: the module's exploration "
                       "step was not the inference step's distribution"):
        OnnxPolicy(copy).compute_actions(np.zeros((1, 4), np.float32), explore=True)


class Noisy(TorchRLModule):
    """Random noise in its inference step: the graph draws other noise than torch."""

    def setup(self):
        self.pi = torch.nn.Linear(4, 2)

    def _forward(self, batch, **kwargs):
        logits = self.pi(batch["obs"])
        return {"action_dist_inputs": logits + 0.1 * torch.rand_like(logits)}


class Branchy(TorchRLModule):
    """Python control flow on the data: torch.export cannot trace it."""

    def setup(self):
        self.pi = torch.nn.Linear(4, 2)

    def _forward(self, batch, **kwargs):
        logits = self.pi(batch["obs"])
        return {"action_dist_inputs": logits if bool(logits.sum() > 0) else -logits}


@pytest.mark.parametrize("cls, message", [
    (Noisy, r"the ONNX graph of module 'default_policy' differs from the module in "
               r"'action_dist_inputs' by up to .* on sampled observations \(tolerance 1e-05\)"),
    (Branchy, r"^torch.onnx could not export Branchy's inference step: "
              r"GuardOnDataDependentSymNode: Could not guard on data-dependent expression "
              r"Eq\(u0, 1\)[^\n\x1b]*$"),
])
def test_a_graph_that_does_not_act_as_the_module_is_not_written(cls, message, tmp_path,
                                                                capfd):
    module = cls(observation_space=gym.spaces.Box(-1.0, 1.0, (4,), np.float32),
                 action_space=gym.spaces.Discrete(2))
    with pytest.raises(ExportError, match=message):
        export(module, tmp_path / "out", format="onnx")
    assert not (tmp_path / "out").exists()
    # the cause is in the error; torch's FX logging and colour codes are not on the screen
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == ""
