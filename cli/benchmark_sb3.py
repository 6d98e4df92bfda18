"""``rlmodules benchmark --compare sb3``: the same hyper-parameters in Stable-Baselines3.

:func:`sb3_arguments` translates a task's config sections (RLlib's names) into SB3's
keywords, as plain data, without importing SB3; a setting SB3 has no equivalent for raises
:class:`NotInSB3` naming it, and the report shows that reason instead of an SB3 column.
:func:`build_sb3` (in a benchmark run's own process) makes the model and its evaluation env.

The mapping: ``train_batch_size`` = ``n_steps * n_envs`` (PPO) or ``batch_size`` (DQN, SAC);
``rollout_fragment_length`` = ``train_freq``; ``training_intensity`` = ``gradient_steps *
batch_size / (train_freq * n_envs)``; a two-point epsilon schedule = SB3's linear
exploration schedule; ``MeanStdFilter`` = ``VecNormalize(norm_reward=False)``; schedules of
env steps become functions of SB3's ``progress_remaining``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["NotInSB3", "sb3_arguments", "build_sb3", "SB3_EXTRA"]

#: What to install for ``--compare sb3``.
SB3_EXTRA = "pip install 'rlmodules[benchmark]'"


class NotInSB3(Exception):
    """A task SB3 cannot run with the same hyper-parameters; ``str()`` says why."""


def sb3_arguments(algo: str, settings: dict[str, Any], timesteps: int) -> dict[str, Any]:
    """``{"algo", "n_envs", "normalize_obs", "kwargs", "notes"}`` for SB3, as JSON data
    (schedules stay ``[[t, v], ...]`` lists; :func:`build_sb3` makes them functions)."""
    from rlmodules.algorithms import DQNConfig, PPOConfig, SACConfig

    config = {"ppo": PPOConfig, "dqn": DQNConfig, "sac": SACConfig}[algo]()
    config.update_from_dict({k: v for k, v in settings.items() if k != "environment"})
    t, runners = config.training_settings, config.env_runner_settings
    model = dict(config.model_config_setting or {})
    n_envs = runners["num_envs_per_env_runner"]
    notes: list[str] = []
    kwargs = {"gamma": t["gamma"], "policy_kwargs": _policy_kwargs(model, algo, notes)}
    if algo == "ppo":
        kwargs.update(_ppo(t, n_envs, model, notes))
    elif algo == "dqn":
        kwargs.update(_off_policy(t, runners, n_envs, "lr"))
        kwargs.update(_dqn(t, timesteps))
    else:
        kwargs.update(_off_policy(t, runners, n_envs, "critic_lr"))
        kwargs.update(_sac(t))
        kwargs["policy_kwargs"]["n_critics"] = 2 if t["twin_q"] else 1
    return {"algo": algo.upper(), "n_envs": n_envs, "kwargs": kwargs, "notes": notes,
            "normalize_obs": runners["observation_filter"] == "MeanStdFilter",
            "timesteps": timesteps}


def _policy_kwargs(model: dict[str, Any], algo: str, notes: list[str]) -> dict[str, Any]:
    hiddens = list(model.get("fcnet_hiddens", [256, 256]))
    activation = model.get("fcnet_activation", "tanh" if algo == "ppo" else "relu")
    if activation not in ("tanh", "relu"):
        raise NotInSB3(f"fcnet_activation {activation!r} is not mapped to SB3")
    out: dict[str, Any] = {"activation_fn": activation}
    if algo == "ppo":
        if model.get("vf_share_layers", False):
            raise NotInSB3("vf_share_layers=True: SB3's MLP policies share no layers")
        out["net_arch"] = {"pi": hiddens, "vf": hiddens}
        if model.get("free_log_std", False):
            out["log_std_init"] = float(model.get("log_std_init", 0.0))
        else:
            notes.append("SB3's Gaussian log-std is a state-independent parameter")
    else:
        out["net_arch"] = hiddens
    return out


def _ppo(t: dict[str, Any], n_envs: int, model: dict[str, Any],
         notes: list[str]) -> dict[str, Any]:
    if t["train_batch_size"] % n_envs:
        raise NotInSB3(f"train_batch_size {t['train_batch_size']} is not a multiple of the "
                       f"{n_envs} envs (SB3's n_steps per env)")
    if t["vf_clip_param"] is not None:
        raise NotInSB3("vf_clip_param caps the value loss; SB3's clip_range_vf is another "
                       "thing")
    if isinstance(t["entropy_coeff"], list):
        raise NotInSB3("SB3's ent_coef is a constant, not a schedule")
    return {"learning_rate": t["lr"], "n_steps": t["train_batch_size"] // n_envs,
            "batch_size": t["minibatch_size"], "n_epochs": t["num_epochs"],
            "gae_lambda": t["lambda_"], "clip_range": t["clip_param"],
            "ent_coef": t["entropy_coeff"], "vf_coef": t["vf_loss_coeff"],
            "max_grad_norm": math.inf if t["grad_clip"] is None else t["grad_clip"],
            "normalize_advantage": t["normalize_advantages"]}


def _off_policy(t: dict[str, Any], runners: dict[str, Any], n_envs: int,
                lr_key: str) -> dict[str, Any]:
    buffer = t["replay_buffer_config"]
    if buffer.get("type", "uniform") != "uniform":
        raise NotInSB3(f"SB3 replays uniformly; this task uses {buffer['type']} replay")
    train_freq = runners["rollout_fragment_length"]
    intensity = t["training_intensity"]
    steps = 1.0 if intensity is None else intensity * train_freq * n_envs / \
        t["train_batch_size"]
    if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
        raise NotInSB3(f"training_intensity {intensity} makes {steps:g} gradient steps per "
                       f"round; SB3's gradient_steps is a whole number")
    return {"learning_rate": t[lr_key], "batch_size": t["train_batch_size"],
            "buffer_size": buffer.get("capacity", 100_000),
            "learning_starts": t["num_steps_sampled_before_learning_starts"],
            "tau": t["tau"], "train_freq": train_freq, "gradient_steps": int(round(steps)),
            "n_steps": t["n_step"]}


def _dqn(t: dict[str, Any], timesteps: int) -> dict[str, Any]:
    for flag, what in (("double_q", "Double-Q"), ("dueling", "a dueling network")):
        if t[flag]:
            raise NotInSB3(f"SB3's DQN is plain DQN, without {what}")
    if t["num_atoms"] > 1:
        raise NotInSB3("SB3's DQN is plain DQN, not distributional (C51)")
    epsilon = t["epsilon"]
    points = [[0, epsilon]] if not isinstance(epsilon, list) else [list(p) for p in epsilon]
    if len(points) == 1:
        points.append([1, points[0][1]])
    if len(points) != 2 or points[0][0] != 0:
        raise NotInSB3(f"epsilon {epsilon!r}: SB3's exploration is one linear decay from "
                       f"step 0")
    return {"target_update_interval": max(t["target_network_update_freq"], 1),
            "exploration_initial_eps": points[0][1], "exploration_final_eps": points[1][1],
            "exploration_fraction": points[1][0] / timesteps,
            "max_grad_norm": math.inf if t["grad_clip"] is None else t["grad_clip"]}


def _sac(t: dict[str, Any]) -> dict[str, Any]:
    if not t["actor_lr"] == t["critic_lr"] == t["alpha_lr"]:
        raise NotInSB3("SB3's SAC has one learning rate for actor, critics and temperature")
    if t["target_network_update_freq"] > 1:
        raise NotInSB3("SB3's SAC counts target_update_interval in gradient steps")
    if t["grad_clip"] is not None:
        raise NotInSB3("SB3's SAC does not clip gradients")
    if t["target_entropy"] != "auto":
        raise NotInSB3("target_entropy is only mapped to SB3 as 'auto'")
    alpha = t["initial_alpha"]
    return {"ent_coef": "auto" if alpha == 1.0 else f"auto_{alpha}", "target_entropy": "auto"}


def build_sb3(arguments: dict[str, Any], env_id: str, seed: int) -> tuple[Any, Any]:
    """``(model, eval_env)``: the SB3 model :func:`sb3_arguments` describes, and a separate
    vectorised env for greedy evaluation (sharing the frozen observation statistics)."""
    import stable_baselines3
    import torch
    from rlmodules.algorithms.schedules import schedule_value
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    total = arguments["timesteps"]
    kwargs = dict(arguments["kwargs"])
    for key in ("learning_rate", "clip_range"):
        if isinstance(kwargs.get(key), list):
            points = kwargs[key]
            kwargs[key] = lambda remaining, s=points: schedule_value(
                s, int(round((1.0 - remaining) * total)))
    policy_kwargs = dict(kwargs.pop("policy_kwargs"))
    if "activation_fn" in policy_kwargs:
        policy_kwargs["activation_fn"] = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[
            policy_kwargs["activation_fn"]]
    env = make_vec_env(env_id, n_envs=arguments["n_envs"], seed=seed)
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 10_000)
    if arguments["normalize_obs"]:
        env = VecNormalize(env, norm_obs=True, norm_reward=False)
        eval_env = VecNormalize(eval_env, norm_obs=True, norm_reward=False, training=False)
    algo_class = getattr(stable_baselines3, arguments["algo"])
    model = algo_class("MlpPolicy", env, seed=seed, device="cpu", policy_kwargs=policy_kwargs,
                       **kwargs)
    return model, eval_env
