"""AlgorithmConfig: the base of the seeds' builder-style algorithm configurations.

Every builder method returns ``self`` so calls chain; settings are keyword-only and an
unknown one is a ``ConfigError`` with a did-you-mean. A config is plain data: ``to_dict()``
gives JSON (env classes, factories and module classes by registered name or import path)
and ``from_dict()`` reads it back (:mod:`~rlmodules.algorithms.config_data`). Families add
their training keys and checks: the on-policy one (``OnPolicyConfig``: PPO, BC) and the
off-policy one (``OffPolicyConfig``: DQN, SAC). Importing this module does not import torch.
"""

from __future__ import annotations

import copy
import importlib
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from rlmodules.errors import ConfigError
from rlmodules.model_config import DefaultModelConfig

from .config_checks import _check_int, _check_number, _update
from .config_data import config_from_dict, config_to_dict, update_config

__all__ = ["AlgorithmConfig"]

_REMOVAL = "0.4.0"

#: Env-runner settings and their defaults.
_ENV_RUNNERS: dict[str, Any] = {
    "num_envs_per_env_runner": 1,
    "gym_env_vectorize_mode": "sync",
    "num_threads": None,
    # Scaling out (Ray actors): 0 samples in the training process.
    "num_env_runners": 0,
    "num_cpus_per_env_runner": 1,
    "restart_failed_env_runners": True,
    "max_num_env_runner_restarts": 1000,
    "sample_timeout_s": 60.0,
    "ray_address": None,
    # RLlib's name: "MeanStdFilter" normalises observations by running mean and std.
    "observation_filter": "NoFilter",
}
#: Learner settings and their defaults (``num_learners >= 2``: data-parallel Ray actors).
_LEARNERS: dict[str, Any] = {
    "num_learners": 0,
    "num_cpus_per_learner": 1,
    "num_gpus_per_learner": 0,
}
#: Settings every algorithm's ``training()`` accepts; each family adds its own and its
#: defaults (``train_batch_size`` is the env steps of an on-policy iteration, the replayed
#: transitions of an off-policy gradient step).
_TRAINING: dict[str, Any] = {
    "gamma": 0.99,
    "train_batch_size": 2048,
    "grad_clip": None,
}
_EVALUATION: dict[str, Any] = {
    "evaluation_interval": None,
    "evaluation_duration": 10,
    "evaluation_explore": False,
    # RLlib's overrides for evaluation; here {"env_config": {...}}, merged over env_config.
    "evaluation_config": None,
}
_VECTORIZE_MODES = ("sync", "async", "vector_entry_point")


