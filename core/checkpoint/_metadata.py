"""A module checkpoint's ``rlmodule.json``: what it records, and the check of what it holds.

The metadata names each class by registered name with its providing distribution and
version (an import path only for classes no plugin registers), records the spaces, the
``model_config`` and the action distributions the module was built with, and is
checksummed (see ``write_json_file``). :func:`read_metadata` checks the whole file against
its schema (:class:`~rlmodules.checkpoint.ModuleMetadata`) before anything is built, so a
malformed file is one :class:`CheckpointError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlmodules import __version__, registry

from .._spec_json import class_ref, config_ref, space_ref
from ..config_keys import key_provenance
from ..errors import CheckpointError, RLModulesError
from ._atomic import recover_interrupted_commit
from ._json_file import read_json_file, verify_checksum
from ._metadata_schema import PHASES, ModuleMetadata
from ._schema import structure
from ._tensor_file import contained_file

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "METADATA_FILE",
    "PHASES",
    "dist_record",
    "is_container",
    "module_metadata",
    "provenance",
    "read_metadata",
]

#: Version of the directory layout and metadata schema this rlmodules writes (and reads up to).
#: 2 added the metadata checksum and the recorded action distributions.
CHECKPOINT_FORMAT_VERSION = 2
METADATA_FILE = "rlmodule.json"


# --- writing ----------------------------------------------------------------------------------
def is_container(module: Any) -> bool:
    """Whether ``module`` is a MultiRLModule: a tree of components (its module ids) plus its
    own weights under ``OWN_STATE_KEY``, which checkpoints write and read as such."""
    return isinstance(getattr(type(module), "OWN_STATE_KEY", None), str)


def module_metadata(module: Any) -> dict[str, Any]:
    """JSON-writable description of ``module``: versions and its component tree (no tensors)."""
    return {
        "checkpoint_format_version": CHECKPOINT_FORMAT_VERSION,
        "rlmodules_version": __version__,
        "module": _node(module),
    }


def _node(module: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "module_class": provenance("module", class_ref("module", type(module))),
        "catalog_class": provenance("catalog", class_ref("catalog", _non_default_catalog(module))),
        "observation_space": space_ref(module.observation_space),
        "action_space": space_ref(module.action_space),
        "inference_only": module.inference_only,
        "model_config": config_ref(module.model_config),
    }
    if module.learner_only:  # recorded only when set, so other metadata stays as it was
        node["learner_only"] = True
    plugin_keys = getattr(module.model_config, "plugin_keys", None)
    if plugin_keys:  # who declared each plugin key it uses, so a loader can name the package
        node["config_keys"] = key_provenance(plugin_keys)
    if is_container(module):
        node["components"] = {
            module_id: _node(sub) for module_id, sub in module.get_checkpointable_components()
        }
    else:
        node["action_distributions"] = _action_distributions(module)
    return node


def _non_default_catalog(module: Any) -> Any:
    """The catalog class to record: ``None`` when the module's default would be rebuilt."""
    catalog = module.catalog
    if catalog is None:
        return None
    default = type(module).default_catalog_class
    if default is not None and registry.get("catalog", default) is type(catalog):
        return None
    return type(catalog)


def provenance(kind: str, ref: str | None) -> dict[str, Any] | None:
    """``{"name", "distribution", "version"}`` of a registered name, or ``{"import_path"}``."""
    if ref is None:
        return None
    if ":" in ref:
        return {"import_path": ref}
    rec = registry.record(kind, ref)
    return rec.provenance


def _action_distributions(module: Any) -> dict[str, Any]:
    """The distribution class of each forward phase, by name (phases whose class cannot be
    told, e.g. a module that returns actions only, are left out)."""
    out = {}
    for phase in PHASES:
        try:
            cls = getattr(module, f"get_{phase}_action_dist_cls")()
        except (RLModulesError, NotImplementedError, AttributeError):
            continue
        if isinstance(cls, type):
            out[phase] = dist_record(cls)
    return out


def dist_record(cls: type) -> dict[str, Any]:
    """How a checkpoint names a distribution class: the registered base class (or its import
    path), with the component classes of a Tuple/Dict distribution."""
    base = cls.base_class() if hasattr(cls, "base_class") else cls
    name = registry.name_of("distribution", base)
    record: dict[str, Any] = (
        provenance("distribution", name) if name is not None  # type: ignore[assignment]
        else {"import_path": f"{base.__module__}:{base.__qualname__}"})
    children = getattr(cls, "children", None)
    if isinstance(children, Mapping):
        record["children"] = {str(k): dist_record(c) for k, c in children.items()}
    elif isinstance(children, tuple):
        record["children"] = [dist_record(c) for c in children]
    return record


# --- reading ----------------------------------------------------------------------------------
def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked contents of a checkpoint's ``rlmodule.json``.

    Raises :class:`CheckpointError` for a missing, corrupted or malformed file, or one
    written with a newer checkpoint format version than this rlmodules reads.
    """
    root = Path(path).expanduser().absolute()
    if not root.exists():
        recover_interrupted_commit(root)
    meta_path = root / METADATA_FILE
    if not meta_path.is_file():
        what = "does not exist" if not root.exists() else f"has no {METADATA_FILE}"
        inside = _module_checkpoints_below(root)
        more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
        hint = (f"; module checkpoints inside it: {', '.join(inside[:3])}{more}" if inside
                else "; pass a directory written by save_to_path()")
        raise CheckpointError(f"{root} is not an rlmodules module checkpoint: it {what}{hint}")
    meta = read_json_file(contained_file(root, METADATA_FILE), verify=False)
    if _check_version(meta, meta_path) >= 2:
        verify_checksum(meta, meta_path)  # the checksum is part of the format since 2
    structure(meta, ModuleMetadata, source=meta_path)
    return meta


def _module_checkpoints_below(root: Path, depth: int = 4, budget: int = 1000) -> list[str]:
    """Module checkpoints up to ``depth`` levels inside ``root`` (e.g. the module of an
    algorithm checkpoint or of a training run), relative to it, shallowest first. Looks at
    most at ``budget`` directories and skips hidden ones (staging directories)."""
    found: list[str] = []
    level = [root] if root.is_dir() else []
    for _ in range(depth):
        below = []
        for directory in level:
            try:
                children = sorted(p for p in directory.iterdir()
                                  if p.is_dir() and not p.name.startswith("."))
            except OSError:
                continue
            for child in children:
                if (child / METADATA_FILE).is_file():
                    found.append(str(child.relative_to(root)))
                else:
                    below.append(child)
        if found or not below or len(below) > budget:
            return found
        budget -= len(below)
        level = below
    return found


def _check_version(meta: Mapping[str, Any], meta_path: Path) -> int:
    version = meta.get("checkpoint_format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(
            f"{meta_path} has checkpoint_format_version {version!r}; expected an integer "
            f"from 1 to {CHECKPOINT_FORMAT_VERSION}"
        )
    if version > CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path} uses checkpoint format version {version} (written by rlmodules "
            f"{meta.get('rlmodules_version')}), newer than the version "
            f"{CHECKPOINT_FORMAT_VERSION} this rlmodules {__version__} reads; upgrade with "
            f"`pip install -U rlmodules`"
        )
    return version
