"""Exporting a module for deployment: the export-format contract and its one entry point.

An export format (registered through the ``rlmodules_export_formats`` hook, e.g. ``"onnx"``
from the ``rlmodules-onnx`` package) turns an inference-only module into an artefact that acts
without this library. :func:`export` loads the module (through ``RLModule.from_checkpoint``
when given a path), lets the format write its files into a fresh directory and adds the JSON
manifest, ``manifest.json``: per module id the spaces and the module class, plus what the
format records (tensor names, state shapes, the action distribution), and the library
versions. The directory appears atomically, whole or not at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlmodules import __version__, registry

from .checkpoint import ExportFormat, atomic_directory, resolve_format
from .errors import ExportError
from .rl_module import DEFAULT_MODULE_ID, RLModule

__all__ = [
    "MANIFEST_FILE",
    "MANIFEST_VERSION",
    "ExportFormat",
    "export",
    "module_entries",
    "read_manifest",
    "sample_observations",
]

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1


def export(
    source: RLModule | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str = "onnx",  # noqa: A002  (the CLI's --format, the word users know)
    verify: bool = True,
) -> Path:
    """Export ``source`` (a module, or the path of a module checkpoint) to the directory ``out``.

    ``format`` is a registered export-format name (``rlmodules list export_format``). A
    checkpoint loads as its inference-only build on the CPU; a module is exported from a
    CPU copy in eval mode (the module itself is left as it was). A plain MultiRLModule
    holding only ``"default_policy"`` (a single-agent training run) exports as that
    module. An existing ``out`` is replaced only if it is empty or an earlier export.
    Returns the directory.

    Example::

        rlmodules.export.export("ckpt", "policy", format="onnx")
        policy = rlmodules_onnx.OnnxPolicy("policy")
    """
    exporter, provenance = resolve_format(format, "export_format")
    module = _load(source)
    with atomic_directory(out, marker_file=MANIFEST_FILE) as tmp:
        part = exporter.export(module, tmp, verify=verify)
        manifest = _manifest(module, provenance, part)
        text = json.dumps(manifest, indent=2, allow_nan=False)
        (tmp / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
    return Path(out).expanduser().absolute()


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of an export directory, checked for its version."""
    path = Path(directory) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(
            f"{directory} is not an export directory: it has no {MANIFEST_FILE}; write one "
            f"with `rlmodules export CKPT --format onnx --out {directory}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read {path}: {exc}") from None
    version = manifest.get("manifest_version") if isinstance(manifest, dict) else None
    if version != MANIFEST_VERSION:
        raise ExportError(
            f"{path} has manifest_version {version!r}; this version reads {MANIFEST_VERSION} "
            f"(export the module again with this version of rlmodules)"
        )
    return manifest


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


def _manifest(module: Any, provenance: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
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
        modules[module_id] = {
            "module_class": registry.name_of("module", type(sub)) or type(sub).__qualname__,
            "observation_space": space_to_json(sub.observation_space),
            "action_space": space_to_json(sub.action_space),
            **written[module_id],
        }
    return {
        "manifest_version": MANIFEST_VERSION,
        "format": provenance,
        "multi_agent": isinstance(module, MultiRLModule),
        "modules": modules,
        "libraries": {"rlmodules": __version__, "torch": torch.__version__,
                      **dict(part.get("libraries") or {})},
    }
