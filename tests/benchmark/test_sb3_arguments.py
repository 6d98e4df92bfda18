"""`--compare sb3`: the presets' settings in SB3's names, and what SB3 cannot run."""

import pytest
from rlmodules.algorithms.presets import load_preset
from rlmodules.cli.benchmark_sb3 import NotInSB3, sb3_arguments


def arguments(name, **training):
    preset = load_preset(name)
    settings = preset.settings(preset.timesteps)
    settings["training"].update(training)
    return sb3_arguments(preset.algo, settings, preset.timesteps)


def test_dqn_cartpole_in_sb3s_names():
    args = arguments("dqn/CartPole-v1")
    kwargs = args["kwargs"]
    assert (args["algo"], args["n_envs"], args["normalize_obs"]) == ("DQN", 1, False)
    assert {k: kwargs[k] for k in ("learning_rate", "batch_size", "train_freq",
                                   "gradient_steps", "n_steps", "target_update_interval",
                                   "exploration_fraction", "exploration_final_eps",
                                   "max_grad_norm")} == {
        "learning_rate": 1e-3, "batch_size": 64, "train_freq": 256, "gradient_steps": 128,
        "n_steps": 3, "target_update_interval": 1000, "exploration_fraction": 0.08,
        "exploration_final_eps": 0.04, "max_grad_norm": 10.0}
    assert kwargs["policy_kwargs"] == {"net_arch": [256, 256], "activation_fn": "relu"}


def test_ppo_keeps_its_schedules_and_separate_networks():
    kwargs = arguments("ppo/CartPole-v1")["kwargs"]
    assert kwargs["n_steps"] == 32 and kwargs["batch_size"] == 256
    assert kwargs["learning_rate"] == [[0, 1e-3], [100_000, 0.0]]
    assert kwargs["policy_kwargs"]["net_arch"] == {"pi": [64, 64], "vf": [64, 64]}
    cheetah = arguments("ppo/HalfCheetah-v5")
    assert cheetah["normalize_obs"] and cheetah["kwargs"]["policy_kwargs"]["log_std_init"] == -2
    assert cheetah["notes"] == []
    assert arguments("ppo/Pendulum-v1")["notes"] == [
        "SB3's Gaussian log-std is a state-independent parameter"]


def test_sac_pendulum():
    kwargs = arguments("sac/Pendulum-v1")["kwargs"]
    assert kwargs["gradient_steps"] == 1 and kwargs["ent_coef"] == "auto"
    assert kwargs["policy_kwargs"]["n_critics"] == 2


@pytest.mark.parametrize("name, training, reason", [
    ("dqn-dueling/CartPole-v1", {}, "SB3's DQN is plain DQN, without Double-Q"),
    ("dqn/CartPole-v1", {"num_atoms": 51}, "not distributional"),
    ("dqn/CartPole-v1", {"replay_buffer_config": {"type": "prioritized"}},
     "SB3 replays uniformly; this task uses prioritized replay"),
    ("dqn/CartPole-v1", {"training_intensity": 30.1}, "makes 120.4 gradient steps per round"),
    ("dqn/CartPole-v1", {"epsilon": [[0, 1.0], [10, 0.5], [20, 0.1]]},
     "SB3's exploration is one linear decay"),
    ("sac/Pendulum-v1", {"alpha_lr": 3e-4}, "one learning rate for actor, critics"),
])
def test_what_sb3_cannot_run_is_named(name, training, reason):
    with pytest.raises(NotInSB3, match=reason):
        arguments(name, **training)
