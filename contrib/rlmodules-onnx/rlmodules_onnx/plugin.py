"""The plugin the ``rlmodules`` entry point names: registers the export format ``"onnx"``.

The target is a lazy string, so listing names imports neither torch nor onnx.
"""

from __future__ import annotations

import rlmodules


@rlmodules.hookimpl
def rlmodules_export_formats() -> dict[str, str]:
    return {"onnx": "rlmodules_onnx.exporter:OnnxExportFormat"}
