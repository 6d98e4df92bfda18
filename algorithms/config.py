"""The on-policy config family: :class:`OnPolicyConfig` (PPO, BC) and :class:`PPOConfig`.

An on-policy iteration samples ``train_batch_size`` env steps (or, for BC, recorded steps)
and makes ``num_epochs`` passes of ``minibatch_size`` minibatches over them; sampling and
learning scale out (``num_env_runners``, ``num_learners``). ``AlgorithmConfig``, the base
of every family, lives in :mod:`~rlmodules.algorithms.algorithm_config` and is importable
from here too. Checkpoints record configs by class path (``rlmodules.algorithms.config:
PPOConfig``), so PPOConfig stays in this module. Importing it does not import torch.
"""

from __future__ import annotations

import math
from typing import Any

from rlmodules.errors import ConfigError

from .algorithm_config import AlgorithmConfig
from .config_checks import _check_int, _check_number, _check_scaling, _check_schedule

__all__ = ["AlgorithmConfig", "OnPolicyConfig", "PPOConfig"]

#: On-policy training keys: the base's, plus minibatch epochs over each sampled batch.
_ON_POLICY: dict[str, Any] = {
    "lr": 3e-4,
    **AlgorithmConfig.training_defaults,
    "minibatch_size": 64,
    "num_epochs": 10,
    "grad_clip": 0.5,
}


class OnPolicyConfig(AlgorithmConfig):
    """Settings shared by PPO and BC: ``lr`` (a number or a schedule), ``train_batch_size``
    (env steps per iteration over all env runners), ``minibatch_size``, ``num_epochs``, and
    the scaling settings of ``env_runners()`` and ``learners()``."""

    training_defaults = _ON_POLICY

    def validate(self) -> None:
        """The base's checks, then batching and ``lr``: every env steps equally, minibatches
        fit the batch, and the scaling settings."""
        super().validate()
        t = self.training_settings
        _check_int("minibatch_size", t["minibatch_size"], minimum=1)
        _check_int("num_epochs", t["num_epochs"], minimum=1)
        _check_scaling(self.env_runner_settings, self.learner_settings)
        envs = self.num_sampling_envs
        if t["train_batch_size"] % envs:
            runners = self.env_runner_settings["num_env_runners"]
            over = f" x num_env_runners={runners}" if runners > 1 else ""
            raise ConfigError(
                f"train_batch_size={t['train_batch_size']} is not a multiple of "
                f"num_envs_per_env_runner={self.num_envs}{over}; every env steps the same "
                f"number of times per iteration, e.g. train_batch_size="
                f"{max(1, t['train_batch_size'] // envs) * envs}"
            )
        if t["minibatch_size"] > t["train_batch_size"]:
            raise ConfigError(
                f"minibatch_size={t['minibatch_size']} is larger than "
                f"train_batch_size={t['train_batch_size']}; use minibatch_size <= train_batch_size"
            )
        _check_schedule("lr", t["lr"], positive=True)


class PPOConfig(OnPolicyConfig):
    """Configuration of PPO (clipped surrogate objective, GAE, minibatch epochs).

    Training keys beyond the base: ``lambda_`` (GAE), ``clip_param``, ``vf_clip_param``
    (None, or a cap on each sample's squared value error as in RLlib), ``entropy_coeff``,
    ``vf_loss_coeff``, ``normalize_advantages``. ``lr``, ``clip_param`` and
    ``entropy_coeff`` take a number or a schedule ``[[timestep, value], ...]`` (linear in
    between). With a stateful module, ``minibatch_size`` counts timesteps of
    ``max_seq_len``-long chunks. A module without ``compute_values`` trains with a zero
    baseline (advantages are lambda-discounted returns) and no value loss.

    Example::

        algo = PPOConfig().environment("CartPole-v1").training(lr=1e-3, lambda_=0.8).build()
    """

    training_defaults = {
        **_ON_POLICY,
        "lambda_": 0.95,
        "clip_param": 0.2,
        "vf_clip_param": None,
        "entropy_coeff": 0.0,
        "vf_loss_coeff": 0.5,
        "normalize_advantages": True,
    }
    algo_class_path = "rlmodules.algorithms.ppo:PPO"

    def validate(self) -> None:
        super().validate()
        t = self.training_settings
        _check_number("lambda_", t["lambda_"], 0.0, 1.0)
        _check_schedule("clip_param", t["clip_param"], positive=True)
        _check_schedule("entropy_coeff", t["entropy_coeff"], positive=False)
        _check_number("vf_loss_coeff", t["vf_loss_coeff"], 0.0, math.inf)
        if t["vf_clip_param"] is not None:
            _check_number("vf_clip_param", t["vf_clip_param"], 0.0, math.inf, open_low=True)
        if not isinstance(t["normalize_advantages"], bool):
            raise ConfigError(
                f"normalize_advantages must be True or False, got {t['normalize_advantages']!r}"
            )
