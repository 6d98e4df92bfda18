"""The ``rlmodules`` command line.

Each command lives in a submodule with a ``register(subparsers)`` function. Command modules
import nothing heavy at import time (``list`` and ``doctor`` never import torch).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from rlmodules.errors import RLModulesError
from rlmodules.registry import PluginWarning

__all__ = ["main"]

#: Submodules of ``rlmodules.cli`` that contribute commands.
COMMAND_MODULES: tuple[str, ...] = (
    "plugins", "check", "inspect", "record", "train", "port", "export", "package", "new_plugin",
    "benchmark",
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
        with warnings.catch_warnings():  # restores the caller's showwarning afterwards
            warnings.showwarning = _one_line_plugin_warnings(warnings.showwarning)
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except RLModulesError as exc:
        print(f"rlmodules {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `rlmodules list | head -1`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _one_line_plugin_warnings(show: Any) -> Any:
    """``showwarning`` that prints a :class:`PluginWarning` as ``warning: <text>`` on stderr
    (one line, no source line) and every other warning as ``show`` does."""

    def showwarning(message: Any, category: type[Warning], filename: str, lineno: int,
                    file: Any = None, line: str | None = None) -> None:
        if issubclass(category, PluginWarning):
            print(f"warning: {message}", file=sys.stderr if file is None else file)
        else:
            show(message, category, filename, lineno, file, line)

    return showwarning


if __name__ == "__main__":
    sys.exit(main())
