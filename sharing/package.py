"""``rlmodules package``: a trained policy as a self-contained folder for the Hugging Face Hub.

From a ``rlmodules train`` run directory, an algorithm checkpoint or a module checkpoint,
:func:`package_policy` writes (atomically, whole or not at all)::

    README.md                  the model card (see :mod:`.card`)
    rlmodules_package.json     contents, evaluation, requirements, every file's checksum
    module/                    the module checkpoint (RLModule.from_checkpoint)
    checkpoint/                the algorithm checkpoint (Algorithm.from_checkpoint, resume)
    onnx/                      the ONNX export, when rlmodules-onnx is installed
    replay.gif | replay.mp4    one evaluated episode (with ``video=``)
    run.json, metrics.*, learning_curve.png    a run directory's own files

Publishing stays the Hub's own tool: ``hf upload org/name DIR``.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import attrs
from rlmodules import __version__, registry
from rlmodules.algorithms.algorithm import Algorithm
from rlmodules.algorithms.checkpoint import STATE_FILE
from rlmodules.checkpoint import METADATA_FILE, atomic_directory, read_metadata
from rlmodules.errors import ConfigError, ExportError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.policy_package import PACKAGE_FILE, is_policy_package, write_package_manifest
from rlmodules.rl_module import DEFAULT_MODULE_ID, RLModule

from .card import model_card
from .evaluation import Evaluation, evaluate_policy
from .requirements import (
    checkpoint_requirements,
    env_requirement,
    install_line,
    unprovided_names,
)
from .video import VIDEO_FORMATS, write_video

__all__ = ["PackagedPolicy", "package_policy", "RUN_FILES"]

#: Files of a ``rlmodules train`` run directory that travel with its package.
RUN_FILES = ("run.json", "metrics.jsonl", "metrics.csv", "learning_curve.png")
_PARTS = {"module": "module", "algorithm": "checkpoint", "export": "onnx"}


@attrs.frozen
class PackagedPolicy:
    """What :func:`package_policy` wrote: the folder, its manifest, the evaluation, and
    notes for the user (what was left out, and why)."""

    path: Path
    manifest: dict[str, Any]
    evaluation: Evaluation
    notes: tuple[str, ...] = ()


@attrs.define
class _Source:
    """A loaded policy to package: the single module acting, and what it came from."""

    module: Any
    env: str
    env_config: dict[str, Any]
    algorithm: Algorithm | None = None
    run_dir: Path | None = None


def package_policy(source: str | os.PathLike[str], out: str | os.PathLike[str], *,
                   episodes: int = 10, seed: int | None = None, video: str | None = None,
                   env: str | None = None, env_config: dict[str, Any] | None = None,
                   repo_id: str | None = None, export: bool = True) -> PackagedPolicy:
    """Package the policy at ``source`` into the folder ``out``.

    ``source`` is a ``rlmodules train`` run directory, an algorithm checkpoint, or a module
    checkpoint (then ``env`` and ``env_config`` name the env it acts in). The policy is
    evaluated greedily for ``episodes`` episodes on env seeds ``seed, seed + 1, ...`` (a
    random ``seed`` if None, recorded); ``video`` (``"gif"`` or ``"mp4"``) records the first
    of them. ``repo_id`` (``org/name``) is written into the card's commands; ``export=False``
    leaves the ONNX export out. An existing ``out`` is replaced only if it is empty or an
    earlier package.

    Example::

        package_policy("runs/cartpole", "ppo-cartpole", episodes=10, video="gif")
        # then: hf upload org/ppo-CartPole-v1 ppo-cartpole
    """
    if episodes < 1:
        raise ConfigError(f"episodes must be a positive number, got {episodes}")
    if video is not None and video not in VIDEO_FORMATS:
        raise ConfigError(f"video must be one of {', '.join(VIDEO_FORMATS)}, got {video!r}")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    if not 0 <= seed <= 2**63 - episodes:
        raise ConfigError(f"seed must be a non-negative integer below 2**63, got {seed}")
    loaded = _load(Path(source), env=env, env_config=env_config)
    try:
        with atomic_directory(out, marker_file=PACKAGE_FILE) as staging:
            manifest, evaluation, notes = _write(loaded, staging, episodes=episodes,
                                                 seed=seed, video=video, repo_id=repo_id,
                                                 export=export)
    finally:
        if loaded.algorithm is not None:
            loaded.algorithm.stop()
    return PackagedPolicy(Path(out).expanduser().absolute(), manifest, evaluation,
                          tuple(notes))


def _write(loaded: _Source, staging: Path, *, episodes: int, seed: int, video: str | None,
           repo_id: str | None, export: bool) -> tuple[dict[str, Any], Evaluation, list[str]]:
    notes: list[str] = []
    algo = loaded.algorithm
    contents: dict[str, str | None] = dict.fromkeys(_PARTS)
    if algo is not None:  # before evaluating: the checkpoint is the state that was loaded
        algo.save_to_path(staging / _PARTS["algorithm"])
        contents["algorithm"] = _PARTS["algorithm"]
    copied = _copy_run_files(loaded.run_dir, staging)
    loaded.module.save_to_path(staging / _PARTS["module"])
    contents["module"] = _PARTS["module"]
    normalizer = None if algo is None else algo.obs_normalizer
    contents["export"] = _export(staging, normalizer, notes) if export else None
    evaluation = evaluate_policy(
        loaded.module, loaded.env, loaded.env_config,
        seeds=range(seed, seed + episodes), record=video is not None,
        preprocess=None if normalizer is None else normalizer.normalize)
    video_file = None
    if video is not None:
        video_file = f"replay.{video}"
        write_video(evaluation.frames, staging / video_file, fps=evaluation.fps or 30)
    metadata = read_metadata(staging / _PARTS["module"])
    requirements = checkpoint_requirements(metadata)
    if (extra := env_requirement(loaded.env)) is not None:
        requirements.setdefault(*extra)
    missing = unprovided_names(metadata)
    if missing:
        notes.append(f"{', '.join(missing)} were registered in-process, so no one else can "
                     f"install them: package a module whose classes come from a distribution")
    manifest = _manifest(loaded, contents, evaluation, video_file, requirements,
                         run="run.json" in copied, curve="learning_curve.png" in copied)
    hyperparameters = _hyperparameters(loaded, metadata)
    card = model_card(manifest, hyperparameters=hyperparameters,
                      install=install_line(requirements), repo_id=repo_id)
    (staging / "README.md").write_text(card, encoding="utf-8")
    return write_package_manifest(staging, manifest), evaluation, notes


def _manifest(loaded: _Source, contents: dict[str, str | None], evaluation: Evaluation,
              video: str | None, requirements: dict[str, str | None], *, run: bool,
              curve: bool) -> dict[str, Any]:
    algo = loaded.algorithm
    module_ref = _module_name(loaded.module)
    training = None
    if algo is not None:
        training = {"iteration": algo.iteration, "timesteps": algo.timesteps,
                    "episodes": algo.episodes, **_run_time(loaded.run_dir)}
    obs_filter = None if algo is None else algo.config.env_runner_settings.get(
        "observation_filter")
    return {
        "rlmodules_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "algorithm": None if algo is None else type(algo).__name__,
        "module_name": module_ref,
        "stateful": bool(loaded.module.is_stateful()),
        "env": loaded.env,
        "env_config": loaded.env_config,
        "observation_filter": obs_filter if obs_filter not in (None, "NoFilter") else None,
        "contents": contents,
        "evaluation": evaluation.to_json(),
        "video": video,
        "training": training,
        "run": run,
        "learning_curve": "learning_curve.png" if curve else None,
        "requirements": [{"distribution": d, "version": v} for d, v in requirements.items()],
    }


def _module_name(module: Any) -> str:
    """The module's registered name (plain, e.g. ``ppo``), or its class name."""
    name = registry.name_of("module", type(module))
    return (name or type(module).__name__).rpartition("/")[2]


