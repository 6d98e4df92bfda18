"""A plugin distribution that knows its action space: a Beta scaled to a bounded Box."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from beta_plugin import BetaPlugin, ScaledBeta
from rlmodules import compute_actions, registry
from rlmodules.algorithms import PPOConfig


def test_for_space_gives_from_logits_the_space_bounds():
    space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 10.0], np.float32))
    dist_cls = ScaledBeta.for_space(space)
    assert dist_cls.space is space and dist_cls.input_dim == 4
    actions = dist_cls.from_logits(torch.randn(500, 4) * 3).sample()
    assert (actions >= torch.tensor([-2.0, 0.0])).all()
    assert (actions <= torch.tensor([2.0, 10.0])).all()
    assert actions[:, 1].max() > 5  # scaled to [0, 10], not left on [0, 1]


def test_default_ppo_trains_pendulum_with_the_plugins_beta_and_acts_inside_the_bounds(
        one_torch_thread):
    registry.register_plugin(BetaPlugin(), name="rlm_beta")
    try:
        algo = (
            PPOConfig()
            .environment("Pendulum-v1")
            .env_runners(num_envs_per_env_runner=2, num_threads=1)
            .training(train_batch_size=256, minibatch_size=64, num_epochs=2)
            .rl_module(model_config={"fcnet_hiddens": [16], "use_beta": True})
            .debugging(seed=0)
            .build()
        )
        for _ in range(2):
            result = algo.train()
        module = algo.get_module()
        algo.stop()
    finally:
        registry.unregister_plugin("rlm_beta")
    assert result["training_iteration"] == 2
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert module.get_exploration_action_dist_cls().base_class() is ScaledBeta
    obs = np.random.default_rng(0).uniform(-1, 1, (64, 3)).astype(np.float32)
    out = compute_actions(module, {"obs": obs}, explore=True, for_env=True)
    actions = out["actions_for_env"]
    assert actions.shape == (64, 1) and (np.abs(actions) <= 2.0).all()
    assert np.isfinite(out["action_logp"].numpy()).all()
