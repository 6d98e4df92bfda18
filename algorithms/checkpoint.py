"""Whole-algorithm checkpoints: config JSON, module, optimizer state, counters, RNG states.

Layout (format version 1)::

    algorithm_state.json               config, counters, RNG states, tensor-file entries
    learner_group/learner/rl_module/   the MultiRLModule's own checkpoint
    optimizer.safetensors              per-parameter optimizer tensors (by parameter name)
    rng.safetensors                    torch RNG states
    obs_normalization.safetensors      running mean/var of observations (MeanStdFilter only)
    offpolicy.safetensors              off-policy algorithms: the replay buffer (see "extra")

Nothing is unpickled; the JSON and tensor files are checksummed; the directory is written
beside its target and swapped in, so a crash mid-save leaves the previous checkpoint intact.
Classes are recorded by qualified registered name with the distribution that provides them,
and nothing named in the file is imported (``allow_import`` opts in). A restore checks every
part before it changes anything. Envs are not saved: a restored run starts fresh episodes
(reseeded from the saved counters).
"""

from __future__ import annotations

import collections
import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from rlmodules.checkpoint import (
    ClassRef,
    TensorSpec,
    atomic_directory,
    check_tensors,
    pins_of,
    provenance,
    read_json_file,
    read_metadata,
    read_tensor_file,
    resolve_class,
    structure,
    verify_checksum,
    write_json_file,
    write_tensor_file,
)
from rlmodules.errors import CheckpointError, RLModulesError, UnknownNameError
from rlmodules.registry import untrusted_input

from .algorithm_config import AlgorithmConfig
from .checkpoint_schema import FORMAT, VERSION, AlgorithmState
from .config_data import map_class_refs
from .env_creation import _env_named

__all__ = ["save_algorithm", "restore_algorithm", "restore_component", "load_algorithm",
           "saved_config", "saved_env", "read_algorithm_state", "STATE_FILE",
           "MODULE_COMPONENT"]

STATE_FILE = "algorithm_state.json"
#: Component path of the MultiRLModule inside an algorithm checkpoint (RLlib's path).
MODULE_COMPONENT = "learner_group/learner/rl_module"
#: Name of the observation statistics' tensor file and JSON section (MeanStdFilter only).
OBS_NORMALIZATION = "obs_normalization"


