"""``rlmodules port FILE_OR_DIR... [--write]``: rewrite RLlib imports to rlmodules ones.

The porting rule is module level: each ``ray.rllib...`` module an import names maps to one
rlmodules module (the table in the README), and the imported names keep their spelling.
Sources are parsed, never imported or run. Without ``--write`` a unified diff is printed;
every imported name that has no counterpart is listed with its line, and the exit status
is 1 when there is any.

``--write`` never loses a user's source: every file is read and ported in memory before
any is written (a file that is not valid Python, or not valid in its encoding, stops the
run with nothing written); each file keeps its encoding (PEP 263 coding line or UTF-8 BOM),
line endings and permission bits, and is replaced atomically, unless it changed while the
port ran (then it is left alone and reported). A symlink is ported at its target and stays
a link; a link met inside a directory that leads out of it is refused.

Example::

    rlmodules port my_project/modules/ --write
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import io
import os
import re
import sys
import tokenize
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
    lines = _lines(text)
    missing: list[Missing] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            _port_from(node, lines, missing)
        elif isinstance(node, ast.Import):
            _port_import(node, lines, missing)
    return "".join(lines), sorted(missing)


def _lines(text: str) -> list[str]:
    """``text`` split as Python counts lines (``\\n``, ``\\r\\n``, ``\\r``), endings kept
    untranslated: ``str.splitlines`` would also split at form feeds and other separators."""
    return io.StringIO(text, newline="").readlines()


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


class _Source(NamedTuple):
    """A file to port as read: its real path (symlinks resolved), bytes, encoding, stat."""

    shown: Path  # the path as found (a symlink stays a symlink)
    real: Path
    raw: bytes
    encoding: str
    stat: os.stat_result


def _python_files(paths: list[str]) -> Iterator[tuple[Path, Path | None]]:
    """``(file, directory it was found in)``; the directory is ``None`` for a named file."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from ((p, path) for p in sorted(path.rglob("*.py")) if p.is_file())
        elif path.is_file():
            yield path, None
        else:
            raise ConfigError(f"cannot port {raw}: no such file or directory")


def _real_path(path: Path, walked: Path | None) -> Path:
    """Where ``path`` leads: a symlink is ported at its target (the link stays a link), but a
    link found inside a directory must stay inside it, so that porting one project never
    rewrites another's file."""
    real = Path(os.path.realpath(path))
    if walked is not None and path.is_symlink():
        inside = Path(os.path.realpath(walked))
        if inside != real and inside not in real.parents:
            raise ConfigError(
                f"cannot port {path}: it is a symlink to {real}, outside {walked}; port "
                f"{real} itself if you mean to change it"
            )
    return real


def _read(shown: Path, real: Path) -> _Source:
    """The file's bytes and encoding (its PEP 263 coding line or BOM, else UTF-8), checked."""
    raw = real.read_bytes()
    before = os.stat(real)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        if "unknown encoding" in str(exc):
            raise ConfigError(f"cannot port {shown}: its coding line names an unknown "
                              f"encoding ({exc})") from None
        encoding = "utf-8"  # no usable declaration: the decoding below says where it fails
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = f"byte {raw[exc.start]:#04x} at offset {exc.start}"
        if encoding in ("utf-8", "utf-8-sig"):
            raise ConfigError(
                f"cannot port {shown}: {bad} is not UTF-8, and the file declares no other "
                f"encoding; save it as UTF-8 or declare its encoding in a PEP 263 coding line "
                f"such as '# -*- coding: latin-1 -*-'"
            ) from None
        raise ConfigError(f"cannot port {shown}: {bad} is not {encoding}, the encoding its "
                          f"coding line declares; fix the coding line") from None
    return _Source(shown, real, raw, encoding, before)


def _write(source: _Source, text: str) -> None:
    """Replace the file atomically, in its own encoding, unless it changed since it was read."""

    def unchanged() -> None:
        now = os.stat(source.real)
        same = (now.st_mtime_ns, now.st_size, now.st_ino) == (
            source.stat.st_mtime_ns, source.stat.st_size, source.stat.st_ino)
        if not same or source.real.read_bytes() != source.raw:
            raise ConfigError(
                f"not rewriting {source.shown}: it changed while it was being ported; it is "
                f"left as it is now; run `rlmodules port` again"
            )

    atomic_write_file(source.real, text.encode(source.encoding), before_replace=unchanged)


def _ported(paths: list[str]) -> list[tuple[_Source, str, list[Missing]]]:
    """Every file read and ported in memory first: a bad file stops the run before any write."""
    results = []
    seen: set[Path] = set()
    for path, walked in _python_files(paths):
        real = _real_path(path, walked)
        if real in seen:
            continue
        seen.add(real)
        source = _read(path, real)
        text = source.raw.decode(source.encoding)
        ported, missing = port_source(text, str(path))
        results.append((source, ported if ported != text else "", missing))
    return results


def _run(args: argparse.Namespace) -> int:
    all_missing, refused = 0, 0
    for source, ported, missing in _ported(args.paths):
        path = source.shown
        if ported and args.write:
            try:
                _write(source, ported)
            except ConfigError as exc:
                print(f"rlmodules port: error: {exc}", file=sys.stderr)
                refused += 1
            else:
                shown = f"{path} (-> {source.real})" if path.is_symlink() else f"{path}"
                print(f"rewrote {shown}")
        elif ported:
            text = source.raw.decode(source.encoding)
            sys.stdout.writelines(difflib.unified_diff(
                _lines(text), _lines(ported), fromfile=str(path), tofile=f"{path} (ported)",
            ))
        for item in missing:
            print(f"{path}: {item.describe()}", file=sys.stderr)
        all_missing += len(missing)
    if all_missing:
        print(f"{all_missing} import(s) without an rlmodules counterpart (see README: Porting "
              f"from RLlib)", file=sys.stderr)
    return 1 if all_missing or refused else 0


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