def _hyperparameters(loaded: _Source, metadata: dict[str, Any]) -> dict[str, Any]:
    if loaded.algorithm is None:
        return {"model_config": metadata["module"].get("model_config")}
    config = loaded.algorithm.config.to_dict()
    return {key: value for key, value in config.items()
            if key not in ("config_class", "not_serialised", "env", "env_config")
            and value not in (None, [], {})}


def _run_time(run_dir: Path | None) -> dict[str, float]:
    """``{"time_total_s": ...}`` from a run directory's ``run.json``, if it records one."""
    if run_dir is None:
        return {}
    try:
        seconds = json.loads((run_dir / "run.json").read_text()).get("time_total_s")
    except (OSError, ValueError, AttributeError):
        return {}
    return {"time_total_s": float(seconds)} if isinstance(seconds, (int, float)) else {}


def _copy_run_files(run_dir: Path | None, staging: Path) -> list[str]:
    if run_dir is None:
        return []
    copied = [name for name in RUN_FILES if (run_dir / name).is_file()]
    for name in copied:
        shutil.copyfile(run_dir / name, staging / name)
    return copied


def _export(staging: Path, normalizer: Any, notes: list[str]) -> str | None:
    """The ONNX export of the module, when an ``onnx`` export format is installed; a run
    with an observation ``normalizer`` needs its statistics baked into the graph."""
    if "onnx" not in {record.name for record in registry.list("export_format")}:
        return None
    if normalizer is not None:
        notes.append("no ONNX export: this run normalises observations (MeanStdFilter) and "
                     "this rlmodules cannot bake the statistics into an export yet")
        return None
    from rlmodules.export import export

    try:
        export(staging / _PARTS["module"], staging / _PARTS["export"], format="onnx")
    except ExportError as exc:
        notes.append(f"no ONNX export: {exc}")
        return None
    return _PARTS["export"]


