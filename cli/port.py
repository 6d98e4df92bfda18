"""``rlmodules port FILE_OR_DIR... [--write]``: rewrite RLlib imports to rlmodules ones.

The porting rule is module level: each ``ray.rllib...`` module an import names maps to one
rlmodules module (the table in the README), and the imported names keep their spelling.
Sources are parsed, never imported or run. Without ``--write`` a unified diff is printed;
every imported name that has no counterpart is listed with its line, and the exit status
is 1 when there is any.

Example::

    rlmodules port my_project/modules/ --write
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from rlmodules.checkpoint import atomic_write_file
from rlmodules.errors import ConfigError

__all__ = ["Missing", "port_source", "register", "target_module"]

_ALGOS = "ppo|bc|dqn|sac|marwil|appo|impala"

#: (RLlib module pattern, rlmodules module), first match wins.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), target) for pattern, target in (
        (rf"ray\.rllib\.algorithms\.({_ALGOS})\.torch(\.\w+)*", "rlmodules.plugins"),
        (rf"ray\.rllib\.algorithms\.({_ALGOS})\.\1_catalog", "rlmodules.plugins"),
        (rf"ray\.rllib\.algorithms(\.({_ALGOS})(\.\2)?|\.algorithm_config)",
         "rlmodules.algorithms"),
        (r"ray\.rllib\.core\.rl_module\.apis(\.\w+)*", "rlmodules.apis"),
        (r"ray\.rllib\.core\.models(\.\w+)*", "rlmodules.models"),
        (r"ray\.rllib\.core\.distribution(\.\w+)*", "rlmodules.distributions"),
        (r"ray\.rllib\.models\.(torch\.torch_distributions|distributions)",
         "rlmodules.distributions"),
        (r"ray\.rllib\.core(\.columns|\.rl_module(\.rl_module|\.torch(\.torch_rl_module)?"
         r"|\.multi_rl_module|\.default_model_config)?)?", "rlmodules"),
        (r"ray\.rllib\.utils(\.\w+)*", "rlmodules.compat"),
        (r"ray\.rllib\.(models\.utils|models\.torch\.misc|core\.learner\.utils)",
         "rlmodules.compat"),
    )
)


class Missing(NamedTuple):
    """An imported name (or module) without an rlmodules counterpart, at ``line``."""

    line: int
    module: str
    name: str | None  # None: the module itself has no counterpart

    def describe(self) -> str:
        if self.name is None:
            return f"line {self.line}: module {self.module} has no rlmodules counterpart"
        return (f"line {self.line}: {self.name} (from {self.module}) has no counterpart in "
                f"{target_module(self.module)}")


def target_module(module: str) -> str | None:
    """The rlmodules module for RLlib module ``module`` (None if the rule has none)."""
    for pattern, target in _RULES:
        if pattern.match(module):
            return target
    return None


def _has(target: str, name: str) -> bool:
    """True if our module ``target`` provides ``name`` (our own code: safe to import)."""
    module = importlib.import_module(target)
    try:
        getattr(module, name)
    except AttributeError:
        return False
    return True


def port_source(text: str, filename: str = "<source>") -> tuple[str, list[Missing]]:
    """``text`` with its RLlib imports rewritten, and what has no counterpart."""
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise ConfigError(f"cannot port {filename}: it is not valid Python ({exc.msg}, line "
                          f"{exc.lineno})") from None
    lines = text.splitlines(keepends=True)
    missing: list[Missing] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            _port_from(node, lines, missing)
        elif isinstance(node, ast.Import):
            _port_import(node, lines, missing)
    return "".join(lines), sorted(missing)


def _is_ray(module: str) -> bool:
    return module == "ray" or module.startswith("ray.")


def _port_from(node: ast.ImportFrom, lines: list[str], missing: list[Missing]) -> None:
    module = node.module or ""
    if not _is_ray(module):
        return
    target = target_module(module)
    if target is None:
        missing.append(Missing(node.lineno, module, None))
        return
    for alias in node.names:
        if alias.name != "*" and not _has(target, alias.name):
            missing.append(Missing(node.lineno, module, alias.name))
    index = node.lineno - 1
    lines[index] = re.sub(rf"(\bfrom\s+){re.escape(module)}\b", rf"\g<1>{target}", lines[index],
                          count=1)


def _port_import(node: ast.Import, lines: list[str], missing: list[Missing]) -> None:
    for alias in node.names:
        if not _is_ray(alias.name):
            continue
        target = target_module(alias.name)
        if target is None or alias.asname is None:
            # `import ray.rllib.x` binds the name `ray`, which no rewrite can keep.
            missing.append(Missing(node.lineno, alias.name, None))
            continue
        index = node.lineno - 1
        lines[index] = re.sub(rf"(?<![\w.]){re.escape(alias.name)}(?=\s+as\b)", target,
                              lines[index], count=1)


def _python_files(paths: list[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise ConfigError(f"cannot port {raw}: no such file or directory")


def _run(args: argparse.Namespace) -> int:
    files = list(_python_files(args.paths))
    all_missing = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        ported, missing = port_source(text, str(path))
        if ported != text:
            if args.write:
                atomic_write_file(path, ported)
                print(f"rewrote {path}")
            else:
                sys.stdout.writelines(difflib.unified_diff(
                    text.splitlines(keepends=True), ported.splitlines(keepends=True),
                    fromfile=str(path), tofile=f"{path} (ported)",
                ))
        for item in missing:
            print(f"{path}: {item.describe()}", file=sys.stderr)
        all_missing += len(missing)
    if all_missing:
        print(f"{all_missing} import(s) without an rlmodules counterpart (see README: Porting "
              f"from RLlib)", file=sys.stderr)
        return 1
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "port", help="rewrite RLlib imports to rlmodules ones (a diff unless --write)",
        description="Rewrite the imports of RLlib modules to their rlmodules counterparts; "
        "list every imported name that has none, with its line.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR",
                        help="Python files, or directories searched for *.py files")
    parser.add_argument("--write", action="store_true",
                        help="rewrite the files in place instead of printing a diff")
    parser.set_defaults(func=_run)
