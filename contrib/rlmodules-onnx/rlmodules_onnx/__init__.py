"""rlmodules-onnx: export a policy to ONNX, and run it with onnxruntime without torch.

``rlmodules export CKPT --format onnx --out DIR`` (or :class:`OnnxExportFormat` through
``rlmodules.export.export``) writes one ONNX graph per module id and a JSON manifest, after
checking the graph acts as the module does; :class:`OnnxPolicy` loads such a directory and
acts with numpy and onnxruntime only. Importing this package imports neither. A plugin
gives OnnxPolicy the numpy sampler of its distribution through the
``rlmodules_onnx_samplers`` hook (:mod:`rlmodules_onnx.hookspecs`).

Example::

    policy = OnnxPolicy("exported", seed=0)
    out = policy.compute_actions(obs[None], explore=False)
    env.step(out["actions_for_env"][0])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "OnnxPolicy": "runtime",
    "OnnxExportFormat": "exporter",
    "ExplorationUnavailableWarning": "exporter",
}

__all__ = ["__version__", "ExplorationUnavailableWarning", "OnnxExportFormat", "OnnxPolicy"]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:
    from .exporter import ExplorationUnavailableWarning, OnnxExportFormat
    from .runtime import OnnxPolicy
