"""The accelerator flags of ``rlmodules train``: ``--device``, ``--precision``,
``--compile`` and ``--env-backend``, as config sections (they also change a resumed run)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_accel_flags", "accel_settings", "evaluation_device"]

DEVICES = ("cpu", "cuda", "auto")


def add_accel_flags(parser: Any) -> None:
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help="where the learner trains: cpu (default), cuda (a GPU; samplers "
                             "act on the CPU with a synced copy), or auto (cuda if available)")
    parser.add_argument("--precision", default=None,
                        choices=("32-true", "bf16-mixed", "16-mixed", "auto"),
                        help="learner precision (default 32-true; bf16-mixed on CPUs with "
                             "AMX / AVX512-BF16 and GPUs; 16-mixed on GPUs; auto: bf16 where "
                             "it measures faster)")
    parser.add_argument("--compile", action="store_true", default=None,
                        help="torch.compile the learner update and the acting forward")
    parser.add_argument("--env-backend", choices=("gymnasium", "envpool"), default=None,
                        help="envpool: EnvPool's Atari and MuJoCo envs (rlmodules[envpool])")


def accel_settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The config sections the flags set (only flags that were given)."""
    learners: dict[str, Any] = {}
    if args.device is not None:
        learners["num_gpus_per_learner"] = 1 if _wants_gpu(args.device) else 0
    if args.precision is not None:
        learners["precision"] = args.precision
    framework = {"torch_compile_learner": True, "torch_compile_worker": True} \
        if args.compile else {}
    runners = {} if args.env_backend is None else {"env_backend": args.env_backend}
    return {section: values for section, values in (
        ("learners", learners), ("framework", framework), ("env_runners", runners)) if values}


def evaluation_device(device: str | None) -> dict[str, Any]:
    """``learners()`` settings for ``rlmodules eval``: the CPU in fp32 unless ``--device``
    asks otherwise, so a checkpoint trained on a GPU or in bf16 evaluates anywhere."""
    gpus = 1 if device is not None and _wants_gpu(device) else 0
    return {"num_gpus_per_learner": gpus, "precision": "32-true"}


def _wants_gpu(device: str) -> bool:
    if device == "auto":
        import torch

        return bool(torch.cuda.is_available())
    return device == "cuda"
