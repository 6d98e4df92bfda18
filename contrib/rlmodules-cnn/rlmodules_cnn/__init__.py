"""rlmodules-cnn: CNN encoders for image observations, for rlmodules.

Installing it teaches the default catalogs image observations (``Box`` of shape
``[H, W, C]``, ``[C, H, W]`` or grayscale ``[H, W]``), so
``RLModuleSpec(module_class="ppo", ...)`` works on them unchanged, and registers the
module ``"tiny_atari_cnn"``. Importing this package is cheap: torch is imported when a
class is first used.

Example::

    from rlmodules import RLModuleSpec

    module = RLModuleSpec(module_class="tiny_atari_cnn", observation_space=image_space,
                          action_space=gym.spaces.Discrete(6)).build()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "CNNEncoder": "encoder",
    "TinyAtariCNN": "tiny_atari",
    "DEFAULT_CONV_FILTERS": "filters",
    "default_conv_filters": "filters",
    "image_shape": "filters",
    "image_layout": "filters",
    "ImageLayout": "filters",
}

__all__ = [
    "__version__",
    "CNNEncoder",
    "DEFAULT_CONV_FILTERS",
    "TinyAtariCNN",
    "default_conv_filters",
    "image_layout",
    "image_shape",
    "ImageLayout",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .encoder import CNNEncoder
    from .filters import (
        DEFAULT_CONV_FILTERS,
        ImageLayout,
        default_conv_filters,
        image_layout,
        image_shape,
    )
    from .tiny_atari import TinyAtariCNN
