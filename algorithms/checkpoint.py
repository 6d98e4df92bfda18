"""Whole-algorithm checkpoints: config JSON, module, optimizer state, counters, RNG states.

Layout (format version 1)::

    algorithm_state.json               config, counters, RNG states, tensor-file entries
    learner_group/learner/rl_module/   the MultiRLModule's own checkpoint
    optimizer.safetensors              per-parameter optimizer tensors (by parameter name)
    rng.safetensors                    torch RNG states
    obs_normalization.safetensors      running mean/var of observations (MeanStdFilter only)
    reward_normalization.safetensors   running variance of returns (normalize_rewards only)
    offpolicy.safetensors              off-policy algorithms: the replay buffer (see "extra")

Nothing is unpickled; the JSON and tensor files are checksummed; the directory is written
beside its target and swapped in, so a crash mid-save leaves the previous checkpoint intact.
Classes are recorded by qualified registered name with the distribution that provides them,
and nothing named in the file is imported: an import path resolves only to what a plugin
registered (an env, a module), to rlmodules' own config classes, or to an object the caller
handed over (``trusted_objects``; ``allow_import`` opts in to importing any path). A
restore checks every part before it changes anything. Envs are not saved: a restored run
starts fresh episodes (reseeded from the saved counters).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from rlmodules.checkpoint import (
    ClassRef,
    TensorSpec,
    atomic_directory,
    check_build_size,
    check_tensors,
    pins_of,
    provenance,
    read_metadata,
    read_tensor_file,
    read_versioned_json,
    resolve_class,
    stored_elements,
    structure,
    write_json_file,
    write_tensor_file,
)
from rlmodules.errors import CheckpointError, RLModulesError, UnknownNameError
from rlmodules.registry import ImportRefusedError, untrusted_input

from .algorithm_config import AlgorithmConfig
from .checkpoint_schema import FORMAT, VERSION, AlgorithmState
from .config_data import map_class_refs
from .env_creation import _env_named

__all__ = ["save_algorithm", "restore_algorithm", "restore_component", "load_algorithm",
           "saved_config", "saved_env", "read_algorithm_state", "STATE_FILE",
           "MODULE_COMPONENT"]

#: The config classes rlmodules ships, by the import path a saved config names them with: a
#: checkpoint names them without an opt-in (another config class is handed over, e.g.
#: ``Algorithm.from_checkpoint(path, trusted_objects=[MyConfig])``).
BUILTIN_CONFIGS = frozenset({
    "rlmodules.algorithms.config:PPOConfig",
    "rlmodules.algorithms.offpolicy_config:DQNConfig",
    "rlmodules.algorithms.offpolicy_config:SACConfig",
    "rlmodules.algorithms.bc:BCConfig",
})
STATE_FILE = "algorithm_state.json"
#: Component path of the MultiRLModule inside an algorithm checkpoint (RLlib's path).
MODULE_COMPONENT = "learner_group/learner/rl_module"
#: Name of the observation statistics' tensor file and JSON section (MeanStdFilter only).
OBS_NORMALIZATION = "obs_normalization"
#: The normalisers an algorithm may have: (attribute, tensor file and JSON section, what it
#: keeps statistics of, the setting that asks for it).
_NORMALIZERS = (
    ("obs_normalizer", OBS_NORMALIZATION, "observation", "observation_filter='MeanStdFilter'"),
    ("reward_normalizer", "reward_normalization", "return", "normalize_rewards=True"))


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
        for attribute, name, _, _ in _NORMALIZERS:
            normalizer = getattr(algo, attribute)
            if normalizer is not None:
                tensors, settings = normalizer.state()
                state[name] = settings
                state["tensor_files"][name] = write_tensor_file(staging, name, tensors)
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
    state, _ = read_versioned_json(state_file, format=FORMAT, versions=range(1, VERSION + 1),
                                   signed_from=2)  # checksummed since version 2
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
    stats = {attribute: _checked_stats(algo, path, state, attribute, name, what, setting)
             for attribute, name, what, setting in _NORMALIZERS}
    apply_extra = algo.checked_extra_state(path, state.get("extra", {}))
    algo.module.restore_from_path(path / MODULE_COMPONENT)  # checked, then applied whole
    apply_optimizer()
    for attribute, saved in stats.items():
        if saved is not None:
            getattr(algo, attribute).set_state(*saved)
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


def _checked_stats(algo: Any, path: Path, state: Mapping[str, Any], attribute: str,
                   name: str, what: str, setting: str) -> Any:
    """The statistics to restore into the algorithm's normaliser ``attribute``
    (``(tensors, settings)``, checked against it), or ``None`` when it has none."""
    normalizer = getattr(algo, attribute)
    if normalizer is None:
        return None
    if state.get(name) is None:
        raise CheckpointError(
            f"{path} holds no {what} statistics, but the config asks for "
            f"{setting}"
        )
    entry = state["tensor_files"][name]
    stats = (read_tensor_file(path, entry), state[name])
    normalizer.check_state(*stats, source=path / entry["file"])
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
                f"has {list(algo.module.keys())}"
            )
        algo.module[module_id].restore_from_path(path)
        return
    raise CheckpointError(
        f"unknown component {component!r}; use {MODULE_COMPONENT!r} for a MultiRLModule "
        f"checkpoint or '{MODULE_COMPONENT}/<module_id>' for one module's checkpoint"
    )


def saved_env(path: str | Path, *, allow_import: bool = False,
              trusted_objects: Iterable[Any] = ()) -> tuple[str, dict[str, Any]]:
    """The env (a gymnasium id or an import path) and ``env_config`` the algorithm
    checkpoint at ``path`` was trained with. An import path is accepted only if it names a
    registered env or one of ``trusted_objects`` (or with ``allow_import``), and gymnasium's
    ``module:Env-v0`` only for an id gymnasium registered, as for :func:`saved_config`."""
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
    with _loading(path, allow_import, trusted_objects):
        if ":" in env:
            _env_named(env)
    return env, dict(env_config)


def saved_config(path: str | Path, *, allow_import: bool = False,
                 trusted_objects: Iterable[Any] = (), env: Any = None) -> AlgorithmConfig:
    """The config stored in the algorithm checkpoint at ``path``; with ``env``, the saved
    env is left unread and ``env`` takes its place (see ``Algorithm.from_checkpoint``)."""
    path = Path(path)
    data = read_algorithm_state(path)["config"]
    if env is not None:
        data = {**data, "env": None, "not_serialised": [
            field for field in data.get("not_serialised") or [] if field != "env"]}
    # Callbacks handed over in-process are not needed to rebuild the run: it loads without.
    missing = [m for m in data.get("not_serialised") or [] if m != "callbacks"]
    if missing:
        raise CheckpointError(
            f"the checkpoint's config could not save {missing} (lambdas or local "
            f"functions); pass the same config: from_checkpoint(path, config=config)"
        )
    with _loading(path, allow_import, trusted_objects):
        config_class = _config_class(data.get("config_class"), path)
        spec = data.get("rl_module_spec")
        if isinstance(spec, dict) and isinstance(spec.get("spec"), dict):
            resolve = _recorded_class_resolver(path)
            data = {**data, "rl_module_spec": {**spec, "spec": map_class_refs(spec["spec"],
                                                                             resolve)}}
        config = config_class.from_dict(data, allow_import=allow_import)
    return config if env is None else config.environment(env)


def _config_class(ref: Any, path: Path) -> type[AlgorithmConfig]:
    from rlmodules import registry

    try:
        config_class = registry.import_object(ref, what="config class",
                                              registered=isinstance(ref, str)
                                              and ref in BUILTIN_CONFIGS)
    except registry.ImportRefusedError:
        raise
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
def _loading(path: str | Path, allow_import: bool, trusted_objects: Iterable[Any] = ()
             ) -> Iterator[None]:
    """Resolve names read from the checkpoint at ``path`` without importing (see
    ``registry.untrusted_input``); a config error there is a checkpoint error."""
    with untrusted_input(path, allow_import=allow_import, trusted_objects=trusted_objects):
        try:
            yield
        except CheckpointError:
            raise
        except ImportRefusedError as exc:
            raise CheckpointError(str(exc)) from None  # it names the checkpoint
        except RLModulesError as exc:
            raise CheckpointError(f"the algorithm checkpoint {path}: {exc}") from None


#: While :func:`load_algorithm` builds: the elements the checkpoint's module holds, and the
#: checkpoint for messages (see :func:`check_module_size`).
_restoring: contextvars.ContextVar[tuple[int, str] | None] = contextvars.ContextVar(
    "rlmodules_restoring", default=None)


def check_module_size(build: Callable[[], Any]) -> None:
    """While an algorithm is built to restore a checkpoint, refuse a module ``build()``
    would make far larger than the checkpoint's weights, before it allocates anything (the
    saved config may have been edited); otherwise do nothing."""
    restoring = _restoring.get()
    if restoring is not None:
        check_build_size(build, *restoring)


def load_algorithm(path: str | Path, *, config: AlgorithmConfig | None, allow_import: bool,
                   trusted_objects: Iterable[Any] = (), env: Any = None) -> Any:
    """Build the algorithm saved at ``path`` (from its saved config unless ``config`` is
    given, with ``env`` in place of its env if given) and restore its state; see
    ``Algorithm.from_checkpoint``."""
    from rlmodules.decisions import pinned_action_dists

    trusted_objects = tuple(trusted_objects)
    if config is None:  # what it names is resolved now, so building imports nothing new
        config = saved_config(path, allow_import=allow_import, trusted_objects=trusted_objects,
                              env=env)
    elif env is not None:
        config = config.copy().environment(env)
    module_dir = Path(path) / MODULE_COMPONENT
    with _loading(path, allow_import, trusted_objects):
        node = read_metadata(module_dir)["module"]
        pins = pins_of(node, module_dir)
    token = _restoring.set((stored_elements(node), f"the algorithm checkpoint {path}"))
    try:
        with pinned_action_dists(pins):  # the distributions the module was saved with
            algo = config.build()
    finally:
        _restoring.reset(token)
    algo.restore_from_path(path)
    return algo
