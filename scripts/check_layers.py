"""Checks the layering: import-linter's contracts (pyproject.toml) and private names.

The source tree maps folders onto the ``rlmodules`` package (``core/`` is ``rlmodules``,
``algorithms/`` is ``rlmodules.algorithms``, ...; see ``[tool.setuptools.package-dir]``),
which import-linter cannot follow in an editable install. So this lays the package out as
an installed wheel would, in a temporary folder of links, and runs the checks there:

1. ``lint-imports`` with the contracts of ``pyproject.toml`` (layers, no import circles);
2. no module imports a private name (``_x``, as a module or an attribute) of a package
   other than its own: ``from rlmodules._lazy import ...`` in ``rlmodules.algorithms`` is
   refused, ``from ._build import ...`` inside ``rlmodules.checkpoint`` is fine.

Usage: ``python scripts/check_layers.py [ROOT]`` (exit 1 and the reasons when broken).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra installs tomli there
    import tomli as tomllib

ROOT_PACKAGE = "rlmodules"


def package_dirs(root: Path) -> dict[str, Path]:
    """``{package: folder}`` from pyproject.toml's ``[tool.setuptools.package-dir]``."""
    data = tomllib.loads((root / "pyproject.toml").read_text())
    mapping = data["tool"]["setuptools"]["package-dir"]
    return {package: root / folder for package, folder in mapping.items()}


def lay_out(root: Path, target: Path) -> Path:
    """Links the source folders into ``target/rlmodules/...`` as a wheel would lay them."""
    dirs = package_dirs(root)
    top = target / ROOT_PACKAGE
    top.mkdir(parents=True)
    for entry in dirs[ROOT_PACKAGE].iterdir():
        if entry.name != "__pycache__":
            (top / entry.name).symlink_to(entry)
    for package, folder in sorted(dirs.items()):
        if package == ROOT_PACKAGE:
            continue
        link = target.joinpath(*package.split("."))
        if link.is_symlink():  # a sub-package nested in its parent's folder already
            continue
        link.symlink_to(folder)
    return target


def modules(dirs: dict[str, Path]) -> Iterator[tuple[str, str, Path]]:
    """``(owning package, module name, file)`` of every module in the source folders."""
    nested = {package: folder.resolve() for package, folder in dirs.items()}
    for package, folder in dirs.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            inner = [p for p in nested.values() if p != folder.resolve()
                     and path.resolve().is_relative_to(p)]
            if inner:  # a sub-package mapped to its own folder inside this one
                continue
            name = ".".join((package, *parts)).removesuffix(".__init__")
            yield owner_of(name, path.name == "__init__.py", set(dirs)), name, path


def owner_of(module: str, is_package: bool, packages: set[str]) -> str:
    """The package a module belongs to: the longest mapped package, or a sub-package of the
    core (``rlmodules.checkpoint``) when the module lies inside one."""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    mapped = max((p for p in packages if module == p or module.startswith(p + ".")), key=len)
    return ".".join(parts) if len(parts) > len(mapped.split(".")) else mapped


def private_imports(dirs: dict[str, Path]) -> list[str]:
    """Every import of another package's private module or name, as ``file:line: text``."""
    found = []
    listed = list(modules(dirs))
    owners = {name: owner for owner, name, _ in listed}
    for owner, name, path in listed:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            for imported in _imported_names(node, name, path.name == "__init__.py"):
                other = _private_owner(imported, owners)
                if other is not None and not _inside(owner, other, set(dirs)):
                    found.append(f"{path}:{node.lineno}: {name} imports {imported}, "
                                 f"private to {other}")
    return found


def _imported_names(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names
                    if alias.name.split(".")[0] == ROOT_PACKAGE)
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node, module, is_package)
        if base.split(".")[0] != ROOT_PACKAGE:
            return
        yield base
        yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join([*parts[:keep], *([node.module] if node.module else [])])


def _private_owner(imported: str, owners: dict[str, str]) -> str | None:
    """The package owning the first private component of ``imported`` (None: all public):
    a private module belongs to its package, a private name to its module's package."""
    parts = imported.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            parent = ".".join(parts[:i])
            return owners.get(parent, parent)
    return None


def _inside(importer: str, owner: str, packages: set[str]) -> bool:
    """Whether a module of package ``importer`` may use ``owner``'s private names: its own
    package or a package nested in it, but the core's separately mapped sub-packages
    (``rlmodules.algorithms``, ...) are packages of their own."""
    if importer == owner:
        return True
    if not importer.startswith(owner + "."):
        return False
    return not any(p != owner and (importer == p or importer.startswith(p + "."))
                   and p.startswith(owner + ".") for p in packages)


def contrib_dirs(root: Path) -> dict[str, Path]:
    """The contrib distributions' packages (``contrib/*/rlmodules_*``): users of public
    names only, like any third party."""
    return {folder.name: folder for folder in sorted(root.glob("contrib/*/rlmodules_*"))
            if (folder / "__init__.py").is_file()}


def unplaced_modules(root: Path, dirs: dict[str, Path]) -> list[str]:
    """Top-level modules of the root package that no ``layers`` contract over it places:
    a new core module must be put in its layer, or the contract would not check it."""
    data = tomllib.loads((root / "pyproject.toml").read_text())
    contracts = data["tool"].get("importlinter", {}).get("contracts", [])
    placed: set[str] = set()
    for contract in contracts:
        if contract.get("type") == "layers" and ROOT_PACKAGE in contract.get("containers", []):
            for layer in contract["layers"]:
                placed.update(n.strip() for n in layer.replace("|", ":").split(":"))
    if not placed:
        return []
    children = {path.stem for path in dirs[ROOT_PACKAGE].glob("*.py")} | {
        path.name for path in dirs[ROOT_PACKAGE].iterdir() if (path / "__init__.py").is_file()}
    children |= {p.split(".")[1] for p in dirs if p.count(".") == 1}
    return [f"pyproject.toml: module {ROOT_PACKAGE}.{name} is in no layer of the layers "
            f"contract; add it to its layer" for name in sorted(children - placed - {"__init__"})]


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1])
    dirs = package_dirs(root)
    problems = private_imports({**dirs, **contrib_dirs(root)}) + unplaced_modules(root, dirs)
    for line in problems:
        print(line)
    with tempfile.TemporaryDirectory(prefix="rlmodules-layers-") as tmp:
        lay_out(root, Path(tmp))
        env = {**os.environ, "PYTHONPATH": tmp, "PYTHONDONTWRITEBYTECODE": "1"}
        linter = Path(sys.executable).with_name("lint-imports")
        result = subprocess.run([str(linter), "--no-cache", str(root / "pyproject.toml")],
                                env=env, cwd=tmp, capture_output=True, text=True)
    if result.returncode:
        print(result.stdout[result.stdout.find("Contracts"):] or result.stdout, result.stderr)
    return 1 if problems or result.returncode else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
