"""The checks of the accelerator settings: devices, precision, compiling, the env backend.

Every combination that cannot run is a ``ConfigError`` at ``build()`` that says what would
(a GPU asked for where CUDA is missing, bf16 on a CPU without bf16 hardware, an env EnvPool
does not ship, ...). Importing this module does not import torch; the checks that need the
hardware import it when they run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlmodules.errors import ConfigError

from .config_checks import _check_number

__all__ = ["check_accel_settings", "ENV_BACKENDS"]

ENV_BACKENDS = ("gymnasium", "envpool")


def check_accel_settings(config: Any) -> None:
    """Raise a ``ConfigError`` for accelerator settings of ``config`` that cannot run here."""
    _check_framework(config.framework_settings)
    runners, learners = config.env_runner_settings, config.learner_settings
    _check_number("num_gpus_per_learner", learners["num_gpus_per_learner"], 0.0, 1.0)
    _check_number("num_gpus_per_env_runner", runners["num_gpus_per_env_runner"], 0.0, 1.0)
    from .devices import acting_device, learner_device
    from .precision import check_precision

    if learners["num_learners"] >= 2 and learners["num_gpus_per_learner"] > 0:
        # GPU learner actors check their own device where they run (the driver may have none).
        check_precision(learners["precision"], None)
    else:
        check_precision(learners["precision"], learner_device(config))
    if runners["num_gpus_per_env_runner"] > 0:
        if runners["num_env_runners"]:
            raise ConfigError(
                "num_gpus_per_env_runner > 0 makes the sampler in the training process act "
                "on a GPU; env runner actors (num_env_runners >= 1) act on CPUs. Set "
                "num_gpus_per_env_runner=0 or num_env_runners=0"
            )
        acting_device(config)
    _check_env_backend(config)


def _check_framework(settings: Mapping[str, Any]) -> None:
    from .compiling import DYNAMO_MODES

    if settings["framework"] != "torch":
        raise ConfigError(
            f"framework={settings['framework']!r}: rlmodules trains with PyTorch only; use "
            f"framework='torch' (or leave it out)"
        )
    for who in ("learner", "worker"):
        flag = settings[f"torch_compile_{who}"]
        if not isinstance(flag, bool):
            raise ConfigError(f"torch_compile_{who} must be True or False, got {flag!r}")
        mode = settings[f"torch_compile_{who}_dynamo_mode"]
        if mode not in DYNAMO_MODES:
            raise ConfigError(
                f"torch_compile_{who}_dynamo_mode={mode!r} is not a torch.compile mode; use "
                f"one of {DYNAMO_MODES}"
            )
        backend = settings[f"torch_compile_{who}_dynamo_backend"]
        if not isinstance(backend, str) or not backend:
            raise ConfigError(
                f"torch_compile_{who}_dynamo_backend must name a torch.compile backend such "
                f"as 'inductor', got {backend!r}"
            )


def _check_env_backend(config: Any) -> None:
    backend = config.env_runner_settings["env_backend"]
    if backend not in ENV_BACKENDS:
        raise ConfigError(
            f"env_backend={backend!r} is not known; use 'gymnasium' (the default) or "
            f"'envpool' (EnvPool's Atari and MuJoCo envs)"
        )
    if backend == "envpool":
        from rlmodules.envs.envpool_env import envpool_task

        envpool_task(_resolved_env(config.env), config.env_config)


def _resolved_env(env: Any) -> Any:
    """An env class named by import path, as the env creator resolves it."""
    if isinstance(env, str) and ":" in env:
        from .env_creation import _env_named

        return _env_named(env)
    return env
