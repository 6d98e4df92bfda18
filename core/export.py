"""Exporting a module for deployment: the export-format contract, its one entry point, and
the export manifest's one schema.

An export format (registered through the ``rlmodules_export_formats`` hook, e.g. ``"onnx"``
from the ``rlmodules-onnx`` package) turns an inference-only module into an artefact that acts
without this library. :func:`export` loads the module (through ``RLModule.from_checkpoint``
when given a path), lets the format write its files into a fresh directory and adds the JSON
manifest, ``manifest.json``: per module id the spaces, the module class, the observation
statistics baked in (if any) and the format's own ``artefact`` entry; the checksum of every
file; the library versions; and a checksum of the manifest itself. The directory appears
atomically, whole or not at all. :func:`read_manifest` checks all of it (checksums, files
inside the directory, every field against :class:`Manifest`) before anything is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
from rlmodules import __version__, registry

from ._export_schema import (
    ExportedFile,
    FormatRef,
    Manifest,
    ModuleManifest,
    ObservationNormalization,
    structure,
)
from .checkpoint import (
    ExportFormat,
    atomic_directory,
    contained_file,
    file_checksum,
    read_json_file,
    resolve_format,
    signed_json,
    verify_checksum,
)
from .errors import CheckpointError, ExportError
from .rl_module import DEFAULT_MODULE_ID, RLModule

__all__ = [
    "MANIFEST_FILE",
    "MANIFEST_VERSION",
    "ExportFormat",
    "ExportedFile",
    "FormatRef",
    "Manifest",
    "ModuleManifest",
    "ObservationNormalization",
    "export",
    "module_entries",
    "read_manifest",
    "sample_observations",
    "structure",
]

MANIFEST_FILE = "manifest.json"
#: 2: checksums of the manifest and of every file; the format's part under ``artefact``.
MANIFEST_VERSION = 2

A = TypeVar("A")


def export(
    source: RLModule | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str = "onnx",  # noqa: A002  (the CLI's --format, the word users know)
    verify: bool = True,
    observation_normalization: ObservationNormalization | None = None,
) -> Path:
    """Export ``source`` (a module, or the path of a module checkpoint) to the directory ``out``.

    ``format`` is a registered export-format name (``rlmodules list export_format``). A
    checkpoint loads as its inference-only build on the CPU; a module is exported from a
    CPU copy in eval mode (the module itself is left as it was). A plain MultiRLModule
    holding only ``"default_policy"`` (a single-agent training run) exports as that
    module. ``observation_normalization`` (the frozen statistics of a run trained with
    ``observation_filter="MeanStdFilter"``) is baked into the artefact, which then acts on
    raw observations; the format must support it. An existing ``out`` is replaced only if
    it is empty or an earlier export. Returns the directory.

    Example::

        rlmodules.export.export("ckpt", "policy", format="onnx")
        policy = rlmodules_onnx.OnnxPolicy("policy")
    """
    exporter, provenance = resolve_format(format, "export_format")
    module = _load(source)
    kwargs = _normalization_kwargs(exporter, provenance, module, observation_normalization)
    with atomic_directory(out, marker_file=MANIFEST_FILE) as tmp:
        part = exporter.export(module, tmp, verify=verify, **kwargs)
        manifest = _manifest(module, provenance, part, tmp, observation_normalization)
        schema = getattr(exporter, "artefact_schema", dict)
        structure(manifest, Manifest[schema],  # type: ignore[valid-type]
                  f"the manifest that export format {provenance['name']!r} wrote")
        (tmp / MANIFEST_FILE).write_text(signed_json(manifest) + "\n", encoding="utf-8")
    return Path(out).expanduser().absolute()


def read_manifest(
    directory: str | os.PathLike[str], *, artefact: type[A] = dict  # type: ignore[assignment]
) -> Manifest[A]:
    """The checked manifest of the export ``directory``; ``artefact`` is the attrs class of
    the format's per-module entry (its schema), a plain ``dict`` if not given.

    Raises :class:`ExportError` (or :class:`CheckpointError` for a damaged file) when the
    manifest is missing, of another version, altered (its checksum), malformed (any field,
    checked against :class:`Manifest`), or when a file it lists is missing, outside the
    directory (``..``, absolute paths, symlinks out) or altered.
    """
    root = Path(directory)
    if not (root / MANIFEST_FILE).is_file():
        raise ExportError(
            f"{directory} is not an export directory: it has no {MANIFEST_FILE}; write one "
            f"with `rlmodules export CKPT --format onnx --out {directory}`"
        )
    path = contained_file(root, MANIFEST_FILE)
    data = read_json_file(path, verify=False)  # the version decides how to verify
    version = data.get("manifest_version")
    if version != MANIFEST_VERSION:
        old = isinstance(version, int) and not isinstance(version, bool) and version < 2
        raise ExportError(
            f"{path} has manifest_version {version!r}; this version of rlmodules reads "
            f"{MANIFEST_VERSION}" + (
                " (older exports carry no checksums, so they cannot be verified): export the "
                "checkpoint again with `rlmodules export CKPT --out DIR`" if old else
                " (export the module again with this version of rlmodules, or upgrade it)")
        )
    verify_checksum(data, path)
    manifest: Manifest[A] = structure(data, Manifest[artefact], str(path))  # type: ignore[valid-type]
    for name, entry in manifest.files.items():
        _verify_file(root, name, entry)
    return manifest


def _verify_file(root: Path, name: str, entry: ExportedFile) -> None:
    try:
        path = contained_file(root, name)
        size = path.stat().st_size
        actual = file_checksum(path) if size == entry.bytes else None
    except OSError as exc:
        raise CheckpointError(f"cannot read export file {root / name}: {exc}") from None
    if actual != entry.checksum:
        what = (f"is {size} bytes, not the {entry.bytes} written" if actual is None else
                f"has checksum {actual}, not the recorded {entry.checksum}")
        raise CheckpointError(
            f"export file {path} {what}: it was altered or truncated; export the checkpoint "
            f"again"
        )


def module_entries(module: Any) -> dict[str, Any]:
    """``{module_id: module}``: each id of a MultiRLModule, or ``DEFAULT_MODULE_ID``."""
    from .multi_rl_module import MultiRLModule  # torch: OnnxPolicy reads manifests without it

    if isinstance(module, MultiRLModule):
        return dict(module.items())
    return {DEFAULT_MODULE_ID: module}


def sample_observations(space: Any, n: int, *, seed: int = 0) -> Any:
    """``n`` observations drawn from ``space`` as one batch (numpy ``[n, ...]`` leaves, in
    the space's Dict/Tuple structure), reproducible for a ``seed``."""
    import copy

    import gymnasium as gym
    import numpy as np

    space = copy.deepcopy(space)
    space.seed(seed)
    samples = [space.sample() for _ in range(n)]

    def stack(items: list[Any], leaf_space: Any) -> Any:
        if isinstance(leaf_space, gym.spaces.Dict):
            return {k: stack([x[k] for x in items], s) for k, s in leaf_space.spaces.items()}
        if isinstance(leaf_space, gym.spaces.Tuple):
            return tuple(stack([x[i] for x in items], s) for i, s in enumerate(leaf_space))
        return np.stack([np.asarray(x) for x in items])

    return stack(samples, space)


def _load(source: Any) -> Any:
    import copy  # here, not at the top: OnnxPolicy reads manifests and starts fast

    module: Any
    if isinstance(source, RLModule):
        # A CPU copy: the caller's module keeps its device and training mode.
        module = copy.deepcopy(source)
        if hasattr(module, "to"):
            module = module.to("cpu")
    elif isinstance(source, (str, os.PathLike)):
        module = RLModule.from_checkpoint(source, inference_only=True, device="cpu")
    else:
        raise ExportError(
            f"export needs an RLModule or the path of a module checkpoint, got "
            f"{type(source).__name__}"
        )
    return _single(module).eval()


def _single(module: Any) -> Any:
    """The module itself, or the one module of a plain MultiRLModule that holds only
    ``DEFAULT_MODULE_ID`` (what the trainer saves for a single-agent run)."""
    from .multi_rl_module import MultiRLModule  # torch, as above

    if type(module) is MultiRLModule and list(module.keys()) == [DEFAULT_MODULE_ID]:
        return module[DEFAULT_MODULE_ID]
    return module


def _normalization_kwargs(exporter: Any, provenance: Mapping[str, Any], module: Any,
                          stats: ObservationNormalization | None) -> dict[str, Any]:
    """The keyword that hands the statistics to the format (none without statistics)."""
    if stats is None:
        return {}
    import inspect

    from .multi_rl_module import MultiRLModule

    if isinstance(module, MultiRLModule):
        raise ExportError(
            "observation statistics apply to a single-agent module; this is a MultiRLModule "
            f"with module ids {sorted(module.keys())}"
        )
    if "observation_normalization" not in inspect.signature(exporter.export).parameters:
        raise ExportError(
            f"export format {provenance['name']!r} cannot bake observation statistics into "
            f"its artefact (its export() takes no observation_normalization); use a format "
            f"that can, such as 'onnx'"
        )
    shape = tuple(getattr(module.observation_space, "shape", None) or ())
    if stats.size != _size(shape):
        raise ExportError(
            f"the observation statistics have {stats.size} values; the module's observations "
            f"of shape {shape} need {_size(shape)}"
        )
    return {"observation_normalization": stats}


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= int(dim)
    return size


def _manifest(module: Any, provenance: dict[str, Any], part: Mapping[str, Any], directory: Path,
              stats: ObservationNormalization | None) -> dict[str, Any]:
    import torch  # here and below: OnnxPolicy reads manifests without torch or gymnasium

    from .multi_rl_module import MultiRLModule
    from .spaces import space_to_json

    entries = module_entries(module)
    written = part.get("modules") if isinstance(part, Mapping) else None
    if not isinstance(written, Mapping) or set(written) != set(entries):
        got = sorted(written) if isinstance(written, Mapping) else type(written).__name__
        raise ExportError(
            f"export format {provenance['name']!r} returned manifest entries for {got}; "
            f"expected one per module id {sorted(entries)}"
        )
    modules = {}
    for module_id, sub in entries.items():
        observation_space = space_to_json(_raw_space(sub.observation_space) if stats
                                          else sub.observation_space)
        modules[module_id] = {
            "module_class": registry.name_of("module", type(sub)) or type(sub).__qualname__,
            "observation_space": observation_space,
            "action_space": space_to_json(sub.action_space),
            "observation_normalization": None if stats is None else attrs.asdict(stats),
            "artefact": written[module_id],
        }
    return {
        "manifest_version": MANIFEST_VERSION,
        "format": provenance,
        "multi_agent": isinstance(module, MultiRLModule),
        "modules": modules,
        "files": _file_entries(directory),
        "libraries": {"rlmodules": __version__, "torch": torch.__version__,
                      **dict(part.get("libraries") or {})},
    }


def _raw_space(space: Any) -> Any:
    """What an artefact with statistics baked in takes: raw observations of the module's
    shape, any float scale (the statistics are applied in float64)."""
    import gymnasium as gym
    import numpy as np

    return gym.spaces.Box(-np.inf, np.inf, space.shape, np.float64)


def _file_entries(directory: Path) -> dict[str, Any]:
    """The checksum and size of every file the format wrote (plain files only)."""
    files = {}
    for path in sorted(directory.iterdir()):
        if path.is_symlink() or not path.is_file():
            raise ExportError(
                f"an export format must write plain files; {path.name} is not one"
            )
        files[path.name] = {"checksum": file_checksum(path), "bytes": path.stat().st_size}
    return files

