"""Whole-algorithm checkpoints: config JSON, module, optimizer state, counters, RNG states.

Layout (format version 1)::

    algorithm_state.json               config, counters, RNG states, tensor-file entries
    learner_group/learner/rl_module/   the MultiRLModule's own checkpoint
    optimizer.safetensors              per-parameter optimizer tensors (by parameter name)
    rng.safetensors                    torch RNG states
    offpolicy.safetensors              off-policy algorithms: the replay buffer (see "extra")

Nothing is unpickled; tensor files are checksummed; the directory is written beside its
target and swapped in, so a crash mid-save leaves the previous checkpoint intact. Envs are
not saved: a restored run starts fresh episodes (reseeded from the saved counters).
"""

from __future__ import annotations

import collections
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from rlmodules._atomic import atomic_directory
from rlmodules._tensor_file import read_tensor_file, write_tensor_file
from rlmodules.errors import CheckpointError

from .algorithm import MODULE_COMPONENT
from .config import AlgorithmConfig, _is_import_path, _resolve_import_path

if TYPE_CHECKING:
    from .algorithm import Algorithm

__all__ = ["save_algorithm", "restore_algorithm", "restore_component", "load_algorithm",
           "saved_config"]

FORMAT = "rlmodules.algorithm"
VERSION = 1
STATE_FILE = "algorithm_state.json"


def save_algorithm(algo: Algorithm, path: str | Path | None) -> Path:
    target = Path(tempfile.mkdtemp(prefix="rlmodules-algo-")) if path is None else Path(path)
    with atomic_directory(target, marker_file=STATE_FILE) as staging:
        algo.module.save_to_path(staging / MODULE_COMPONENT)
        opt_tensors, opt_data = algo.learner.get_optimizer_state()
        rng = {"torch_global": torch.get_rng_state(), "learner": algo.torch_generator.get_state()}
        state = {
            "format": FORMAT,
            "version": VERSION,
            "algorithm_class": f"{type(algo).__module__}:{type(algo).__qualname__}",
            "config": algo.config.to_dict(),
            "iteration": algo.iteration,
            "timesteps": algo.timesteps,
            "episodes": algo.episodes,
            "recent_returns": list(algo.recent_returns),
            "recent_lengths": list(algo.recent_lengths),
            "numpy_rng": algo.np_random.bit_generator.state,
            "optimizer": opt_data,
            "extra": algo.save_extra_state(staging),
            "tensor_files": {
                "optimizer": write_tensor_file(staging, "optimizer", opt_tensors),
                "rng": write_tensor_file(staging, "rng", rng),
            },
        }
        (staging / STATE_FILE).write_text(json.dumps(state, indent=1))
    return target.expanduser().absolute()


def _read_state(path: Path) -> dict[str, Any]:
    state_file = path / STATE_FILE
    if not state_file.is_file():
        what = "does not exist" if not path.exists() else f"has no {STATE_FILE}"
        raise CheckpointError(
            f"{path} is not an algorithm checkpoint (it {what}); pass the directory "
            f"save_to_path() wrote, or a module checkpoint with component="
            f"'{MODULE_COMPONENT}/<module_id>'"
        )
    try:
        state = json.loads(state_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{state_file} is corrupted: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{state_file} is not a {FORMAT!r} file")
    if not isinstance(state.get("version"), int) or state["version"] > VERSION:
        raise CheckpointError(
            f"{state_file} has format version {state.get('version')!r}; this rlmodules reads "
            f"versions up to {VERSION} (upgrade rlmodules to read it)"
        )
    return state


def restore_algorithm(algo: Algorithm, path: str | Path) -> None:
    path = Path(path)
    state = _read_state(path)
    optimizer = read_tensor_file(path, state["tensor_files"]["optimizer"])
    rng = read_tensor_file(path, state["tensor_files"]["rng"])
    algo.module.restore_from_path(path / MODULE_COMPONENT)
    algo.learner.set_optimizer_state(optimizer, state["optimizer"])
    torch.set_rng_state(rng["torch_global"])
    algo.torch_generator.set_state(rng["learner"])
    algo.np_random.bit_generator.state = state["numpy_rng"]
    algo.iteration = state["iteration"]
    algo.timesteps = state["timesteps"]
    algo.episodes = state["episodes"]
    window = algo.recent_returns.maxlen
    algo.recent_returns = collections.deque(state["recent_returns"], maxlen=window)
    algo.recent_lengths = collections.deque(state["recent_lengths"], maxlen=window)
    algo.restore_extra_state(path, state.get("extra", {}))
    # Fresh episodes, seeded from the restored counters so a resumed run is reproducible.
    algo.sampler.close()
    seed = None if algo.config.seed is None else algo.config.seed + algo.iteration
    algo.sampler = algo._new_sampler(explore=True, env_seed=seed)


def restore_component(algo: Algorithm, path: str | Path, component: str) -> None:
    parts = component.strip("/").split("/")
    base = MODULE_COMPONENT.split("/")
    if parts == base:
        algo.module.restore_from_path(path)
        return
    if parts[:-1] == base:
        module_id = parts[-1]
        if module_id not in algo.module:
            raise CheckpointError(
                f"component {component!r} names module id {module_id!r}, but this algorithm "
                f"has {algo.module.keys()}"
            )
        algo.module[module_id].restore_from_path(path)
        return
    raise CheckpointError(
        f"unknown component {component!r}; use {MODULE_COMPONENT!r} for a MultiRLModule "
        f"checkpoint or '{MODULE_COMPONENT}/<module_id>' for one module's checkpoint"
    )


def saved_env(path: str | Path, *, allow_import: bool = False) -> tuple[str, dict[str, Any]]:
    """The env (a gymnasium id or an import path) and ``env_config`` the algorithm
    checkpoint at ``path`` was trained with. An import path is accepted only if this program
    already imported its module (or with ``allow_import``), as for :func:`saved_config`."""
    data = _read_state(Path(path))["config"]
    env = data.get("env")
    if not isinstance(env, str):
        raise CheckpointError(
            f"the algorithm checkpoint {path} holds no env name (its env was a lambda or a "
            f"local function, which cannot be saved); name the env yourself: a gymnasium id "
            f"or an import path 'pkg.mod:Name'"
        )
    if _is_import_path(env):
        _resolve_import_path(env, "env", allow_import)
    return env, dict(data.get("env_config") or {})


def saved_config(path: str | Path, *, allow_import: bool = False) -> AlgorithmConfig:
    """The config stored in the algorithm checkpoint at ``path``."""
    path = Path(path)
    data = _read_state(path)["config"]
    config_ref = data.get("config_class", "")
    config_class = _resolve_import_path(
        config_ref, "config class", allow_import or config_ref.startswith("rlmodules.")
    )
    if not (isinstance(config_class, type) and issubclass(config_class, AlgorithmConfig)):
        raise CheckpointError(f"{config_ref!r} in {path} is not an AlgorithmConfig class")
    missing = data.get("not_serialised") or []
    if missing:
        raise CheckpointError(
            f"the checkpoint's config could not save {missing} (lambdas or local "
            f"functions); pass the same config: from_checkpoint(path, config=config)"
        )
    return config_class.from_dict(data, allow_import=allow_import)


def load_algorithm(path: str | Path, *, config: AlgorithmConfig | None, allow_import: bool
                   ) -> Algorithm:
    if config is None:
        config = saved_config(path, allow_import=allow_import)
    algo = config.build()
    restore_algorithm(algo, path)
    return algo
