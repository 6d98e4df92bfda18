"""Modules written in RLlib's style (``rllib_style/``, RLlib import lines), ported with
``rlmodules port --write`` and nothing else, then run through every stage: built for their
spaces, the three forwards, ``compute_actions`` (explore and greedy, ``for_env=True``),
``get_state``/``set_state``, a checkpoint loaded in a fresh process, and one PPO
iteration where RLlib trains such a module with stock PPO.
"""

from __future__ import annotations

import importlib
import json
import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import Columns, MultiRLModuleSpec, RLModule, RLModuleSpec, compute_actions
from rlmodules.algorithms import PPOConfig
from rlmodules.apis import ValueFunctionAPI
from rlmodules.cli import main
from rlmodules.compat import batch as stack
from rlmodules.compat import unbatch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SOURCES = Path(__file__).parent / "rllib_style"
PACKAGE = "ported_rllib_style"
BOX4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
MASKED_OBS = gym.spaces.Dict({
    "observations": BOX4, "action_mask": gym.spaces.Box(0.0, 1.0, (2,), np.float32),
})


class MaskedCartPole(gym.Wrapper):
    """CartPole with an action mask that forbids action 1 on every third step; taking a
    forbidden action is an error, so training proves the mask is honoured."""

    def __init__(self) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.observation_space = gym.spaces.Dict({
            "observations": self.env.observation_space,
            "action_mask": gym.spaces.Box(0.0, 1.0, (2,), np.float32),
        })
        self._mask = np.ones(2, np.float32)
        self._t = 0

    def _observe(self, obs: np.ndarray) -> dict:
        self._t += 1
        self._mask = np.array([1.0, 0.0 if self._t % 3 == 0 else 1.0], np.float32)
        return {"observations": obs, "action_mask": self._mask}

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return self._observe(obs), info

    def step(self, action):
        if self._mask[int(action)] == 0.0:
            raise AssertionError(f"masked action {action} taken")
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._observe(obs), reward, terminated, truncated, info


