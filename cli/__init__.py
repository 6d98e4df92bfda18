"""The ``rlmodules`` command line.

Each command lives in a submodule with a ``register(subparsers)`` function. Command modules
import nothing heavy at import time (``list`` and ``doctor`` never import torch).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rlmodules.errors import RLModulesError

__all__ = ["main"]

#: Submodules of ``rlmodules.cli`` that contribute commands.
COMMAND_MODULES: tuple[str, ...] = (
    "plugins", "check", "inspect", "record", "train", "port", "export", "benchmark",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlmodules",
        description="RL modules for PyTorch: list plugins, check modules, inspect checkpoints, "
        "train and evaluate.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except RLModulesError as exc:
        print(f"rlmodules {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `rlmodules list | head -1`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
