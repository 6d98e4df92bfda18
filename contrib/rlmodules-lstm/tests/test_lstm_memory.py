"""The default PPO module with use_lstm=True learns a task that needs memory."""

from __future__ import annotations

import gymnasium as gym
import torch
from rlmodules import RLModuleSpec, compute_actions

DELAY = 3  # recall the bit seen DELAY steps ago
STEPS = 10


def bit_sequences(size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Observations ``[B, T, 1]`` of random bits; targets ``[B, T - DELAY]``: the bit
    seen ``DELAY`` steps earlier."""
    bits = torch.randint(0, 2, (size, STEPS), generator=generator)
    return bits.float().unsqueeze(-1), bits[:, : STEPS - DELAY]


def initial_state(module, batch_size: int) -> dict:
    return {k: v.expand(batch_size, *v.shape) for k, v in module.get_initial_state().items()}


def test_recurrent_ppo_recalls_a_bit_seen_k_steps_ago():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    module = RLModuleSpec(
        module_class="ppo",
        observation_space=gym.spaces.Box(0.0, 1.0, (1,)),
        action_space=gym.spaces.Discrete(2),
        model_config={"use_lstm": True, "fcnet_hiddens": [16], "lstm_cell_size": 32},
    ).build()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    for _ in range(150):
        obs, targets = bit_sequences(64, generator)
        out = module.forward_train({"obs": obs, "state_in": initial_state(module, 64),
                                    "seq_lens": torch.full((64,), STEPS)})
        logits = out["action_dist_inputs"][:, DELAY:]  # [B, T - DELAY, 2]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 2), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    # Act step by step, as an env loop would, carrying the state.
    obs, targets = bit_sequences(256, generator)
    state, actions = initial_state(module, 256), []
    for t in range(STEPS):
        out = compute_actions(module, {"obs": obs[:, t], "state_in": state}, explore=False)
        actions.append(out["actions"])
        state = out["state_out"]
    accuracy = (torch.stack(actions, 1)[:, DELAY:] == targets).float().mean().item()
    assert accuracy > 0.95, accuracy
