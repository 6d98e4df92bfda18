"""DQNConfig and SACConfig: RLlib's builder-style settings of the off-policy algorithms.

Here ``train_batch_size`` is the number of transitions each gradient step samples from the
replay buffer (RLlib's meaning for DQN and SAC). One iteration of ``train()`` samples at
least ``min_sample_timesteps_per_iteration`` env steps in rounds of
``rollout_fragment_length`` steps per env; after each round it takes as many gradient steps
as keep ``training_intensity`` (replayed transitions per sampled env step; None: one step
per round). The family samples and learns in the training process: it takes no env runners,
learner actors or observation filter (on-policy settings of the shared builder methods).
Importing this module does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rlmodules.errors import ConfigError

from .algorithm_config import AlgorithmConfig
from .config_checks import _check_int, _check_number, _check_schedule

__all__ = ["OffPolicyConfig", "DQNConfig", "SACConfig", "check_replay_buffer_config"]

#: ``replay_buffer_config["type"]`` -> the keys it takes.
BUFFER_KEYS = {"uniform": ("type", "capacity"),
               "prioritized": ("type", "capacity", "alpha", "beta")}

_OFF_POLICY: dict[str, Any] = {
    **AlgorithmConfig.training_defaults,
    "n_step": 1,
    "replay_buffer_config": {"type": "uniform", "capacity": 100_000},
    "num_steps_sampled_before_learning_starts": 1000,
    "training_intensity": None,
    "target_network_update_freq": 0,
    "tau": 0.005,
    "min_sample_timesteps_per_iteration": 1000,
}


class OffPolicyConfig(AlgorithmConfig):
    """Settings shared by DQN and SAC (see the module docstring); adds the env-runner
    setting ``rollout_fragment_length`` (env steps per env between gradient rounds)."""

    training_defaults = _OFF_POLICY

    def __init__(self) -> None:
        super().__init__()
        self.env_runner_settings["rollout_fragment_length"] = 1

    def validate(self) -> None:
        """The base's checks, then the replay loop's settings."""
        super().validate()
        t = self.training_settings
        if self.env_runner_settings["num_env_runners"] or \
                self.learner_settings["num_learners"] > 1:
            raise ConfigError(
                f"{type(self).__name__} samples and learns in this process; set "
                f"num_env_runners=0 and num_learners=0 (scaling out is PPO's for now)"
            )
        if self.env_runner_settings["observation_filter"] != "NoFilter":
            raise ConfigError(
                f"{type(self).__name__} replays raw observations; set "
                f"observation_filter='NoFilter' (MeanStdFilter is PPO's for now)"
            )
        _check_int("rollout_fragment_length", self.env_runner_settings["rollout_fragment_length"],
                   minimum=1)
        _check_int("n_step", t["n_step"], minimum=1)
        check_replay_buffer_config(t["replay_buffer_config"])
        _check_int("num_steps_sampled_before_learning_starts",
                   t["num_steps_sampled_before_learning_starts"], minimum=0)
        _check_int("target_network_update_freq", t["target_network_update_freq"], minimum=0)
        _check_int("min_sample_timesteps_per_iteration",
                   t["min_sample_timesteps_per_iteration"], minimum=1)
        _check_number("tau", t["tau"], 0.0, 1.0, open_low=True)
        if t["training_intensity"] is not None:
            _check_number("training_intensity", t["training_intensity"], 0.0, math.inf,
                          open_low=True)

    def model_config_overrides(self) -> dict[str, Any]:
        """Training keys the module reads from its model config (RLlib passes them on)."""
        return {}


class DQNConfig(OffPolicyConfig):
    """Configuration of DQN (Mnih et al. 2015) with Double-Q, dueling and C51 options.

    Training keys beyond the off-policy ones: ``lr``, ``double_q``, ``dueling``,
    ``num_atoms`` (> 1: distributional C51 on ``linspace(v_min, v_max, num_atoms)``),
    ``v_min``, ``v_max`` (these five also go to the module's model config), ``epsilon``
    (epsilon-greedy exploration: a number or a schedule ``[(timestep, value), ...]``).
    Targets: ``tau`` 1.0 copies the online network every ``target_network_update_freq``
    env steps; a smaller ``tau`` makes that a Polyak update. The loss is Huber on the TD
    error (cross-entropy against the projected target for C51), importance-weighted with
    a prioritized buffer.

    Example::

        algo = (DQNConfig().environment("CartPole-v1")
                .training(lr=2.3e-3, train_batch_size=64, epsilon=[(0, 1.0), (8000, 0.04)])
                .build())
    """

    training_defaults = {
        **_OFF_POLICY,
        "lr": 5e-4,
        "train_batch_size": 32,
        "grad_clip": 40.0,
        "target_network_update_freq": 500,
        "tau": 1.0,
        "double_q": True,
        "dueling": True,
        "num_atoms": 1,
        "v_min": -10.0,
        "v_max": 10.0,
        "epsilon": [(0, 1.0), (10_000, 0.05)],
    }
    algo_class_path = "rlmodules.algorithms.dqn:DQN"

    def validate(self) -> None:
        super().validate()
        t = self.training_settings
        _check_schedule("lr", t["lr"], positive=True)
        for flag in ("double_q", "dueling"):
            if not isinstance(t[flag], bool):
                raise ConfigError(f"{flag} must be True or False, got {t[flag]!r}")
        _check_int("num_atoms", t["num_atoms"], minimum=1)
        if t["num_atoms"] > 1 and not t["v_min"] < t["v_max"]:
            raise ConfigError(
                f"a distributional DQN (num_atoms={t['num_atoms']}) needs v_min < v_max, got "
                f"v_min={t['v_min']}, v_max={t['v_max']}"
            )
        _check_schedule("epsilon", t["epsilon"], positive=False)

    def model_config_overrides(self) -> dict[str, Any]:
        t = self.training_settings
        return {k: t[k] for k in ("double_q", "dueling", "num_atoms", "v_min", "v_max")}


class SACConfig(OffPolicyConfig):
    """Configuration of SAC (Haarnoja et al. 2018) with automatic temperature tuning.

    Training keys beyond the off-policy ones: ``actor_lr``, ``critic_lr``, ``alpha_lr``
    (each a number or a schedule), ``initial_alpha`` (the temperature at the start),
    ``target_entropy`` (``"auto"``: ``-dim(A)`` on the unit box, see
    :func:`~rlmodules.algorithms.sac_math.target_entropy_auto`; or a number), ``twin_q``
    (two Q-functions; also goes to the module's model config). Targets follow the
    Q-functions by Polyak averaging with ``tau`` after every gradient step
    (``target_network_update_freq`` 0). Until learning starts, actions are uniform.

    Example::

        algo = SACConfig().environment("Pendulum-v1").training(actor_lr=1e-3).build()
    """

    training_defaults = {
        **_OFF_POLICY,
        "train_batch_size": 256,
        "num_steps_sampled_before_learning_starts": 100,
        "actor_lr": 3e-4,
        "critic_lr": 3e-4,
        "alpha_lr": 3e-4,
        "initial_alpha": 1.0,
        "target_entropy": "auto",
        "twin_q": True,
    }
    algo_class_path = "rlmodules.algorithms.sac:SAC"

    def validate(self) -> None:
        super().validate()
        t = self.training_settings
        for key in ("actor_lr", "critic_lr", "alpha_lr"):
            _check_schedule(key, t[key], positive=True)
        _check_number("initial_alpha", t["initial_alpha"], 0.0, math.inf, open_low=True)
        target = t["target_entropy"]
        if target != "auto" and (isinstance(target, bool)
                                 or not isinstance(target, (int, float))):
            raise ConfigError(f"target_entropy must be 'auto' or a number, got {target!r}")
        if not isinstance(t["twin_q"], bool):
            raise ConfigError(f"twin_q must be True or False, got {t['twin_q']!r}")

    def model_config_overrides(self) -> dict[str, Any]:
        return {"twin_q": self.training_settings["twin_q"]}


def merged_model_config(config: OffPolicyConfig, given: Mapping[str, Any] | Any | None,
                        accepts: Any) -> dict[str, Any]:
    """``given`` (a model config or None) with the config's module keys added; keys a
    module's config class does not have (``accepts(key)`` False) are left out."""
    data = dict(given.to_dict() if hasattr(given, "to_dict") else (given or {}))
    data.update({k: v for k, v in config.model_config_overrides().items() if accepts(k)})
    return data


def check_replay_buffer_config(config: Any) -> None:
    """``{"type": "uniform" | "prioritized", "capacity": int}``, prioritized also taking
    ``alpha`` (priority exponent) and ``beta`` (importance-weight exponent)."""
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"replay_buffer_config must be a dict such as {{'type': 'uniform', 'capacity': "
            f"100000}}, got {config!r}"
        )
    kind = config.get("type", "uniform")
    if kind not in BUFFER_KEYS:
        raise ConfigError(
            f"replay_buffer_config type {kind!r} is not known; use one of {sorted(BUFFER_KEYS)}"
        )
    extra = sorted(set(config) - set(BUFFER_KEYS[kind]))
    if extra:
        raise ConfigError(
            f"replay_buffer_config has unknown keys {extra} for type {kind!r}; it takes "
            f"{', '.join(BUFFER_KEYS[kind])}"
        )
    if "capacity" in config:
        _check_int("replay_buffer_config capacity", config["capacity"], minimum=1)
    for key in ("alpha", "beta"):
        if key in config:
            _check_number(f"replay_buffer_config {key}", config[key], 0.0, math.inf)
