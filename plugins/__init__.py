"""The built-in plugins: default modules and catalogs, distributions, checkpoint formats.

They are registered through the same ``rlmodules`` entry point a third party uses
(``rlmodules.plugins.builtin``). Importing this package is cheap; each name below is
imported on first access.

Example::

    from rlmodules.plugins import DefaultPPOTorchRLModule, PPOCatalog
"""

from __future__ import annotations

from rlmodules.lazy import lazy_exports

_LAZY = {
    "DefaultBCTorchRLModule": "bc",
    "BCCatalog": "bc",
    "DefaultPPOTorchRLModule": "ppo",
    "PPOTorchRLModule": "ppo",
    "PPOCatalog": "ppo",
    "DefaultDQNTorchRLModule": "dqn",
    "DQNCatalog": "dqn",
    "DefaultSACTorchRLModule": "sac",
    "SACCatalog": "sac",
    "Categorical": "categorical",
    "DiagGaussian": "gaussians",
    "SquashedGaussian": "gaussians",
    "Deterministic": "deterministic",
    "MultiCategorical": "categorical",
    "MultiDistribution": "multi_distribution",
    "SafetensorsFormat": "checkpoint_formats",
    "TorchStateDictFormat": "checkpoint_formats",
}

__all__ = list(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
