"""``rlmodules export CKPT --format NAME --out DIR``: a deployable artefact of a policy.

Formats come from plugins (``rlmodules-onnx`` provides ``onnx``); the artefact is verified
against the module before the directory appears. A run trained with
``observation_filter="MeanStdFilter"`` exports with its frozen statistics baked in, so the
artefact acts on raw observations. What the format warns about (e.g. a distribution it
cannot sample) is printed as one line each.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``export`` command."""
    p = subparsers.add_parser(
        "export", help="export a checkpoint's policy to a deployable format (e.g. onnx, from "
        "rlmodules-onnx), verified against the module"
    )
    p.add_argument("checkpoint", type=Path, help="a module checkpoint, an algorithm "
                   "checkpoint or a `rlmodules train` run directory")
    p.add_argument("--format", default="onnx", help="a registered export format "
                   "(`rlmodules list export_format`; default: onnx)")
    p.add_argument("--out", type=Path, required=True, help="the directory to write (replaced "
                   "if it holds an earlier export)")
    p.add_argument("--no-verify", action="store_true", help="skip comparing the artefact's "
                   "actions with the module's")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from rlmodules.export import export, read_manifest

    module_path, stats = _source(args.checkpoint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = export(module_path, args.out, format=args.format, verify=not args.no_verify,
                     observation_normalization=stats)
    for warning in caught:
        print(f"rlmodules export: warning: {warning.message}", file=sys.stderr)
    manifest = read_manifest(out)
    for module_id, entry in manifest.modules.items():
        checked = entry.artefact.get("verification")
        note = (f"verified on {checked['observations']} observations (max |diff| "
                f"{checked['max_abs_diff']:.1e})" if checked else "not verified")
        if entry.observation_normalization is not None:
            note += "; observation statistics baked in (acts on raw observations)"
        print(f"{module_id}: {out / entry.artefact.get('file', '')}  {note}")
    print(f"manifest: {out / 'manifest.json'}")
    return 0


def _source(path: Path) -> tuple[Path, Any]:
    """The module checkpoint to export and the frozen observation statistics of the run
    (``None`` unless it was trained with ``MeanStdFilter``)."""
    from rlmodules.algorithms.algorithm import MODULE_COMPONENT
    from rlmodules.algorithms.checkpoint import STATE_FILE
    from rlmodules.algorithms.obs_normalization import ObservationNormalizer
    from rlmodules.export import ObservationNormalization

    from .train import checkpoint_dir

    path = checkpoint_dir(Path(path))
    if not (path / STATE_FILE).is_file():
        return path, None  # a module checkpoint
    normalizer = ObservationNormalizer.from_checkpoint(path)
    if normalizer is None:
        return path / MODULE_COMPONENT, None
    stats = ObservationNormalization(
        mean=normalizer.stats.mean.reshape(-1).tolist(),
        var=normalizer.stats.var.reshape(-1).tolist(),
        clip=normalizer.clip, epsilon=normalizer.epsilon)
    return path / MODULE_COMPONENT, stats
