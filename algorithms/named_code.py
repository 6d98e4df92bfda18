"""The code a checkpoint names by import path, and which of it needs the user's opt-in.

A name read from a file resolves only to what a plugin registered, rlmodules' own config
classes, or an object the caller handed over (``registry.untrusted_input``). A run trained
with ``--module pkg.mod:Class``, an env factory or a ``policy_mapping_fn`` given by import
path names code nothing registered: the saved config and the module checkpoint record each
such path, and :func:`unregistered_import_paths` lists them, so that the command line can
say exactly what ``--allow-import`` would import. Reading them imports nothing they name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rlmodules import registry
from rlmodules.checkpoint import METADATA_FILE, read_metadata
from rlmodules.errors import RLModulesError

from .checkpoint import BUILTIN_CONFIGS, MODULE_COMPONENT, STATE_FILE, read_algorithm_state
from .env_creation import _env_named

__all__ = ["PARTS", "import_paths", "unregistered", "unregistered_import_paths"]

#: What a checkpoint's names belong to: its config's env, the rest of its config (config
#: class, ``policy_mapping_fn``, the module spec's classes) and its module checkpoint.
PARTS = ("env", "config", "module")


def import_paths(path: str | Path, *, parts: Iterable[str] = PARTS) -> list[tuple[str, str]]:
    """``(kind, import path)`` of each name the checkpoint at ``path`` (an algorithm or a
    module checkpoint) gives by import path, in ``parts``, each once, in file order. Kinds:
    ``env``, ``policy_mapping_fn``, ``config``, ``module``, ``catalog``."""
    path, parts = Path(path), set(parts)
    found: dict[str, str] = {}
    if (path / STATE_FILE).is_file():
        config = read_algorithm_state(path)["config"]
        env = config.get("env")
        if "env" in parts and isinstance(env, str) and ":" in env:
            found.setdefault(env, "env")
        if "config" in parts:
            for kind, name in _config_paths(config):
                found.setdefault(name, kind)
        path = path / MODULE_COMPONENT
    if "module" in parts and (path / METADATA_FILE).is_file():
        for kind, name in _node_paths(read_metadata(path)["module"]):
            found.setdefault(name, kind)
    return [(kind, name) for name, kind in found.items()]


def unregistered_import_paths(path: str | Path, *, parts: Iterable[str] = PARTS) -> list[str]:
    """The import paths of :func:`import_paths` that nothing registered: loading the
    checkpoint needs them handed over (``trusted_objects``) or ``allow_import=True``
    (``--allow-import``)."""
    return unregistered(import_paths(path, parts=parts), source=path)


def unregistered(names: Iterable[tuple[str, str]], *, source: Any) -> list[str]:
    """Of ``(kind, import path)`` pairs read from ``source``, the paths that nothing
    registered (a malformed or broken one is left to the loader to report)."""
    refused = []
    with registry.untrusted_input(source):
        for kind, name in names:
            if not _accepted(kind, name):
                refused.append(name)
    return refused


def _accepted(kind: str, name: str) -> bool:
    try:
        if kind == "env":
            _env_named(name)
        elif kind == "config":
            return name in BUILTIN_CONFIGS
        elif kind in registry.KINDS:
            registry.get(kind, name)
        else:
            return False  # nothing registers policy_mapping_fns: always handed over
    except registry.ImportRefusedError:
        return False
    except RLModulesError:  # a broken or malformed name: the loader reports it in context
        return True
    return True


def _config_paths(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    config_class = config.get("config_class")
    if isinstance(config_class, str):
        yield "config", config_class
    mapping_fn = config.get("policy_mapping_fn")
    if isinstance(mapping_fn, str):
        yield "policy_mapping_fn", mapping_fn
    spec = config.get("rl_module_spec")
    if isinstance(spec, Mapping) and isinstance(spec.get("spec"), Mapping):
        yield from _spec_paths(spec["spec"])


def _spec_paths(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for field, kind in (("multi_rl_module_class", "module"), ("module_class", "module"),
                        ("catalog_class", "catalog")):
        yield from _ref_paths(kind, spec.get(field))
    subs = spec.get("rl_module_specs")
    if isinstance(subs, Mapping):
        nested = [subs] if "module_class" in subs else list(subs.values())
        for sub in nested:
            if isinstance(sub, Mapping):
                yield from _spec_paths(sub)


def _node_paths(node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The classes a module checkpoint builds from (a distribution recorded by import path
    is the module's own choice, compared by name and never resolved)."""
    yield from _ref_paths("module", node.get("module_class"))
    yield from _ref_paths("catalog", node.get("catalog_class"))
    for child in (node.get("components") or {}).values():
        yield from _node_paths(child)


def _ref_paths(kind: str, ref: Any) -> Iterator[tuple[str, str]]:
    """A class reference as a spec or a checkpoint writes it: a string, or an object with
    ``"import_path"`` (or a registered ``"name"``)."""
    if isinstance(ref, Mapping):
        ref = ref.get("import_path")
    if isinstance(ref, str) and ":" in ref:
        yield kind, ref
