"""Recurrent state handling: steps versus whole sequences, padding, prev action/reward,
and the errors of malformed recurrent batches."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from rlmodules import BatchError, ConfigError, RLModuleSpec, SpaceError, compute_actions

OBS = gym.spaces.Box(-1.0, 1.0, (3,))
ACTIONS = gym.spaces.Discrete(4)
SMALL = {"use_lstm": True, "fcnet_hiddens": [16], "lstm_cell_size": 8}


def build(module_class: str = "ppo", **config):
    torch.manual_seed(0)
    defaults = SMALL if module_class == "ppo" else {"lstm_cell_size": 8, "dense_layers": [16]}
    return RLModuleSpec(module_class=module_class, observation_space=OBS, action_space=ACTIONS,
                        model_config={**defaults, **config}).build()


def initial_state(module, batch_size: int) -> dict:
    return {k: v.expand(batch_size, *v.shape) for k, v in module.get_initial_state().items()}


@pytest.mark.parametrize("module_class", ["ppo", "lstm"])
def test_initial_state_is_unbatched_and_the_module_stateful(module_class):
    module = build(module_class)
    state = module.get_initial_state()
    assert set(state) == {"h", "c"} and state["h"].shape == (8,)
    assert module.is_stateful()


@pytest.mark.parametrize("module_class", ["ppo", "lstm"])
def test_steps_through_compute_actions_equal_the_whole_sequence(module_class):
    module = build(module_class)
    obs = torch.rand(2, 6, 3) * 2 - 1
    whole = module.forward_inference({"obs": obs, "state_in": initial_state(module, 2)})
    state = initial_state(module, 2)
    for t in range(6):
        out = compute_actions(module, {"obs": obs[:, t], "state_in": state}, explore=False)
        torch.testing.assert_close(out["action_dist_inputs"], whole["action_dist_inputs"][:, t])
        assert out["actions"].shape == (2,)
        state = out["state_out"]
        step = module.forward_inference({"obs": obs[:, t:t + 1], "state_in": state})
        assert step["action_dist_inputs"].shape == (2, 1, 4)
    for key in ("h", "c"):
        torch.testing.assert_close(state[key], whole["state_out"][key])


def test_forward_train_with_seq_lens_ignores_padding():
    module = build()
    lengths = [5, 2, 3]
    obs = torch.rand(3, 5, 3)
    padded = obs.clone()
    for row, length in enumerate(lengths):
        padded[row, length:] = 100.0  # garbage in the padding
    out = module.forward_train({"obs": padded, "state_in": initial_state(module, 3),
                                "seq_lens": torch.tensor(lengths)})
    for row, length in enumerate(lengths):
        alone = module.forward_train({"obs": obs[row:row + 1, :length],
                                      "state_in": initial_state(module, 1)})
        torch.testing.assert_close(out["action_dist_inputs"][row, :length],
                                   alone["action_dist_inputs"][0])
        for key in ("h", "c"):
            torch.testing.assert_close(out["state_out"][key][row], alone["state_out"][key][0])
    values = module.compute_values({"obs": padded, "state_in": initial_state(module, 3),
                                    "seq_lens": torch.tensor(lengths)})
    torch.testing.assert_close(values[:, :2], module.compute_values(
        {"obs": obs[:, :2], "state_in": initial_state(module, 3)}))


def test_gradients_do_not_reach_padded_inputs():
    module = build("lstm")
    obs = torch.rand(2, 4, 3, requires_grad=True)
    out = module.forward_train({"obs": obs, "state_in": initial_state(module, 2),
                                "seq_lens": [4, 2]})
    out["embeddings"].sum().backward()
    assert torch.all(obs.grad[1, 2:] == 0) and torch.any(obs.grad[1, :2] != 0)


def test_previous_action_and_reward_inputs():
    module = build(lstm_use_prev_action=True, lstm_use_prev_reward=True)
    assert module.encoder.lstm.input_size == 16 + 4 + 1
    obs = torch.rand(2, 3, 3)
    batch = {"obs": obs, "state_in": initial_state(module, 2),
             "prev_actions": torch.tensor([[0, 1, 3], [2, 2, 0]]),
             "prev_rewards": torch.tensor([[0.0, 1.0, -1.0], [0.5, 0.0, 0.0]])}
    whole = module.forward_inference(batch)
    other = module.forward_inference({**batch, "prev_actions": torch.zeros(2, 3, dtype=torch.long)})
    assert not torch.allclose(whole["action_dist_inputs"], other["action_dist_inputs"])
    state = initial_state(module, 2)
    for t in range(3):
        out = compute_actions(module, {"obs": obs[:, t], "state_in": state,
                                       "prev_actions": batch["prev_actions"][:, t],
                                       "prev_rewards": batch["prev_rewards"][:, t]},
                              explore=False)
        torch.testing.assert_close(out["action_dist_inputs"], whole["action_dist_inputs"][:, t])
        state = out["state_out"]
    with pytest.raises(BatchError, match=r"lstm_use_prev_action=True: the batch needs a "
                                         r"'prev_actions' column"):
        module.forward_inference({"obs": obs, "state_in": initial_state(module, 2)})


def test_prev_action_needs_a_supported_action_space():
    with pytest.raises(SpaceError, match=r"lstm_use_prev_action supports .* got Dict"):
        RLModuleSpec(module_class="ppo", observation_space=OBS,
                     action_space=gym.spaces.Dict({"a": gym.spaces.Discrete(2)}),
                     model_config={**SMALL, "lstm_use_prev_action": True}).build()


@pytest.mark.parametrize(("batch", "expected"), [
    ({"obs": torch.rand(2, 3, 3), "state_in": None},
     r"needs 'state_in' = \{'h': \[B, 8\], 'c': \[B, 8\]\}"),
    ({"obs": torch.rand(2, 3, 3), "state_in": {"h": torch.zeros(2, 5), "c": torch.zeros(2, 5)}},
     r"state_in\['h'\] has shape \(2, 5\), expected \[B, cell_size\] = \[2, 8\]"),
    ({"obs": torch.rand(2, 3)}, r"needs observations as \[B, T, \.\.\.\] \(got shape \(2, 3\)\)"),
    ({"obs": torch.rand(2, 3, 3), "seq_lens": [3, 3, 3]},
     r"seq_lens must have shape \[B\] = \[2\], got \(3,\)"),
    ({"obs": torch.rand(2, 3, 3), "seq_lens": [0, 3]}, r"seq_lens must be in 1\.\.T = 1\.\.3"),
    ({"obs": torch.rand(2, 3, 3), "seq_lens": [4, 3]}, r"got values from 3 to 4"),
])
def test_malformed_recurrent_batches_are_batch_errors(batch, expected):
    module = build()
    batch = {"state_in": initial_state(module, 2), **batch}
    with pytest.raises(BatchError, match=expected):
        module.forward_train(batch)


def test_training_chunks_longer_than_max_seq_len_are_rejected():
    module = build(max_seq_len=4)
    obs = torch.rand(2, 6, 3)
    with pytest.raises(BatchError, match=r"seq_lens up to 6 exceed max_seq_len=4; split episodes"):
        module.forward_train({"obs": obs, "state_in": initial_state(module, 2),
                              "seq_lens": [6, 2]})
    module.forward_inference({"obs": obs, "state_in": initial_state(module, 2)})  # acting is free


def test_lstm_module_config_and_space_errors():
    with pytest.raises(ConfigError, match=r"unknown model_config key 'lstm_cell'\. Did you mean "
                                          r"'lstm_cell_size'\?"):
        build("lstm", lstm_cell=8)
    with pytest.raises(ConfigError, match=r"model_config\['dense_layers'\] must be a list of "
                                          r"positive ints .* got \[0\]"):
        build("lstm", dense_layers=[0])
    with pytest.raises(SpaceError, match=r"'lstm' module takes 1-D Box observations, got "
                                         r"Discrete\(5\); .*use_lstm"):
        RLModuleSpec(module_class="lstm", observation_space=gym.spaces.Discrete(5),
                     action_space=ACTIONS).build()


def test_lstm_initializers_from_the_model_config():
    module = build(lstm_kernel_initializer="orthogonal", lstm_bias_initializer="constant",
                   lstm_bias_initializer_kwargs={"val": 0.25})
    lstm = module.encoder.lstm
    assert torch.all(lstm.bias_ih_l0 == 0.25)
    # An orthogonal [4H, H] matrix has orthonormal columns.
    torch.testing.assert_close(lstm.weight_hh_l0.T @ lstm.weight_hh_l0, torch.eye(8),
                               atol=1e-5, rtol=0)
