"""The plugin the ``rlmodules`` entry point names: registers ``"mobilenet_v2"``.

The target is a lazy string, so listing names never imports torch.
"""

from __future__ import annotations

import rlmodules


@rlmodules.hookimpl
def rlmodules_modules() -> dict[str, str]:
    return {"mobilenet_v2": "rlmodules_mobilenet.module:MobileNetV2PPOTorchRLModule"}