class TargetPointEnv(gym.Env):
    """One-step episodes: choose a side (Discrete(2)) and an amount (Box) near the
    observation; Tuple actions for the two-step policy."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Tuple((gym.spaces.Discrete(2),
                                     gym.spaces.Box(-1.0, 1.0, (1,), np.float32)))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._obs = self.np_random.uniform(-1.0, 1.0, (1,)).astype(np.float32)
        return self._obs, {}

    def step(self, action):
        side, amount = action
        target = abs(float(self._obs[0]))
        reward = float(side == (self._obs[0] > 0)) - abs(float(amount[0]) - target)
        return self._obs, reward, True, False, {}


#: (file, class, observation space, action space, model_config, PPO env or None)
CASES = {
    "value_head": ("value_head_rlm", "TwoHeadRLModule", BOX4, gym.spaces.Discrete(2),
                   {"temperature": 2.0}, "CartPole-v1"),
    "masked": ("masked_actions_rlm", "MaskedPPORLModule", MASKED_OBS, gym.spaces.Discrete(2),
               {"fcnet_hiddens": [16]}, MaskedCartPole),
    "inference_only": ("inference_only_rlm", "LeanActorRLModule", BOX4, gym.spaces.Discrete(2),
                       None, "CartPole-v1"),
    "target_q": ("target_q_rlm", "TargetQRLModule", BOX4, gym.spaces.Discrete(3), None, None),
    "random": ("random_rlm", "UniformRandomRLModule", BOX4, gym.spaces.Discrete(3), None, None),
    "counting_random": ("random_rlm", "CountingRandomRLModule", BOX4,
                        gym.spaces.Box(-1.0, 1.0, (2,), np.float32), None, None),
    "model_configs": ("model_configs_rlm", "ModelConfigRLModule", BOX4, gym.spaces.Discrete(2),
                      None, "CartPole-v1"),
    "tuple_actions": ("tuple_actions_rlm", "TupleActionsRLModule", BOX4,
                      gym.spaces.Tuple((gym.spaces.Discrete(3),
                                        gym.spaces.Box(-1.0, 1.0, (2,), np.float32))),
                      None, None),
    "lstm": ("lstm_rlm", "RecurrentRLModule", BOX4, gym.spaces.Discrete(2),
             {"lstm_cell_size": 8, "max_seq_len": 8}, "CartPole-v1"),
    "lstm_target": ("lstm_rlm", "RecurrentTargetRLModule", BOX4, gym.spaces.Discrete(2),
                    {"lstm_cell_size": 8}, None),
    "tiny_cnn": ("tiny_cnn_rlm", "SmallCNNRLModule", gym.spaces.Box(0.0, 1.0, (16, 16, 3),
                 np.float32), gym.spaces.Discrete(3), None, None),
    "two_step_actions": ("two_step_actions_rlm", "TwoStepActionsRLModule",
                         TargetPointEnv.observation_space, TargetPointEnv.action_space, None,
                         TargetPointEnv),
    "own_networks_ppo": ("own_networks_ppo_rlm", "OwnNetworksPPORLModule", BOX4,
                         gym.spaces.Discrete(2), {"hidden_dim": 16}, "CartPole-v1"),
}


@pytest.fixture(scope="module")
def ported(tmp_path_factory):
    """The rllib_style sources as a package, rewritten in place by ``rlmodules port``."""
    root = tmp_path_factory.mktemp("ported")
    shutil.copytree(SOURCES, root / PACKAGE)
    (root / PACKAGE / "__init__.py").write_text("")
    assert main(["port", str(root / PACKAGE), "--write"]) == 0
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n.startswith(PACKAGE)]:
        del sys.modules[name]


def _class(file: str, name: str) -> type:
    return getattr(importlib.import_module(f"{PACKAGE}.{file}"), name)


def _spec(case: str) -> RLModuleSpec:
    file, name, obs, act, config, _ = CASES[case]
    return RLModuleSpec(module_class=_class(file, name), observation_space=obs,
                        action_space=act, model_config=config)


def _observations(space: gym.Space, size: int) -> object:
    space.seed(0)
    obs = stack([space.sample() for _ in range(size)])
    if isinstance(space, gym.spaces.Dict):  # masks that forbid action 1 in every row
        obs["action_mask"] = np.tile(np.array([1.0, 0.0], np.float32), (size, 1))
    return obs


def _batch(module: RLModule, size: int = 5) -> dict:
    batch = {Columns.OBS: _observations(module.observation_space, size)}
    if module.is_stateful():
        batch[Columns.STATE_IN] = stack([module.get_initial_state()] * size)
    return batch


def _tensors(value):
    if isinstance(value, dict):
        return {k: _tensors(v) for k, v in value.items()}
    return torch.as_tensor(np.asarray(value))


def _greedy(module: RLModule) -> np.ndarray:
    out = compute_actions(module, _batch(module), explore=False)
    return np.concatenate([np.asarray(a, np.float64).reshape(5, -1)
                           for a in _leaves(out[Columns.ACTIONS])], axis=1)


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value]


@pytest.mark.parametrize("case", sorted(CASES))
def test_ported_module_builds_acts_and_round_trips(ported, case, tmp_path):
    module = _spec(case).build()
    batch = _batch(module)
    taken = compute_actions(module, batch, explore=True)[Columns.ACTIONS]
    for explore in (True, False):
        out = compute_actions(module, batch, explore=explore, for_env=True)
        for action in unbatch(out[Columns.ACTIONS_FOR_ENV]):
            assert module.action_space.contains(action), (case, action)
        if module.is_stateful():
            assert Columns.STATE_OUT in out
    if module.is_stateful() and "random" not in case:  # [B, T] sequences with seq_lens
        sequences = {Columns.OBS: _tensors(batch[Columns.OBS]).unsqueeze(1).expand(5, 3, -1),
                     Columns.STATE_IN: _tensors(batch[Columns.STATE_IN]),
                     Columns.SEQ_LENS: torch.full((5,), 3)}
        assert module.forward_train(sequences)[Columns.ACTION_DIST_INPUTS].shape[:2] == (5, 3)
        assert module.compute_values(sequences).shape == (5, 3)
    if not module.is_stateful() and "random" not in case:
        torch_batch = {Columns.OBS: _tensors(batch[Columns.OBS])}
        for forward in (module.forward_inference, module.forward_exploration):
            assert Columns.ACTION_DIST_INPUTS in forward(_copy(torch_batch))
        train_batch = {**_copy(torch_batch), Columns.ACTIONS: taken}  # as a train batch has
        if isinstance(module, ValueFunctionAPI):  # PPO's order: values, then forward_train
            assert module.compute_values(train_batch).shape == (5,)
        assert Columns.ACTION_DIST_INPUTS in module.forward_train(train_batch)
    twin = _spec(case).build()
    twin.set_state(module.get_state())
    if "random" in case:
        assert module.get_state() == {}
    else:
        np.testing.assert_allclose(_greedy(twin), _greedy(module))


def _copy(batch):
    return {k: dict(v) if isinstance(v, dict) else v for k, v in batch.items()}


def test_ported_checkpoints_load_in_a_fresh_process(ported, tmp_path):
    expected = {}
    for case in sorted(CASES):
        module = _spec(case).build()
        module.save_to_path(tmp_path / case)
        expected[case] = None if "random" in case else _greedy(module).tolist()
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ported)!r})
        import importlib
        from test_ported_modules import CASES, _greedy
        ported = [getattr(importlib.import_module({PACKAGE!r} + "." + file), name)
                  for case, (file, name, *_rest) in CASES.items()]
        from rlmodules import RLModule
        out = {{}}
        for case in sorted(CASES):  # the user's own classes, handed over
            module = RLModule.from_checkpoint({str(tmp_path)!r} + "/" + case,
                                              trusted_objects=ported)
            out[case] = [type(module).__name__,
                         None if "random" in case else _greedy(module).tolist()]
        print(json.dumps(out))
    """)
    env = {"PYTHONPATH": str(Path(__file__).parent), "OMP_NUM_THREADS": "1",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.splitlines()[-1])
    for case, (_file, name, *_rest) in CASES.items():
        assert loaded[case][0] == name
        if expected[case] is not None:
            np.testing.assert_allclose(loaded[case][1], expected[case], rtol=1e-6)


