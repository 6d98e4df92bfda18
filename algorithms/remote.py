"""What env runners and learners share to run as Ray actors: connecting to Ray, shipping a
module to another process, and moving tensor trees as numpy arrays.

A module travels as the files of its own checkpoint: the receiving process rebuilds it with
``RLModule.from_checkpoint``, so classes are resolved by registered name through that
process's registry (a missing plugin is the checkpoint loader's error naming the
distribution to install) and nothing is unpickled. Importing this module does not import
Ray; :func:`require_ray` does.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rlmodules.errors import ConfigError

from .rollout import tree_map

__all__ = ["START_TIMEOUT_S", "require_ray", "connect_ray", "check_cluster_cpus", "not_started",
           "module_files", "module_from_files", "to_numpy", "to_torch"]

#: Seconds actors may take to start (import torch, build envs and modules) before that is an
#: error (e.g. a cluster without the CPUs they ask for).
START_TIMEOUT_S = 120.0


def require_ray(what: str) -> Any:
    """The ``ray`` package, or a ``ConfigError`` naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"{what} run as Ray actors, and Ray is not installed; install the extra with "
            f"`pip install \"rlmodules[ray]\"` (or set it to 0 to run in this process)"
        ) from None
    return ray


def connect_ray(what: str, address: str | None) -> Any:
    """Ray, connected: the running instance if this process has one, else ``ray.init``
    with ``address`` (None: ``RAY_ADDRESS`` if set, else a local instance with this
    machine's CPUs; "auto": the cluster this machine belongs to)."""
    ray = require_ray(what)
    if not ray.is_initialized():
        ray.init(address=address)
    return ray


def check_cluster_cpus(ray: Any, config: Any) -> None:
    """Raise a ``ConfigError`` at once when the env runners and learner actors ``config``
    asks for need more CPUs than the Ray cluster has in all (they would wait for them)."""
    runners, learners = config.env_runner_settings, config.learner_settings
    parts = []
    if runners["num_env_runners"]:
        parts.append((f"num_env_runners={runners['num_env_runners']} x "
                      f"num_cpus_per_env_runner={runners['num_cpus_per_env_runner']:g}",
                      runners["num_env_runners"] * runners["num_cpus_per_env_runner"]))
    if learners["num_learners"] >= 2:
        parts.append((f"num_learners={learners['num_learners']} x "
                      f"num_cpus_per_learner={learners['num_cpus_per_learner']:g}",
                      learners["num_learners"] * learners["num_cpus_per_learner"]))
    needed = sum(cpus for _, cpus in parts)
    total = ray.cluster_resources().get("CPU", 0)
    if needed > total:
        raise ConfigError(
            f"{' and '.join(what for what, _ in parts)} need {needed:g} CPUs, and the Ray "
            f"cluster has {total:g} in all; ask for fewer actors or fewer CPUs each (e.g. "
            f"num_cpus_per_env_runner=0.5), or join a larger cluster (ray_address)"
        )


def not_started(ray: Any, what: str, timeout_s: float, cpus_setting: str, cpus: float) -> str:
    """Why actors may not have started in time: the CPUs they ask for and the cluster's."""
    total = ray.cluster_resources().get("CPU", 0)
    return (f"{what} did not start within {timeout_s:g} s; they need {cpus_setting}="
            f"{cpus:g} each and the Ray cluster has {total:g} CPUs in all. Ask for fewer "
            f"actors or CPUs")


def module_files(module: Any) -> dict[str, bytes]:
    """The checkpoint files of ``module`` as ``{relative path: bytes}``."""
    folder = Path(tempfile.mkdtemp(prefix="rlmodules-ship-"))
    try:
        root = Path(module.save_to_path(folder / "module"))
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def module_from_files(files: dict[str, bytes], *, inference_only: bool) -> Any:
    """Rebuild a module shipped by :func:`module_files` (through the registry)."""
    from rlmodules.rl_module import RLModule

    folder = Path(tempfile.mkdtemp(prefix="rlmodules-ship-"))
    try:
        for name, data in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return RLModule.from_checkpoint(folder, inference_only=inference_only)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def to_numpy(tree: Any) -> Any:
    """Tensors to numpy arrays (Ray moves those without copies)."""
    return tree_map(lambda x: x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x,
                    tree)


def to_torch(tree: Any) -> Any:
    """Numpy arrays (possibly read-only views of Ray's object store) to tensors they own."""
    return tree_map(lambda x: torch.from_numpy(np.array(x)) if isinstance(x, np.ndarray) else x,
                    tree)
