"""``rlmodules new-plugin NAME --kind module|encoder|distribution``: start a plugin package.

It writes a package that installs, registers itself through the ``rlmodules`` entry point
and passes its own tests at once (``pip install -e NAME && pytest NAME``): src layout,
``pyproject.toml``, a skeleton written only against public names, tests that run the
conformance kit, a README and a LICENSE. The files are the templates in
``plugin-templates/`` (package data), filled with :class:`string.Template`.
"""

from __future__ import annotations

import argparse
import keyword
import os
import re
import string
from importlib import resources
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

__all__ = ["KINDS", "register", "write_plugin"]

#: What each kind's skeleton registers, in the words of ``--help``.
KINDS = {
    "module": "an RLModule class registered by name (rlmodules_modules)",
    "encoder": "an encoder the default modules pick when your config key asks for it "
               "(rlmodules_build_encoder, rlmodules_config_keys)",
    "distribution": "an action distribution the default modules use for Box actions when your "
                    "config key asks for it (rlmodules_distributions, rlmodules_action_dist_cls)",
}
_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_TEMPLATES = "plugin-templates"  # not an importable name: data, not a package


def register(subparsers: Any) -> None:
    """Add the ``new-plugin`` command."""
    p = subparsers.add_parser(
        "new-plugin",
        help="write a new plugin package that passes its own tests",
        description="Write a plugin package DIR/NAME (src layout, pyproject.toml with the "
        "rlmodules entry point, a skeleton, conformance tests, README, LICENSE). Then: "
        "pip install -e NAME && pytest NAME. Kinds: "
        + "; ".join(f"{kind}: {what}" for kind, what in KINDS.items()),
    )
    p.add_argument("name", help="the distribution name, e.g. 'rlm-gru' (lowercase letters, "
                   "digits, '-' or '_'; the import name is it with '_' for '-')")
    p.add_argument("--kind", required=True, choices=tuple(KINDS),
                   help="what the plugin provides")
    p.add_argument("--dir", default=".", help="the folder to write NAME into (default: here)")
    p.set_defaults(func=_new_plugin)


def _new_plugin(args: argparse.Namespace) -> int:
    target = write_plugin(args.name, args.kind, Path(args.dir))
    print(f"wrote {args.kind} plugin {args.name!r} to {target}")
    print(f"next: pip install -e {target} && pytest {target}")
    return 0


def write_plugin(name: str, kind: str, directory: Path) -> Path:
    """Write plugin package ``name`` of ``kind`` into ``directory / name``; return that path.

    Refuses (``ConfigError``) a name that is no valid distribution and import name, an
    unknown kind, and a target that exists and is not an empty folder; nothing is written
    then.
    """
    package = _check_name(name)
    if kind not in KINDS:
        raise ConfigError(f"unknown plugin kind {kind!r}; expected one of {', '.join(KINDS)}")
    target = Path(directory) / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"{target} already exists and is not an empty folder; choose another NAME or "
            f"--dir, or remove it first"
        )
    values = {"name": name, "package": package, "kind": kind,
              "title": package.replace("_", " ").title().replace(" ", "")}
    files = {
        "pyproject.toml": "common/pyproject.toml",
        "README.md": f"{kind}/README.md",
        "LICENSE": "common/LICENSE",
        f"src/{package}/__init__.py": "common/__init__.py",
        f"src/{package}/py.typed": "common/py.typed",
        f"src/{package}/plugin.py": f"{kind}/plugin.py",
        f"src/{package}/{kind}.py": f"{kind}/{kind}.py",
        f"tests/test_{package}.py": f"{kind}/test_plugin.py",
    }
    rendered = {path: _render(template, values) for path, template in files.items()}
    for path, text in rendered.items():
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    return target


def _check_name(name: str) -> str:
    """The import name for distribution name ``name``, or a ``ConfigError`` saying why not."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"invalid plugin name {name!r}: use lowercase letters, digits and single '-' or '_' "
            f"between them, starting with a letter (e.g. 'rlm-gru')"
        )
    package = name.replace("-", "_")
    if keyword.iskeyword(package) or package in {"rlmodules", "test", "tests"}:
        raise ConfigError(
            f"invalid plugin name {name!r}: its import name {package!r} is reserved; choose a "
            f"distinctive name such as 'rlm-{name}'"
        )
    return package


def _render(template: str, values: dict[str, str]) -> str:
    source = resources.files(__package__).joinpath(f"{_TEMPLATES}/{template}.tmpl")
    return string.Template(source.read_text(encoding="utf-8")).substitute(values)
