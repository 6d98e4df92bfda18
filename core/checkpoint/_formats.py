"""Formats that plugins register: checkpoint formats (tensor files) and export formats
(deployable artefacts), and the one resolver of their names.

A format is chosen by registered name only, never by import path, so that reading a file
never imports code it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from rlmodules import registry

from ..errors import CheckpointError, ExportError

if TYPE_CHECKING:
    import torch

__all__ = ["CheckpointFormat", "ExportFormat", "resolve_format"]


@runtime_checkable
class CheckpointFormat(Protocol):
    """What a checkpoint-format plugin provides: one flat ``{name: tensor}`` file.

    ``file_extension`` (e.g. ``".safetensors"``) names the files; ``save`` writes contiguous
    tensors that share no memory; ``load`` returns them on ``device`` and must never run code
    from the file (no unpickling). Register it under a name with the
    ``rlmodules_checkpoint_formats`` hook; a class is instantiated without arguments.

    Example::

        class NpzFormat:
            file_extension = ".npz"
            def save(self, tensors, path):
                np.savez(path, **{k: t.numpy() for k, t in tensors.items()})
            def load(self, path, device): ...
    """

    file_extension: str

    def save(self, tensors: Mapping[str, torch.Tensor], path: Path) -> None: ...

    def load(self, path: Path, device: torch.device) -> dict[str, torch.Tensor]: ...


@runtime_checkable
class ExportFormat(Protocol):
    """What an export-format plugin provides.

    ``export(module, directory, verify=...)`` writes the artefact files into the empty
    ``directory`` for ``module`` (an inference-only ``RLModule`` or ``MultiRLModule`` on the
    CPU, in eval mode) and returns its part of the manifest: ``{"modules": {module_id:
    {...}}, "libraries": {name: version}}`` with one entry per id of
    ``rlmodules.export.module_entries``. With ``verify=True`` it runs the artefact on
    ``rlmodules.export.sample_observations`` and raises :class:`~rlmodules.ExportError` when
    its greedy actions or distribution inputs differ from ``rlmodules.compute_actions``'s
    beyond the tolerance it states in the manifest. Register it under a name with the
    ``rlmodules_export_formats`` hook; a class is instantiated without arguments.

    Example::

        class TorchScriptFormat:
            def export(self, module, directory, *, verify):
                torch.jit.script(module).save(directory / "policy.pt")
                return {"modules": {"default_policy": {"file": "policy.pt"}}, "libraries": {}}
    """

    def export(self, module: Any, directory: Path, *, verify: bool) -> dict[str, Any]: ...


class _Kind(NamedTuple):
    protocol: type
    error: type[Exception]
    label: str  # "a checkpoint format"
    examples: str
    lacks: str  # what an object that is not such a format lacks
    contract: str


_KINDS = {
    "checkpoint_format": _Kind(
        CheckpointFormat, CheckpointError, "a checkpoint format", "'safetensors' or 'torch'",
        "lacks file_extension, save() and load()", "rlmodules.checkpoint.CheckpointFormat"),
    "export_format": _Kind(
        ExportFormat, ExportError, "an export format", "'onnx'",
        "has no export(module, directory, verify=...) method", "rlmodules.export.ExportFormat"),
}


def resolve_format(name: str, kind: str = "checkpoint_format") -> tuple[Any, dict[str, Any]]:
    """The format registered as ``name`` (an instance; a class is instantiated) and its
    provenance ``{name, distribution, version}``; ``kind`` is ``"checkpoint_format"`` or
    ``"export_format"``. A bad name or an object that is not such a format raises
    :class:`CheckpointError` / :class:`ExportError`."""
    spec = _KINDS[kind]
    if not isinstance(name, str) or not name or ":" in name:
        path = (": that is an import path; formats are chosen by registered name so that "
                "loading never imports code named in a file"
                if isinstance(name, str) and ":" in name else "")
        raise spec.error(
            f"{spec.label} is a registered name such as {spec.examples} (see `rlmodules list "
            f"{kind}`), got {name!r}{path}"
        )
    target = registry.get(kind, name)
    fmt = target() if isinstance(target, type) else target
    if not isinstance(fmt, spec.protocol):
        raise spec.error(
            f"{spec.label.split(' ', 1)[1]} {name!r} is {target!r}, which {spec.lacks}; see "
            f"{spec.contract}"
        )
    return fmt, registry.record(kind, name).provenance
