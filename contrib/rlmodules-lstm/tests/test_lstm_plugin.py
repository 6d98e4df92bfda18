"""rlmodules-lstm through the registry: blocked (as if not installed) versus installed,
and use_lstm=True composing with the other plugins' encoders."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import RLModuleSpec, SpaceError, UnknownNameError, compute_actions, registry

OBS = gym.spaces.Box(-1.0, 1.0, (4,))
ACTIONS = gym.spaces.Discrete(2)
RECURRENT = {"use_lstm": True, "fcnet_hiddens": [16], "lstm_cell_size": 8}


def initial_state(module, batch_size: int) -> dict:
    return {k: v.expand(batch_size, *v.shape) for k, v in module.get_initial_state().items()}


def test_blocked_package_names_are_unknown_and_the_hint_names_the_package():
    with registry.isolated_registry(blocked=("rlmodules-lstm",)):
        with pytest.raises(UnknownNameError, match=r"pip install rlmodules-lstm"):
            registry.get("module", "lstm")
        assert "lstm" not in {r.name for r in registry.list("module")}


def test_blocked_package_use_lstm_error_names_the_package():
    with registry.isolated_registry(blocked=("rlmodules-lstm",)):
        spec = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACTIONS,
                            model_config=RECURRENT)
        with pytest.raises(SpaceError, match=r"use_lstm=True.*pip install rlmodules-lstm"):
            spec.build()


def test_installed_names_resolve_with_their_distribution():
    from rlmodules_lstm import LSTMContainingRLModule

    with registry.isolated_registry():
        assert registry.get("module", "lstm") is LSTMContainingRLModule
        record = registry.record("module", "lstm")
        assert (record.distribution, record.version) == ("rlmodules-lstm", "0.1.0")


@pytest.mark.parametrize("module_class", ["ppo", "bc"])
def test_use_lstm_makes_the_default_modules_recurrent(module_class):
    from rlmodules_lstm import LSTMEncoder

    module = RLModuleSpec(module_class=module_class, observation_space=OBS,
                          action_space=ACTIONS, model_config=RECURRENT).build()
    assert isinstance(module.encoder, LSTMEncoder) and module.is_stateful()
    out = compute_actions(module, {"obs": np.zeros((3, 4), np.float32),
                                   "state_in": initial_state(module, 3)})
    assert out["actions"].shape == (3,) and out["state_out"]["h"].shape == (3, 8)


def test_use_lstm_composes_with_image_observations():
    pytest.importorskip("rlmodules_cnn")
    from rlmodules_cnn import CNNEncoder

    images = gym.spaces.Box(0, 255, (42, 42, 3), np.uint8)
    module = RLModuleSpec(module_class="ppo", observation_space=images, action_space=ACTIONS,
                          model_config=RECURRENT).build()
    assert isinstance(module.encoder.tokenizer, CNNEncoder)
    frames = torch.randint(0, 256, (2, 3, 42, 42, 3), dtype=torch.uint8)
    out = module.forward_train({"obs": frames, "state_in": initial_state(module, 2),
                                "seq_lens": torch.tensor([3, 1])})
    assert out["action_dist_inputs"].shape == (2, 3, 2)
    assert module.compute_values({}, out["embeddings"]).shape == (2, 3)


def test_separate_critic_lstm_keeps_its_own_state():
    module = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACTIONS,
                          model_config={**RECURRENT, "vf_share_layers": False}).build()
    state = module.get_initial_state()
    assert set(state) == {"actor", "critic"} and set(state["critic"]) == {"h", "c"}
    batch_state = {part: {k: v.expand(2, *v.shape) for k, v in s.items()}
                   for part, s in state.items()}
    out = module.forward_train({"obs": torch.rand(2, 5, 4), "state_in": batch_state})
    assert set(out["state_out"]) == {"actor", "critic"}
    assert not torch.allclose(out["state_out"]["actor"]["h"], out["state_out"]["critic"]["h"])


def test_listing_and_importing_the_plugin_import_no_torch():
    code = (
        "import sys, rlmodules_lstm, rlmodules_lstm.plugin\n"
        "from rlmodules import registry\n"
        "assert 'lstm' in {r.name for r in registry.list('module')}\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"
