"""SAC end to end: Pendulum improves (solved in test_reference_presets.py), Discrete
actions and Dict observations train, checkpoints keep the temperature, a module without the
Q API is named."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import Columns, RLModuleSpec, TorchRLModule
from rlmodules.algorithms import SAC, SACConfig
from rlmodules.algorithms.algorithm import Algorithm
from rlmodules.errors import ConfigError, SpaceError


def pendulum(seed, hiddens=(256, 256), **training):
    """RL Baselines3 Zoo's Pendulum-v1 SAC settings (the `rlmodules train` preset)."""
    return (
        SACConfig()
        .environment("Pendulum-v1")
        .env_runners(num_envs_per_env_runner=1, num_threads=1)
        .training(**{"actor_lr": 1e-3, "critic_lr": 1e-3, "alpha_lr": 1e-3,
                     "train_batch_size": 256, "training_intensity": 256, **training})
        .rl_module(model_config={"fcnet_hiddens": list(hiddens), "fcnet_activation": "relu"})
        .debugging(seed=seed)
    )


def test_a_short_pendulum_run_improves():
    algo = pendulum(0, hiddens=(64, 64), min_sample_timesteps_per_iteration=1000).build()
    first = algo.train()
    for _ in range(3):
        result = algo.train()
    algo.stop()
    assert first["num_gradient_steps"] == 901 and result["num_gradient_steps"] == 1000
    assert result["alpha_value"] < 1.0 and math.isfinite(result["qf_loss"])
    assert result["episode_return_mean"] > first["episode_return_mean"] + 300, (first, result)


def test_discrete_actions_and_dict_observations_train(tmp_path):
    class DictCartPole(gym.ObservationWrapper):
        def __init__(self, config=None):
            super().__init__(gym.make("CartPole-v1"))
            box = self.env.observation_space
            self.observation_space = gym.spaces.Dict({
                "cart": gym.spaces.Box(box.low[:2], box.high[:2]),
                "pole": gym.spaces.Tuple((gym.spaces.Box(box.low[2:], box.high[2:]),))})

        def observation(self, obs):
            return {"cart": obs[:2], "pole": (obs[2:],)}

    algo = (SACConfig().environment(DictCartPole)
            .training(train_batch_size=32, num_steps_sampled_before_learning_starts=64,
                      min_sample_timesteps_per_iteration=200, n_step=2)
            .rl_module(model_config={"fcnet_hiddens": [32]})
            .debugging(seed=0).build())
    result = algo.train()
    assert result["num_gradient_steps"] == 137 and math.isfinite(result["policy_loss"])
    assert result["entropy"] > 0.0  # the categorical policy's entropy, below log 2
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.learner.log_alpha.data.fill_(3.0)
    restored = Algorithm.from_checkpoint(path, config=algo.config)
    assert isinstance(restored, SAC)
    assert restored.learner.log_alpha.item() == pytest.approx(math.log(result["alpha_value"]),
                                                              abs=0.05)
    batch = restored.replay_buffer.sample(4)
    assert batch["obs"]["pole"][0].shape == (4, 2)
    algo.stop()
    restored.stop()


class QOnly(TorchRLModule):
    def setup(self):
        self.pi = torch.nn.Linear(3, 2)

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}

    def compute_q_values(self, batch):
        return {Columns.QF_PREDS: batch[Columns.OBS].sum(-1)}


def test_a_module_without_target_networks_gets_an_error_naming_the_method():
    config = pendulum(0).rl_module(rl_module_spec=RLModuleSpec(module_class=QOnly))
    with pytest.raises(ConfigError, match=r"^QOnly cannot be trained with SAC: it has no "
                       r"forward_target\(\) method. Implement forward_target: the same from "
                       r"the target critics"):
        config.build()


def test_the_sac_module_keeps_only_the_actor_for_inference(tmp_path):
    from rlmodules import RLModule

    module = RLModuleSpec(module_class="sac", observation_space=gym.spaces.Box(-1, 1, (3,)),
                          action_space=gym.spaces.Box(-2.0, 2.0, (1,)),
                          model_config={"fcnet_hiddens": [16]}).build()
    assert {k.split(".")[0] for k in module.get_state(inference_only=True)} == \
        {"pi_encoder", "pi"}
    q = module.compute_q_values({Columns.OBS: torch.zeros(5, 3),
                                 Columns.ACTIONS: torch.zeros(5, 1)})
    assert set(q) == {"qf_preds", "qf_twin_preds"} and q["qf_preds"].shape == (5,)
    loaded = RLModule.from_checkpoint(module.save_to_path(tmp_path / "m"))
    state = loaded.get_state()
    for key, value in module.get_state().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match=r"target_entropy must be 'auto' or a number, got 'x'"):
        pendulum(0, target_entropy="x").build()
    with pytest.raises(SpaceError, match=r"SAC acts in a Box or Discrete action space, got "
                       r"MultiDiscrete\(\[2 2\]\); use the 'ppo' module"):
        RLModuleSpec(module_class="sac", observation_space=gym.spaces.Box(-1, 1, (3,)),
                     action_space=gym.spaces.MultiDiscrete([2, 2])).build()


OBS_SPACES = {
    "box": gym.spaces.Box(-1.0, 1.0, (3,)),
    "discrete": gym.spaces.Discrete(5),
    "multi_binary": gym.spaces.MultiBinary(4),
    "dict": gym.spaces.Dict({"a": gym.spaces.Box(-1, 1, (2, 2)), "b": gym.spaces.Discrete(3)}),
    "tuple": gym.spaces.Tuple((gym.spaces.MultiDiscrete([2, 3]), gym.spaces.Box(-1, 1, (2,)))),
}


@pytest.mark.parametrize("obs_name", OBS_SPACES)
@pytest.mark.parametrize("action_space", [gym.spaces.Box(-2.0, 2.0, (2,)),
                                          gym.spaces.Discrete(3)], ids=["box", "discrete"])
def test_the_sac_module_over_the_default_observation_spaces(obs_name, action_space):
    from gymnasium.vector.utils import batch_space
    from rlmodules import compute_actions

    obs_space = OBS_SPACES[obs_name]
    module = RLModuleSpec(module_class="sac", observation_space=obs_space,
                          action_space=action_space, model_config={"fcnet_hiddens": [8]}).build()
    batched = batch_space(obs_space, 4)
    batched.seed(0)
    obs = batched.sample()
    out = compute_actions(module, {Columns.OBS: obs}, explore=True, for_env=True)
    for action in out[Columns.ACTIONS_FOR_ENV]:
        assert action_space.contains(action)
    from rlmodules.algorithms.rollout import to_tensor, tree_map

    batch = {Columns.OBS: tree_map(to_tensor, obs), Columns.ACTIONS: out[Columns.ACTIONS]}
    online, target = module.compute_q_values(batch), module.forward_target(batch)
    shape = (4,) if isinstance(action_space, gym.spaces.Box) else (4, 3)
    assert online["qf_preds"].shape == shape and target["qf_twin_preds"].shape == shape
