"""``--allow-import``: the one flag that lets a command follow the import paths a run names.

``eval``, ``record``, ``export`` and ``train`` (``--resume``, ``--config``) read files that
may name code. A name read from a file resolves only to what a plugin registered (see
``rlmodules.registry.untrusted_input``); without the flag, a run that names anything else
(a module given as ``--module pkg.mod:Class``, an env factory or a ``policy_mapping_fn`` by
import path) is refused before anything loads, and the error lists each such path once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

__all__ = ["FLAG", "add_flag", "check_checkpoint", "refusal"]

FLAG = "--allow-import"


def add_flag(parser: Any) -> None:
    """Add ``--allow-import`` to a command's parser."""
    parser.add_argument(
        FLAG, action="store_true",
        help="import the code the run names by import path that no plugin registers (a "
             "module class, env or policy_mapping_fn): only for runs you trust")


def check_checkpoint(path: Path, allow_import: bool, *, parts: Iterable[str]) -> None:
    """Refuse the checkpoint at ``path`` unless ``allow_import`` or every import path it
    names in ``parts`` (see ``rlmodules.algorithms.named_code``) is registered."""
    if allow_import:
        return
    from rlmodules.algorithms.named_code import unregistered_import_paths

    names = unregistered_import_paths(path, parts=parts)
    if names:
        raise ConfigError(refusal(str(path), names))


def refusal(source: str, names: list[str]) -> str:
    """The error for ``source`` naming ``names`` by import path, which nothing registers."""
    return (
        f"{source} names code by import path that no plugin registers: {', '.join(names)}. "
        f"rlmodules imports code named in a file only when you say so: if you trust it, "
        f"pass {FLAG}"
    )