class AlgorithmConfig:
    """Builder of an algorithm's settings; families add training keys and checks, and each
    algorithm's config its ``algo_class_path``.

    Example::

        config = (
            PPOConfig()
            .environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=8)
            .training(lr=1e-3, train_batch_size=256)
            .rl_module(model_config={"fcnet_hiddens": [64, 64]})
            .debugging(seed=0)
        )
        algo = config.build()
        print(algo.train()["episode_return_mean"])
    """

    #: Training keys and defaults of this algorithm (families extend the base's).
    training_defaults: dict[str, Any] = _TRAINING
    #: ``"pkg.mod:Class"`` of the Algorithm that ``build()`` makes.
    algo_class_path: str | None = None

    def __init__(self) -> None:
        self.env: Any = None
        self.env_config: dict[str, Any] = {}
        self.env_runner_settings: dict[str, Any] = dict(_ENV_RUNNERS)
        self.training_settings: dict[str, Any] = copy.deepcopy(self.training_defaults)
        self.evaluation_settings: dict[str, Any] = dict(_EVALUATION)
        self.learner_settings: dict[str, Any] = dict(_LEARNERS)
        self.rl_module_spec: Any = None
        self.model_config_setting: DefaultModelConfig | dict[str, Any] | None = None
        self.policies: Any = None
        self.policy_mapping_fn: Callable[..., Any] | None = None
        self.seed: int | None = None

    # --- builder methods ------------------------------------------------------------------
    def environment(self, env: Any = None, *, env_config: Mapping[str, Any] | None = None
                    ) -> AlgorithmConfig:
        """The env: a gymnasium id, an env class, or a factory (see :func:`make_env_creator`)."""
        if env is not None:
            if not (isinstance(env, str) or callable(env)):
                raise ConfigError(
                    f"environment(env=...) needs a gymnasium id such as 'CartPole-v1', an env "
                    f"class or a factory function, got {type(env).__name__}: {env!r}"
                )
            self.env = env
        if env_config is not None:
            if not isinstance(env_config, Mapping):
                raise ConfigError(
                    f"environment(env_config=...) must be a dict, got {type(env_config).__name__}"
                )
            self.env_config = dict(env_config)
        return self

    def env_runners(self, **settings: Any) -> AlgorithmConfig:
        """Sampling: ``num_envs_per_env_runner``, ``gym_env_vectorize_mode`` (gymnasium's
        modes: "sync", "async", or "vector_entry_point" for an env id that registers its own
        vectorised implementation, e.g. CartPole-v1), ``num_threads`` (torch intra-op
        threads; None leaves torch's setting), ``observation_filter`` ("NoFilter", or
        "MeanStdFilter": observations normalised by a running mean and std that the
        checkpoint keeps and evaluation applies, see
        :mod:`rlmodules.algorithms.obs_normalization`).

        Scaling out: ``num_env_runners`` (N >= 1 samples in N Ray actors, each with
        ``num_envs_per_env_runner`` envs and ``num_cpus_per_env_runner`` CPUs),
        ``restart_failed_env_runners``, ``max_num_env_runner_restarts`` (per runner),
        ``sample_timeout_s`` (a runner silent that long counts as failed), ``ray_address``
        (None starts Ray locally unless ``RAY_ADDRESS`` is set; "auto" joins a cluster)."""
        _update(self.env_runner_settings, settings, "env_runners")
        return self

    def learners(self, **settings: Any) -> AlgorithmConfig:
        """``num_learners`` (K >= 2 runs K data-parallel learner actors in one
        torch.distributed group; 0 or 1 learns in the training process),
        ``num_cpus_per_learner``, ``num_gpus_per_learner`` (0: learners train on CPUs)."""
        _update(self.learner_settings, settings, "learners")
        return self

    def training(self, **settings: Any) -> AlgorithmConfig:
        """Learning hyper-parameters; see ``training_defaults`` for the keys and defaults."""
        _update(self.training_settings, settings, "training")
        return self

    def evaluation(self, **settings: Any) -> AlgorithmConfig:
        """``evaluation_interval`` (iterations; None = only on ``evaluate()``),
        ``evaluation_duration`` (episodes), ``evaluation_explore``, ``evaluation_config``
        (``{"env_config": {...}}``: settings merged over ``env_config`` for the evaluation
        envs, e.g. ``{"training": False}`` for an Atari game's true scores)."""
        _update(self.evaluation_settings, settings, "evaluation")
        return self

    def rl_module(
        self,
        *,
        rl_module_spec: Any = None,
        model_config: Mapping[str, Any] | DefaultModelConfig | None = None,
        model_config_dict: Mapping[str, Any] | DefaultModelConfig | None = None,
    ) -> AlgorithmConfig:
        """The module: an ``RLModuleSpec`` / ``MultiRLModuleSpec`` (unset spaces come from
        the env; unset ``module_class`` is the algorithm's default) and/or its model config."""
        if model_config_dict is not None:
            warnings.warn(
                f"rl_module(model_config_dict=...) is deprecated and will be removed in "
                f"rlmodules {_REMOVAL}; use model_config=...",
                DeprecationWarning,
                stacklevel=2,
            )
            if model_config is not None:
                raise ConfigError(
                    "rl_module got both model_config and its deprecated alias "
                    "model_config_dict; pass only model_config"
                )
            model_config = model_config_dict
        if rl_module_spec is not None:
            from rlmodules.specs import MultiRLModuleSpec, RLModuleSpec

            if not isinstance(rl_module_spec, (RLModuleSpec, MultiRLModuleSpec)):
                raise ConfigError(
                    "rl_module(rl_module_spec=...) needs an RLModuleSpec or a MultiRLModuleSpec, "
                    f"got {type(rl_module_spec).__name__}"
                )
            self.rl_module_spec = rl_module_spec
        if model_config is not None:
            if not isinstance(model_config, (Mapping, DefaultModelConfig)):
                raise ConfigError(
                    "rl_module(model_config=...) must be a dict or a DefaultModelConfig, "
                    f"got {type(model_config).__name__}"
                )
            self.model_config_setting = model_config
        return self

    def multi_agent(
        self,
        *,
        policies: Any = None,
        policy_mapping_fn: Callable[..., Any] | None = None,
    ) -> AlgorithmConfig:
        """Module ids (``policies``) and ``policy_mapping_fn(agent_id, episode, **kw)``."""
        if policies is not None:
            self.policies = policies
        if policy_mapping_fn is not None:
            if not callable(policy_mapping_fn):
                raise ConfigError(
                    "multi_agent(policy_mapping_fn=...) must be callable as "
                    f"fn(agent_id, episode, **kwargs), got {policy_mapping_fn!r}"
                )
            self.policy_mapping_fn = policy_mapping_fn
        return self

    def debugging(self, *, seed: int | None = None) -> AlgorithmConfig:
        """``seed`` makes sampling, initial weights and minibatch order reproducible."""
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise ConfigError(f"debugging(seed=...) must be a non-negative int, got {seed!r}")
        self.seed = seed
        return self

    def api_stack(
        self,
        *,
        enable_rl_module_and_learner: bool = True,
        enable_env_runner_and_connector_v2: bool = True,
    ) -> AlgorithmConfig:
        """Accepted for RLlib compatibility; only the new API stack exists here."""
        for name, value in (
            ("enable_rl_module_and_learner", enable_rl_module_and_learner),
            ("enable_env_runner_and_connector_v2", enable_env_runner_and_connector_v2),
        ):
            if value is not True:
                raise ConfigError(
                    f"api_stack({name}={value!r}): rlmodules only has RLlib's new API stack "
                    f"(RLModules and Learners); leave it True or drop the api_stack() call"
                )
        return self

    # --- views -----------------------------------------------------------------------------
    @property
    def model_config(self) -> DefaultModelConfig | dict[str, Any]:
        """The model config the module gets: a ``DefaultModelConfig`` unless a plain dict
        was given for a custom module (so ``config.model_config | {...}`` works)."""
        given = self.model_config_setting
        if given is None:
            return DefaultModelConfig()
        if isinstance(given, DefaultModelConfig):
            return given
        try:
            return DefaultModelConfig.from_dict(given)
        except ConfigError:
            return dict(given)  # a custom module's own keys

    @property
    def evaluation_env_config(self) -> dict[str, Any]:
        """``env_config`` with ``evaluation_config``'s ``env_config`` merged over it."""
        overrides = (self.evaluation_settings["evaluation_config"] or {}).get("env_config")
        return {**self.env_config, **(overrides or {})}

    @property
    def num_envs(self) -> int:
        return int(self.env_runner_settings["num_envs_per_env_runner"])

    @property
    def num_sampling_envs(self) -> int:
        """Env copies stepped per iteration over all env runners."""
        return max(1, int(self.env_runner_settings["num_env_runners"])) * self.num_envs

    def __getattr__(self, name: str) -> Any:
        # config.lr, config.gamma, ...: read any setting as an attribute, as in RLlib.
        for section in ("training_settings", "env_runner_settings", "evaluation_settings",
                        "learner_settings"):
            settings = self.__dict__.get(section)
            if settings is not None and name in settings:
                return settings[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def copy(self) -> AlgorithmConfig:
        return copy.deepcopy(self)

    # --- validation and build -----------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ConfigError`` for settings that cannot work together (families add
        their checks after these)."""
        if self.env is None:
            raise ConfigError(
                "no environment: call .environment('CartPole-v1') (a gymnasium id, an env "
                "class or a factory)"
            )
        _check_int("num_envs_per_env_runner", self.num_envs, minimum=1)
        mode = self.env_runner_settings["gym_env_vectorize_mode"]
        if mode not in _VECTORIZE_MODES:
            raise ConfigError(
                f"gym_env_vectorize_mode={mode!r} is not known; use one of {_VECTORIZE_MODES}"
            )
        threads = self.env_runner_settings["num_threads"]
        if threads is not None:
            _check_int("num_threads", threads, minimum=1)
        obs_filter = self.env_runner_settings["observation_filter"]
        if obs_filter not in ("NoFilter", "MeanStdFilter"):
            raise ConfigError(
                f"observation_filter={obs_filter!r} is not known; use 'NoFilter' or "
                f"'MeanStdFilter' (running mean/std normalisation)"
            )
        t = self.training_settings
        _check_int("train_batch_size", t["train_batch_size"], minimum=1)
        _check_number("gamma", t["gamma"], 0.0, 1.0)
        if t["grad_clip"] is not None:
            _check_number("grad_clip", t["grad_clip"], 0.0, math.inf, open_low=True)
        _check_int("evaluation_duration", self.evaluation_settings["evaluation_duration"],
                   minimum=1)
        interval = self.evaluation_settings["evaluation_interval"]
        if interval is not None:
            _check_int("evaluation_interval", interval, minimum=1)
        overrides = self.evaluation_settings["evaluation_config"]
        if overrides is not None and (
                not isinstance(overrides, Mapping) or set(overrides) - {"env_config"}
                or not isinstance(overrides.get("env_config", {}), Mapping)):
            raise ConfigError(
                f"evaluation_config must be None or {{'env_config': {{...}}}} (settings merged "
                f"over env_config for the evaluation envs), got {overrides!r}"
            )

    def build(self) -> Any:
        """Validate and build the algorithm (``build_algo`` is the same)."""
        self.validate()
        if self.algo_class_path is None:
            raise ConfigError(
                f"{type(self).__name__} does not name an algorithm; use PPOConfig (or another "
                f"algorithm's config) to build one"
            )
        module_name, _, attr = self.algo_class_path.partition(":")
        algo_class = getattr(importlib.import_module(module_name), attr)
        return algo_class(self.copy())

    build_algo = build

    # --- plain data -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data. Callables that cannot be imported by name (lambdas, locals) are
        written as ``None`` and listed under ``"not_serialised"``."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, allow_import: bool = False) -> AlgorithmConfig:
        """Rebuild from :meth:`to_dict` output.

        Env classes and factories named by import path are only taken from modules the program
        has already imported, unless ``allow_import=True`` (do that for files you trust).
        """
        from rlmodules.registry import untrusted_input

        with untrusted_input("an algorithm config's data", allow_import=allow_import):
            return config_from_dict(cls(), data)

    def update_from_dict(self, settings: Mapping[str, Any]) -> AlgorithmConfig:
        """Apply flat or sectioned settings, as read from a TOML/JSON file.

        Sections are the builder methods (``[training]``, ``[env_runners]``, ``[evaluation]``,
        ``[rl_module]`` with ``model_config`` / ``module_class``, ``[environment]`` with
        ``env`` / ``env_config``, ``[debugging]``).
        """
        return update_config(self, settings)
