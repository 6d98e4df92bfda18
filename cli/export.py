"""``rlmodules export CKPT --format NAME --out DIR``: a deployable artefact of a policy.

Formats come from plugins (``rlmodules-onnx`` provides ``onnx``); the artefact is verified
against the module before the directory appears.
"""

from __future__ import annotations

import argparse
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

    from .record import module_checkpoint

    out = export(module_checkpoint(args.checkpoint), args.out, format=args.format,
                 verify=not args.no_verify)
    manifest = read_manifest(out)
    for module_id, entry in manifest["modules"].items():
        checked = entry.get("verification")
        note = (f"verified on {checked['observations']} observations (max |diff| "
                f"{checked['max_abs_diff']:.1e})" if checked else "not verified")
        print(f"{module_id}: {out / entry['file']}  {note}")
    print(f"manifest: {out / 'manifest.json'}")
    return 0
