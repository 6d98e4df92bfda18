"""rlmodules-mobilenet: a MobileNetV2 encoder in plain torch and a PPO module using it.

The encoder's parameters carry torchvision's names and shapes, so a locally saved
``torchvision.models.mobilenet_v2`` state dict loads strictly (frozen or fine-tuned); no
torchvision dependency, nothing downloaded. Registers the module ``"mobilenet_v2"``.
Importing this package is cheap: torch is imported when a class is first used.

Example::

    module = RLModuleSpec(module_class="mobilenet_v2", observation_space=image_space,
                          action_space=act_space, model_config={"freeze_encoder": True}).build()
    module.load_torchvision_weights("mobilenet_v2.pth")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "MobileNetV2Encoder": "encoder",
    "MobileNetV2ModelConfig": "module",
    "MobileNetV2PPOTorchRLModule": "module",
    "mobilenet_v2_features": "architecture",
}

__all__ = [
    "__version__",
    "MobileNetV2Encoder",
    "MobileNetV2ModelConfig",
    "MobileNetV2PPOTorchRLModule",
    "mobilenet_v2_features",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .architecture import mobilenet_v2_features
    from .encoder import MobileNetV2Encoder
    from .module import MobileNetV2ModelConfig, MobileNetV2PPOTorchRLModule
