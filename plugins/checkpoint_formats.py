"""The built-in checkpoint formats: safetensors (the default) and torch state-dict files.

Neither ever unpickles: safetensors holds no code, and the torch format reads with
``weights_only=True``, which refuses any pickled object that is not a tensor or plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

__all__ = ["SafetensorsFormat", "TorchStateDictFormat"]


class SafetensorsFormat:
    """``.safetensors`` files, loaded memory-mapped (pages are read as tensors are used)."""

    file_extension = ".safetensors"

    def save(self, tensors: Mapping[str, torch.Tensor], path: Path) -> None:
        save_file(dict(tensors), str(path))

    def load(self, path: Path, device: torch.device) -> dict[str, torch.Tensor]:
        return load_file(str(path), device=str(device))


class TorchStateDictFormat:
    """``torch.save`` state-dict files, read with ``weights_only=True`` and memory-mapped."""

    file_extension = ".pt"

    def save(self, tensors: Mapping[str, torch.Tensor], path: Path) -> None:
        torch.save(dict(tensors), path)

    def load(self, path: Path, device: torch.device) -> dict[str, torch.Tensor]:
        return torch.load(path, map_location=device, weights_only=True, mmap=True)
