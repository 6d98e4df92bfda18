"""A DQN gradient step equals Stable-Baselines3's on the same weights and batch: the TD
target (terminations cut the bootstrap), the Huber loss, gradient clipping and Adam. SB3 is
in the `benchmark` extra; without it this module is skipped."""

import pytest
import torch
from rlmodules.algorithms import DQNConfig

pytest.importorskip("stable_baselines3")


def linears(*modules):
    return [m for module in modules for m in module.modules() if isinstance(m, torch.nn.Linear)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_one_dqn_update_matches_sb3():
    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.type_aliases import ReplayBufferSamples

    algo = (DQNConfig().environment("CartPole-v1")
            .env_runners(rollout_fragment_length=500)
            .training(lr=2.3e-3, train_batch_size=64, grad_clip=0.5, double_q=False,
                      dueling=False, gamma=0.9, num_steps_sampled_before_learning_starts=10**6,
                      min_sample_timesteps_per_iteration=500)
            .rl_module(model_config={"fcnet_hiddens": [32, 32], "fcnet_activation": "relu"})
            .debugging(seed=0).build())
    algo.train()  # fills the replay buffer with random play (terminations included)
    module = algo.get_module()
    sb3 = DQN("MlpPolicy", "CartPole-v1", learning_rate=2.3e-3, batch_size=64, gamma=0.9,
              max_grad_norm=0.5, policy_kwargs={"net_arch": [32, 32]}, device="cpu", seed=0)
    sb3.set_logger(configure(None, []))
    ours, ours_target = linears(module.encoder, module.af), \
        linears(module.target_encoder, module.target_af)
    theirs, theirs_target = linears(sb3.q_net), linears(sb3.q_net_target)
    with torch.no_grad():
        for a, a_target, b, b_target in zip(ours, ours_target, theirs, theirs_target):
            a_target.weight.add_(0.1 * torch.randn_like(a_target.weight))  # a stale target
            b.weight.copy_(a.weight), b.bias.copy_(a.bias)
            b_target.weight.copy_(a_target.weight), b_target.bias.copy_(a_target.bias)
    batch = algo.replay_buffer.sample(64)
    assert batch["terminateds"].any()
    as_tensor = torch.as_tensor
    sb3.replay_buffer.sample = lambda *args, **kwargs: ReplayBufferSamples(
        as_tensor(batch["obs"]), as_tensor(batch["actions"]).long()[:, None],
        as_tensor(batch["new_obs"]), as_tensor(batch["terminateds"]).float()[:, None],
        as_tensor(batch["rewards"])[:, None], None)
    algo.learner.update(batch, timestep=0)
    sb3.train(gradient_steps=1, batch_size=64)
    algo.stop()
    for a, b in zip(ours + ours_target, theirs + theirs_target):
        torch.testing.assert_close(a.weight, b.weight, atol=1e-6, rtol=0)
        torch.testing.assert_close(a.bias, b.bias, atol=1e-6, rtol=0)
