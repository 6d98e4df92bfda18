"""DQN end to end: it learns CartPole (solved on every seed in test_reference_presets.py),
any module with the Q API trains, checkpoints resume with the replay buffer, optimizer and
target networks."""

import math

import numpy as np
import pytest
import torch
from rlmodules import Columns, RLModuleSpec, TorchRLModule
from rlmodules.algorithms import DQN, DQNConfig
from rlmodules.algorithms.algorithm import Algorithm
from rlmodules.errors import ConfigError


def small_cartpole(seed, **training):
    """A cheap DQN on CartPole: small network, few gradient steps per env step."""
    return (
        DQNConfig()
        .environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=1, rollout_fragment_length=4, num_threads=1)
        .training(**{"lr": 1e-3, "train_batch_size": 64, "target_network_update_freq": 250,
                     "n_step": 3, "num_steps_sampled_before_learning_starts": 500,
                     "epsilon": [(0, 1.0), (3000, 0.02)], "training_intensity": 16,
                     "min_sample_timesteps_per_iteration": 1000, **training})
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "fcnet_activation": "relu"})
        .debugging(seed=seed)
    )


def test_a_short_run_improves_the_greedy_policy():
    algo = small_cartpole(seed=0).build()
    before = algo.evaluate(num_episodes=5)["episode_return_mean"]
    for _ in range(5):
        result = algo.train()
    after = algo.evaluate(num_episodes=5)["episode_return_mean"]
    algo.stop()
    assert result["num_env_steps_sampled_lifetime"] == 5000
    assert result["num_gradient_steps"] == 250  # 16 replayed per sampled step / batch 64
    assert result["exploration_random_fraction"] == pytest.approx(0.02)
    assert math.isfinite(result["qf_loss"]) and result["replay_buffer_size"] > 4000
    assert after > 2 * before and after > 40, (before, after)


def test_distributional_prioritized_n_step_dqn_runs_and_learns_something():
    config = small_cartpole(0, num_atoms=11, v_min=0.0, v_max=50.0, n_step=2,
                            replay_buffer_config={"type": "prioritized", "capacity": 5000})
    algo = config.training(min_sample_timesteps_per_iteration=600).build()
    assert algo.get_module().model_config.num_atoms == 11
    losses = [algo.train()["qf_loss"] for _ in range(2)]
    algo.stop()
    assert all(math.isfinite(x) for x in losses)


def test_checkpoint_resume_keeps_buffer_optimizer_and_targets(tmp_path):
    algo = small_cartpole(0, min_sample_timesteps_per_iteration=600).build()
    algo.train()
    algo.train()
    path = algo.save_to_path(tmp_path / "ckpt")
    restored = Algorithm.from_checkpoint(path)
    assert isinstance(restored, DQN)
    a, b = algo.replay_buffer.get_state(), restored.replay_buffer.get_state()
    assert a[1] == b[1] and a[0].keys() == b[0].keys()
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key])
    for (_, target), (_, restored_target) in zip(
            algo.get_module().get_target_network_pairs(),
            restored.get_module().get_target_network_pairs()):
        for p, q in zip(target.parameters(), restored_target.parameters()):
            torch.testing.assert_close(p, q)
    old_opt, new_opt = algo.learner.get_optimizer_state()[0], \
        restored.learner.get_optimizer_state()[0]
    assert old_opt.keys() == new_opt.keys()
    for key in old_opt:
        torch.testing.assert_close(old_opt[key], new_opt[key])
    assert restored.learner.last_target_update == algo.learner.last_target_update
    # Both continue the same way: same replay samples, same updates.
    np.testing.assert_array_equal(algo.replay_buffer.sample(8)["actions"],
                                  restored.replay_buffer.sample(8)["actions"])
    algo.stop()
    result = restored.train()
    restored.stop()
    assert result["num_env_steps_sampled_lifetime"] == 1800


def test_a_bad_replay_buffer_in_a_checkpoint_changes_nothing(tmp_path):
    import json

    from rlmodules import CheckpointError
    from rlmodules.checkpoint import write_json_file

    algo = small_cartpole(0, min_sample_timesteps_per_iteration=600).build()
    algo.train()
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.train()
    weights = {k: v.clone() for k, v in algo.get_module().state_dict().items()}
    buffer, iteration = algo.replay_buffer, algo.iteration
    state = json.loads((path / "algorithm_state.json").read_text())
    state["extra"]["replay_buffer"]["capacity"] += 1
    write_json_file(path / "algorithm_state.json", state)
    with pytest.raises(CheckpointError, match=r"the saved replay buffer has capacity="):
        algo.restore_from_path(path)
    assert algo.replay_buffer is buffer and algo.iteration == iteration
    for key, value in algo.get_module().state_dict().items():
        assert torch.equal(value, weights[key])
    algo.stop()


class PolicyOnly(TorchRLModule):
    def setup(self):
        self.pi = torch.nn.Linear(4, 2)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}


def test_a_module_without_the_q_api_gets_an_error_naming_the_method():
    config = small_cartpole(0).rl_module(rl_module_spec=RLModuleSpec(module_class=PolicyOnly))
    with pytest.raises(ConfigError, match=r"^PolicyOnly cannot be trained with DQN: it has no "
                       r"compute_q_values\(\) method. Implement compute_q_values: batch -> "
                       r"\{'qf_preds': \[B, num_actions\]\} \(online network\) \(RLlib's "
                       r"QNetAPI / TargetNetworkAPI\), or use the default 'dqn' module$"):
        config.build()


class TinyQ(TorchRLModule):
    """A third-party Q module: the Q API on plain torch layers, no dqn module parts."""

    def setup(self):
        self.q = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(),
                                     torch.nn.Linear(32, 2))
        self.q_target = None if self.inference_only else self._copy()

    def _copy(self):
        import copy

        target = copy.deepcopy(self.q)
        target.requires_grad_(False)
        return target

    def make_target_networks(self):
        self.q_target = self._copy()

    def get_target_network_pairs(self):
        return [(self.q, self.q_target)]

    def compute_q_values(self, batch):
        return {Columns.QF_PREDS: self.q(batch[Columns.OBS])}

    def forward_target(self, batch):
        return {Columns.QF_PREDS: self.q_target(batch[Columns.OBS])}

    def _forward(self, batch, **kwargs):
        q = self.q(batch[Columns.OBS])
        return {Columns.ACTIONS: q.argmax(-1), Columns.QF_PREDS: q}


def test_any_module_with_the_q_api_trains():
    config = small_cartpole(0, min_sample_timesteps_per_iteration=600, dueling=True)
    algo = config.rl_module(rl_module_spec=RLModuleSpec(module_class=TinyQ)).build()
    before = [p.clone() for p in algo.get_module().q.parameters()]
    result = algo.train()
    algo.stop()
    assert result["num_gradient_steps"] > 0 and math.isfinite(result["qf_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, algo.get_module().q.parameters()))


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match=r"a distributional DQN \(num_atoms=51\) needs "
                       r"v_min < v_max, got v_min=1.0, v_max=1.0"):
        DQNConfig().environment("CartPole-v1").training(num_atoms=51, v_min=1.0,
                                                         v_max=1.0).build()
    with pytest.raises(ConfigError, match=r"training\(\) got an unknown setting 'minibatch_size'"):
        DQNConfig().training(minibatch_size=64)


def test_scaling_out_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"DQNConfig samples and learns in this process; set "
                       r"num_env_runners=0 and num_learners=0"):
        DQNConfig().environment("CartPole-v1").env_runners(num_env_runners=2).build()