# --- loading the source ---------------------------------------------------------------------
def _load(source: Path, *, env: str | None, env_config: dict[str, Any] | None) -> _Source:
    if is_policy_package(source):
        raise ConfigError(f"{source} is already a packaged policy; package the run directory "
                          f"or checkpoint it was made from")
    run_dir = source if (source / "run.json").is_file() \
        and (source / "checkpoint" / STATE_FILE).is_file() else None
    algorithm_dir = source / "checkpoint" if run_dir is not None else source
    if (algorithm_dir / STATE_FILE).is_file():
        if env is not None or env_config is not None:
            raise ConfigError(f"{source} is an algorithm checkpoint: it packages with the env "
                              f"it was trained on; drop --env and --env-config")
        return _from_algorithm(Algorithm.from_checkpoint(algorithm_dir), run_dir)
    if (source / METADATA_FILE).is_file():
        if env is None:
            raise ConfigError(
                f"{source} is a module checkpoint, which does not record an env; name the env "
                f"it acts in (--env, a gymnasium id or 'pkg.mod:Name', and --env-config)")
        module = _single(RLModule.from_checkpoint(source), source)
        return _Source(module=module, env=env, env_config=dict(env_config or {}))
    raise ConfigError(
        f"{source} is neither a `rlmodules train` run directory, an algorithm checkpoint "
        f"({STATE_FILE}) nor a module checkpoint ({METADATA_FILE})")


def _from_algorithm(algo: Algorithm, run_dir: Path | None) -> _Source:
    env = algo.config.to_dict()["env"]
    try:
        if algo.is_multi_agent:
            raise ConfigError(f"packaging handles single-agent policies; this run trains "
                              f"{list(algo.module.keys())} in a multi-agent env")
        if not isinstance(env, str):
            raise ConfigError("this run's env cannot be named (a lambda or a local function); "
                              "register it with gymnasium or train with an import path")
        module = _single(algo.module, run_dir or "the algorithm checkpoint")
    except ConfigError:
        algo.stop()
        raise
    return _Source(module=module, env=env, env_config=dict(algo.config.evaluation_env_config),
                   algorithm=algo, run_dir=run_dir)


def _single(module: Any, where: Any) -> Any:
    """The one module acting: itself, or a MultiRLModule's only ``default_policy``."""
    if not isinstance(module, MultiRLModule):
        return module
    if list(module.keys()) == [DEFAULT_MODULE_ID]:
        return module[DEFAULT_MODULE_ID]
    raise ConfigError(f"{where} holds modules {list(module.keys())}; packaging handles "
                      f"single-agent policies (one module, or only {DEFAULT_MODULE_ID!r})")
