"""The built-in plugins: default modules and catalogs, distributions, checkpoint formats.

They are registered through the same ``rlmodules`` entry point a third party uses
(``rlmodules.plugins.builtin``). Importing this package is cheap; each name below is
imported on first access.

Example::

    from rlmodules.plugins import DefaultPPOTorchRLModule, PPOCatalog
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DefaultBCTorchRLModule": "bc",
    "BCCatalog": "bc",
    "DefaultPPOTorchRLModule": "ppo",
    "PPOCatalog": "ppo",
    "DefaultDQNTorchRLModule": "dqn",
    "DQNCatalog": "dqn",
    "Categorical": "distributions",
    "DiagGaussian": "distributions",
    "SquashedGaussian": "distributions",
    "Deterministic": "distributions",
    "MultiCategorical": "distributions",
    "MultiDistribution": "distributions",
    "SafetensorsFormat": "checkpoint_formats",
    "TorchStateDictFormat": "checkpoint_formats",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rlmodules.plugins' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
