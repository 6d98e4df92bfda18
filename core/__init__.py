"""rlmodules: the RLModule API for PyTorch, as a plugin ecosystem.

Importing ``rlmodules`` is cheap: nothing is discovered and torch is not imported until a
name that needs it is used (``from rlmodules import TorchRLModule`` imports torch).

Example::

    from rlmodules import RLModuleSpec, compute_actions

    module = RLModuleSpec(module_class="ppo", observation_space=obs_space,
                          action_space=act_space).build()
    out = compute_actions(module, {"obs": obs}, explore=True)
"""

from __future__ import annotations

from .columns import Columns
from .errors import (
    AmbiguousNameError,
    BatchError,
    CheckpointError,
    ConfigError,
    ExportError,
    PluginError,
    RLModulesError,
    SpaceError,
    SpecError,
    UnknownNameError,
)
from .lazy import lazy_exports

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing costs milliseconds to import; only type checkers need it

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "RLModule": "rl_module",
    "RLModuleConfig": "rl_module",
    "DEFAULT_MODULE_ID": "rl_module",
    "TorchRLModule": "torch_rl_module",
    "MultiRLModule": "multi_rl_module",
    "RLModuleSpec": "specs",
    "MultiRLModuleSpec": "specs",
    "DefaultModelConfig": "model_config",
    "Distribution": "distribution",
    "Catalog": "catalog",
    "Encoder": "networks",
    "compute_actions": "actions",
    "space_to_json": "spaces",
    "space_from_json": "spaces",
    "hookimpl": "hookspecs",  # lazy: pluggy is not needed to list names from the cache
}

__all__ = [
    "AmbiguousNameError",
    "BatchError",
    "CheckpointError",
    "Columns",
    "ConfigError",
    "ExportError",
    "PluginError",
    "RLModulesError",
    "SpaceError",
    "SpecError",
    "UnknownNameError",
    "__version__",
    *_LAZY,
]


# Sub-packages reachable as attributes after a bare `import rlmodules`, imported on first use.
_SUBPACKAGES = ("registry", "plugins", "algorithms", "envs", "testing", "cli", "apis", "models",
                "distributions", "compat", "networks")

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, subpackages=_SUBPACKAGES)


if TYPE_CHECKING:
    from .actions import compute_actions
    from .catalog import Catalog
    from .distribution import Distribution
    from .hookspecs import hookimpl
    from .model_config import DefaultModelConfig
    from .multi_rl_module import MultiRLModule
    from .networks import Encoder
    from .rl_module import DEFAULT_MODULE_ID, RLModule, RLModuleConfig
    from .spaces import space_from_json, space_to_json
    from .specs import MultiRLModuleSpec, RLModuleSpec
    from .torch_rl_module import TorchRLModule