def save_algorithm(algo: Any, path: str | Path | None) -> Path:
    """Write ``algo`` (an :class:`~rlmodules.algorithms.Algorithm`) to ``path`` (a new
    temporary directory if None) atomically; returns the directory."""
    target = Path(tempfile.mkdtemp(prefix="rlmodules-algo-")) if path is None else Path(path)
    with atomic_directory(target, marker_file=STATE_FILE) as staging:
        algo.module.save_to_path(staging / MODULE_COMPONENT)
        opt_tensors, opt_data = algo.learner.get_optimizer_state()
        rng = {"torch_global": torch.get_rng_state(), "learner": algo.torch_generator.get_state()}
        state = {
            "format": FORMAT,
            "version": VERSION,
            "algorithm_class": f"{type(algo).__module__}:{type(algo).__qualname__}",
            "config": _with_provenance(algo.config.to_dict()),
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
        if algo.obs_normalizer is not None:
            tensors, settings = algo.obs_normalizer.state()
            state[OBS_NORMALIZATION] = settings
            state["tensor_files"][OBS_NORMALIZATION] = write_tensor_file(
                staging, OBS_NORMALIZATION, tensors)
        write_json_file(staging / STATE_FILE, state)
    return target.expanduser().absolute()


def _with_provenance(config: dict[str, Any]) -> dict[str, Any]:
    """The config with each registered class name of its module spec written as the module
    checkpoint writes it: qualified, with the providing distribution and version (so the
    run loads the same class whatever else is installed later, or says what to install)."""
    from rlmodules import registry

    spec = config.get("rl_module_spec")
    if spec is None:
        return config

    def qualify(kind: str, ref: Any) -> Any:
        if isinstance(ref, str) and ":" not in ref:
            return provenance(kind, registry.record(kind, ref).qualified_name)
        return ref

    return {**config, "rl_module_spec": {**spec, "spec": map_class_refs(spec["spec"], qualify)}}


def read_algorithm_state(path: str | Path) -> dict[str, Any]:
    """The ``algorithm_state.json`` of the algorithm checkpoint at ``path``, checked: its
    format and version, its checksum, and every field against its schema
    (:class:`~rlmodules.algorithms.checkpoint_schema.AlgorithmState`).

    Raises :class:`~rlmodules.CheckpointError` naming what is wrong. For tools that read a
    checkpoint without building its algorithm (``rlmodules inspect``, exporters).

    Example::

        state = read_algorithm_state("runs/cartpole/checkpoint")
        print(state["timesteps"], state["config"]["env"])
    """
    path = Path(path)
    state_file = path / STATE_FILE
    if not state_file.is_file():
        what = "does not exist" if not path.exists() else f"has no {STATE_FILE}"
        raise CheckpointError(
            f"{path} is not an algorithm checkpoint (it {what}); pass the directory "
            f"save_to_path() wrote, or a module checkpoint with component="
            f"'{MODULE_COMPONENT}/<module_id>'"
        )
    state = read_json_file(state_file, verify=False)
    if state.get("format") != FORMAT:
        raise CheckpointError(f"{state_file} is not a {FORMAT!r} file")
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION:
        raise CheckpointError(
            f"{state_file} has format version {version!r}; this rlmodules reads versions "
            f"1 to {VERSION} (upgrade rlmodules to read a newer one)"
        )
    if version >= 2:
        verify_checksum(state, state_file)  # checksummed since version 2
    structure(state, AlgorithmState, source=state_file)
    return state


def restore_algorithm(algo: Any, path: str | Path) -> None:
    """Restore everything, or nothing: every part is read and checked against ``algo``
    before the first weight, optimizer slot, RNG or counter changes. Envs are not part of
    a checkpoint: the algorithm starts fresh episodes afterwards (``restore_from_path``)."""
    path = Path(path)
    state = read_algorithm_state(path)
    optimizer = read_tensor_file(path, state["tensor_files"]["optimizer"])
    rng = read_tensor_file(path, state["tensor_files"]["rng"])
    apply_optimizer = algo.learner.checked_optimizer_state(optimizer, state["optimizer"])
    torch_rng = _checked_rng(rng, path)
    obs_stats = _checked_obs_stats(algo, path, state)
    apply_extra = algo.checked_extra_state(path, state.get("extra", {}))
    algo.module.restore_from_path(path / MODULE_COMPONENT)  # checked, then applied whole
    apply_optimizer()
    if obs_stats is not None:
        algo.obs_normalizer.set_state(*obs_stats)
    torch.set_rng_state(torch_rng["torch_global"])
    algo.torch_generator.set_state(torch_rng["learner"])
    algo.np_random.bit_generator.state = state["numpy_rng"]
    algo.iteration = state["iteration"]
    algo.timesteps = state["timesteps"]
    algo.episodes = state["episodes"]
    window = algo.recent_returns.maxlen
    algo.recent_returns = collections.deque(state["recent_returns"], maxlen=window)
    algo.recent_lengths = collections.deque(state["recent_lengths"], maxlen=window)
    apply_extra()


def _checked_obs_stats(algo: Any, path: Path, state: Mapping[str, Any]) -> Any:
    """The observation statistics to restore (``(tensors, settings)``, checked against the
    algorithm's normaliser), or ``None`` when it has none."""
    if algo.obs_normalizer is None:
        return None
    if OBS_NORMALIZATION not in state:
        raise CheckpointError(
            f"{path} holds no observation statistics, but the config asks for "
            f"observation_filter='MeanStdFilter'"
        )
    entry = state["tensor_files"][OBS_NORMALIZATION]
    stats = (read_tensor_file(path, entry), state[OBS_NORMALIZATION])
    algo.obs_normalizer.check_state(*stats, source=path / entry["file"])
    return stats


def _checked_rng(rng: Mapping[str, torch.Tensor], path: Path) -> Mapping[str, torch.Tensor]:
    check_tensors(rng, {key: TensorSpec((None,), "uint8") for key in ("torch_global", "learner")},
                  source=path / "rng.safetensors")
    for key, tensor in rng.items():
        try:
            torch.Generator().set_state(tensor)  # the same check set_rng_state makes
        except (RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{path}: bad {key} RNG state ({exc})") from None
    return rng


def restore_component(algo: Any, path: str | Path, component: str) -> None:
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
    checkpoint at ``path`` was trained with. A name that would import a module (``pkg:Cls``
    or gymnasium's ``module:Env-v0``) is accepted only if this program already imported that
    module (or with ``allow_import``), as for :func:`saved_config`."""
    data = read_algorithm_state(path)["config"]
    env = data.get("env")
    if not isinstance(env, str):
        raise CheckpointError(
            f"the algorithm checkpoint {path} holds no env name (its env was a lambda or a "
            f"local function, which cannot be saved); name the env yourself: a gymnasium id "
            f"or an import path 'pkg.mod:Name'"
        )
    env_config = data.get("env_config") or {}
    if not isinstance(env_config, dict):
        raise CheckpointError(f"the algorithm checkpoint {path} holds a bad env_config")
    with _loading(path, allow_import):
        if ":" in env:
            _env_named(env)
    return env, dict(env_config)


def saved_config(path: str | Path, *, allow_import: bool = False) -> AlgorithmConfig:
    """The config stored in the algorithm checkpoint at ``path``."""
    path = Path(path)
    data = read_algorithm_state(path)["config"]
    missing = data.get("not_serialised") or []
    if missing:
        raise CheckpointError(
            f"the checkpoint's config could not save {missing} (lambdas or local "
            f"functions); pass the same config: from_checkpoint(path, config=config)"
        )
    with _loading(path, allow_import):
        config_class = _config_class(data.get("config_class"), path)
        spec = data.get("rl_module_spec")
        if isinstance(spec, dict) and isinstance(spec.get("spec"), dict):
            resolve = _recorded_class_resolver(path)
            data = {**data, "rl_module_spec": {**spec, "spec": map_class_refs(spec["spec"],
                                                                             resolve)}}
        return config_class.from_dict(data, allow_import=allow_import)


def _config_class(ref: Any, path: Path) -> type[AlgorithmConfig]:
    from rlmodules import registry

    try:
        config_class = registry.import_object(ref, what="config class")
    except UnknownNameError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    if not (isinstance(config_class, type) and issubclass(config_class, AlgorithmConfig)):
        raise CheckpointError(f"{ref!r} in {path} is not an AlgorithmConfig class")
    return config_class


def _recorded_class_resolver(path: Path) -> Callable[[str, Any], Any]:
    """Classes recorded as ``{"name", "distribution", "version"}`` resolve as a module
    checkpoint's do (naming what to install); other references stay as they are."""
    def resolve(kind: str, ref: Any) -> Any:
        if not isinstance(ref, dict):
            return ref
        structure(ref, ClassRef, source=f"{path / STATE_FILE}: a {kind} class entry")
        return resolve_class(kind, ref, path)

    return resolve


@contextlib.contextmanager
def _loading(path: str | Path, allow_import: bool) -> Iterator[None]:
    """Resolve names read from the checkpoint at ``path`` without importing (see
    ``registry.untrusted_input``); a config error there is a checkpoint error."""
    with untrusted_input(path, allow_import=allow_import):
        try:
            yield
        except CheckpointError:
            raise
        except RLModulesError as exc:
            raise CheckpointError(f"the algorithm checkpoint {path}: {exc}") from None


def load_algorithm(path: str | Path, *, config: AlgorithmConfig | None, allow_import: bool
                   ) -> Any:
    """Build the algorithm saved at ``path`` (from its saved config unless ``config`` is
    given) and restore its state; see ``Algorithm.from_checkpoint``."""
    from rlmodules.decisions import pinned_action_dists

    if config is None:  # what it names is resolved now, so building imports nothing new
        config = saved_config(path, allow_import=allow_import)
    module_dir = Path(path) / MODULE_COMPONENT
    with _loading(path, allow_import):
        pins = pins_of(read_metadata(module_dir)["module"], module_dir)
    with pinned_action_dists(pins):  # the distributions the module was saved with
        algo = config.build()
    algo.restore_from_path(path)
    return algo
