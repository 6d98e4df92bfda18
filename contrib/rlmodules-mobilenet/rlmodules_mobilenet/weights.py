"""Reading a torchvision MobileNetV2 state dict from a local file, without unpickling code.

``.safetensors`` files are read with safetensors; anything else with
``torch.load(weights_only=True)``. Either the whole model's state dict (``features.*`` and
``classifier.*`` keys; the classifier is dropped) or the features' own state dict is accepted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from rlmodules.errors import CheckpointError
from torch import nn

__all__ = ["read_state_dict", "features_state_dict", "load_features_strictly"]

_FEATURES = "features."
_CLASSIFIER = "classifier."


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The tensors in a ``.safetensors`` or torch state-dict file (CPU)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no MobileNetV2 weights file at {str(path)!r}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, or a pickle that needs code: refuse either way
        raise CheckpointError(
            f"cannot read MobileNetV2 weights from {str(path)!r}: {type(exc).__name__}: {exc}. "
            f"Expected a state dict saved with torch.save(model.state_dict(), path) or "
            f"safetensors.torch.save_file"
        ) from exc
    if not isinstance(state, Mapping):
        raise CheckpointError(
            f"{str(path)!r} holds a {type(state).__name__}, not a state dict of tensors"
        )
    return dict(state)


def features_state_dict(state: Mapping[str, Any]) -> dict[str, Any]:
    """The ``features`` part of a whole-model state dict; a features-only one as it is."""
    if not any(key.startswith(_FEATURES) for key in state):
        return dict(state)
    return {
        key[len(_FEATURES):] if key.startswith(_FEATURES) else key: value
        for key, value in state.items()
        if not key.startswith(_CLASSIFIER)
    }


def load_features_strictly(features: nn.Module, state: Mapping[str, Any]) -> None:
    """Load ``state`` into ``features``: every key present, none extra, every shape equal,
    else ``CheckpointError`` and nothing is loaded."""
    own = features.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [
        f"{k}: {tuple(getattr(v, 'shape', ()))} (expected {tuple(own[k].shape)})"
        for k, v in state.items()
        if k in own and tuple(getattr(v, "shape", ())) != tuple(own[k].shape)
    ]
    if missing or unexpected or wrong:
        problems = []
        for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                             ("shape mismatches", wrong)):
            if items:
                more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
                problems.append(f"{label} {items[:5]}{more}")
        raise CheckpointError(
            f"these are not torchvision MobileNetV2 (width 1.0) weights: {'; '.join(problems)}. "
            f"Expected the state dict of torchvision.models.mobilenet_v2() or of its .features"
        )
    with torch.no_grad():
        features.load_state_dict(state, strict=True)
