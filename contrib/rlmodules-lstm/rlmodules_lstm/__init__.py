"""rlmodules-lstm: LSTM encoders and recurrent modules for rlmodules.

Installing it makes ``DefaultModelConfig(use_lstm=True)`` turn the default modules (``"ppo"``,
``"bc"``) recurrent over whatever encodes the observations (an MLP, a CNN, ...), and
registers the module ``"lstm"``. Importing this package is cheap: torch is imported when a
class is first used.

Example::

    module = RLModuleSpec(module_class="ppo", observation_space=obs_space,
                          action_space=act_space, model_config={"use_lstm": True}).build()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "LSTMEncoder": "encoder",
    "LSTMContainingRLModule": "modules",
}

__all__ = [
    "__version__",
    "LSTMContainingRLModule",
    "LSTMEncoder",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .encoder import LSTMEncoder
    from .modules import LSTMContainingRLModule