@pytest.mark.parametrize("case", sorted(c for c, spec in CASES.items() if spec[5] is not None))
def test_ported_module_trains_one_ppo_iteration(ported, case):
    file, name, _obs, _act, config, env = CASES[case]
    algo = (
        PPOConfig().environment(env)
        .env_runners(num_envs_per_env_runner=2, num_threads=1)
        .training(train_batch_size=64, minibatch_size=32, num_epochs=1)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=_class(file, name),
                                               model_config=config))
        .debugging(seed=0)
        .build()
    )
    before = [p.detach().clone() for p in algo.get_module().parameters()]
    result = algo.train()
    after = list(algo.get_module().parameters())
    algo.stop()
    assert result["training_iteration"] == 1
    assert math.isfinite(result["default_policy/policy_loss"])
    assert math.isfinite(result["default_policy/vf_loss"])  # values from compute_values
    assert any(not torch.equal(a, b) for a, b in zip(before, after))


def test_ppo_trains_a_policy_against_a_ported_random_opponent(ported):
    from rlmodules.envs import MultiAgentCartPole

    specs = {"learner": _spec("value_head"),
             "opponent": RLModuleSpec(module_class=_class("random_rlm", "UniformRandomRLModule"))}
    algo = (
        PPOConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
        .env_runners(num_envs_per_env_runner=1, num_threads=1)
        .training(train_batch_size=64, minibatch_size=32, num_epochs=1)
        .multi_agent(policies={"learner", "opponent"},
                     policy_mapping_fn=lambda agent_id, episode, **kw: (
                         "learner" if agent_id == 0 else "opponent"))
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs))
        .debugging(seed=0)
        .build()
    )
    result = algo.train()
    algo.stop()
    assert math.isfinite(result["learner/policy_loss"])
    assert not any(key.startswith("opponent/") and key.endswith("_loss") for key in result)
