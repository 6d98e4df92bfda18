"""Modules on image observations: the default PPO module learning an image task, and
the registered tiny Atari-style CNN."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import ConfigError, RLModuleSpec, compute_actions

IMAGES = gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)


def bright_half_batch(size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy 84x84 RGB images whose left (label 0) or right (label 1) half is brighter."""
    labels = torch.randint(0, 2, (size,), generator=generator)
    images = torch.randint(0, 216, (size, 84, 84, 3), generator=generator)
    columns = torch.arange(84).view(1, 1, 84, 1)
    bright = (columns >= 42) == labels.view(-1, 1, 1, 1).bool()
    images = images + 40 * bright
    return images.to(torch.uint8), labels


def test_default_ppo_module_learns_which_half_is_bright():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    module = RLModuleSpec(module_class="ppo", observation_space=IMAGES,
                          action_space=gym.spaces.Discrete(2)).build()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    for _ in range(15):
        images, labels = bright_half_batch(16, generator)
        logits = module.forward_train({"obs": images})["action_dist_inputs"]
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    images, labels = bright_half_batch(200, generator)
    actions = compute_actions(module, {"obs": images}, explore=False)["actions"]
    accuracy = (actions == labels).float().mean().item()
    assert accuracy > 0.95, accuracy


def test_tiny_atari_cnn_acts_and_computes_values():
    space = gym.spaces.Box(-1.0, 1.0, (64, 64, 4), np.float32)
    module = RLModuleSpec(module_class="tiny_atari_cnn", observation_space=space,
                          action_space=gym.spaces.Discrete(7)).build()
    obs = torch.rand(3, 64, 64, 4) * 2 - 1
    out = compute_actions(module, {"obs": obs}, explore=True)
    assert out["actions"].shape == (3,) and out["action_logp"].shape == (3,)
    train = module.forward_train({"obs": obs})
    assert train["action_dist_inputs"].shape == (3, 7)
    values = module.compute_values({"obs": obs}, train["embeddings"])
    torch.testing.assert_close(values, module.compute_values({"obs": obs}))
    assert values.shape == (3,)


def test_tiny_atari_cnn_takes_conv_filters_and_rejects_unknown_keys():
    space = gym.spaces.Box(0, 255, (50, 50, 1), np.uint8)
    module = RLModuleSpec(module_class="tiny_atari_cnn", observation_space=space,
                          action_space=gym.spaces.Discrete(3),
                          model_config={"conv_filters": [[8, 4, 2], [16, 4, 2]]}).build()
    assert module.encoder.output_dim == 16 * 13 * 13
    with pytest.raises(ConfigError, match=r"unknown model_config key 'conv_filter'\. Did you "
                                          r"mean 'conv_filters'\?"):
        RLModuleSpec(module_class="tiny_atari_cnn", observation_space=space,
                     action_space=gym.spaces.Discrete(3),
                     model_config={"conv_filter": [[8, 4, 2]]}).build()
