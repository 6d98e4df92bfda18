"""Module checkpoints: safe to load, atomic to write, classes referenced by registered name.

A checkpoint is a directory::

    rlmodule.json                    metadata: format version, rlmodules version, the
                                     component tree (class by registered name with its
                                     distribution and version, spaces, model_config,
                                     inference_only) and each tensor file's checksum
    module.safetensors               the root module's tensors (a MultiRLModule's shared ones)
    component-000-p0.safetensors     one file per sub-module (module id "p0")

``RLModule.save_to_path`` / ``restore_from_path`` / ``from_checkpoint`` / ``get_metadata``
call :func:`save_module`, :func:`restore_module`, :func:`load_module` and
:func:`module_metadata`. Loading never unpickles and imports nothing named in the file:
classes come from the registry, or from an import path whose module the program has already
imported (``allow_import=True`` opts in to importing it).

Reusable pieces for other checkpoints (e.g. a trainer's whole-algorithm checkpoint):

* :func:`atomic_directory` -- ``with atomic_directory(path, marker_file="state.json") as tmp:``
  write into ``tmp``; on success it is fsynced and swapped in for ``path`` atomically.
* :func:`write_tensor_file` / :func:`read_tensor_file` -- one flat ``{name: tensor}`` file in
  a registered format, described by a JSON entry that carries its checksum; reading verifies
  the checksum before parsing.

Example::

    path = module.save_to_path("ckpt")               # safetensors; format="torch" also works
    same = RLModule.from_checkpoint("ckpt")           # class resolved by registered name
    multi.restore_from_path("ckpt", component="p0")   # one module id only
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import atomic_directory, recover_interrupted_commit
from ._tensor_file import (
    CHECKSUM_ALGORITHM,
    CheckpointFormat,
    file_checksum,
    read_tensor_file,
    resolve_format,
    write_tensor_file,
)
from .errors import AmbiguousNameError, CheckpointError, UnknownNameError

if TYPE_CHECKING:
    from .rl_module import RLModule

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "CHECKSUM_ALGORITHM",
    "DEFAULT_FORMAT",
    "METADATA_FILE",
    "CheckpointFormat",
    "atomic_directory",
    "file_checksum",
    "load_module",
    "module_metadata",
    "read_metadata",
    "read_tensor_file",
    "restore_module",
    "save_module",
    "write_tensor_file",
]

#: Version of the directory layout and metadata schema this rlmodules writes (and reads up to).
CHECKPOINT_FORMAT_VERSION = 1
METADATA_FILE = "rlmodule.json"
#: Deepest nesting of MultiRLModule components a checkpoint may describe (loading each level
#: builds modules: a 400-deep tree took seconds).
MAX_COMPONENT_DEPTH = 32
DEFAULT_FORMAT = "safetensors"


# --- metadata -------------------------------------------------------------------------------
def module_metadata(module: RLModule) -> dict[str, Any]:
    """JSON-writable description of ``module``: versions and its component tree (no tensors)."""
    from rlmodules import __version__

    return {
        "checkpoint_format_version": CHECKPOINT_FORMAT_VERSION,
        "rlmodules_version": __version__,
        "module": _node(module),
    }


def _node(module: RLModule) -> dict[str, Any]:
    from .multi_rl_module import MultiRLModule
    from .specs import RLModuleSpec

    spec = RLModuleSpec(
        module_class=type(module),
        observation_space=module.observation_space,
        action_space=module.action_space,
        inference_only=module.inference_only,
        model_config=module.model_config,
        catalog_class=_non_default_catalog(module),
    ).to_dict()
    node: dict[str, Any] = {
        "module_class": _provenance("module", spec["module_class"]),
        "catalog_class": _provenance("catalog", spec["catalog_class"]),
        "observation_space": spec["observation_space"],
        "action_space": spec["action_space"],
        "inference_only": module.inference_only,
        "model_config": spec["model_config"],
    }
    if isinstance(module, MultiRLModule):
        node["components"] = {
            module_id: _node(sub) for module_id, sub in module.get_checkpointable_components()
        }
    return node


def _non_default_catalog(module: RLModule) -> Any:
    """The catalog class to record: ``None`` when the module's default would be rebuilt."""
    from rlmodules import registry

    catalog = module.catalog
    if catalog is None:
        return None
    default = type(module).default_catalog_class
    if default is not None and registry.get("catalog", default) is type(catalog):
        return None
    return type(catalog)


def _provenance(kind: str, ref: str | None) -> dict[str, Any] | None:
    from rlmodules import registry

    if ref is None:
        return None
    if ":" in ref:
        return {"import_path": ref}
    rec = registry.record(kind, ref)
    return {"name": rec.qualified_name, "distribution": rec.distribution, "version": rec.version}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked contents of a checkpoint's ``rlmodule.json``.

    Raises :class:`CheckpointError` for a missing or malformed file, or one written with a
    newer checkpoint format version than this rlmodules reads.
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
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{meta_path} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{meta_path} must hold a JSON object, got {type(meta).__name__}")
    _check_version(meta, meta_path)
    _check_node(meta.get("module"), meta_path, "")
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


def _check_version(meta: Mapping[str, Any], meta_path: Path) -> None:
    from rlmodules import __version__

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


def _check_node(node: Any, meta_path: Path, where: str) -> None:
    label = f"component {where!r}" if where else "the root module"
    problem = None
    if where.count("/") + 1 > MAX_COMPONENT_DEPTH:
        raise CheckpointError(
            f"{meta_path} nests components deeper than {MAX_COMPONENT_DEPTH} levels (the "
            f"limit), at {where[:200]!r}; a checkpoint of a real MultiRLModule is far shallower"
        )
    if not isinstance(node, dict):
        problem = f"is {type(node).__name__}, expected an object"
    elif not isinstance(node.get("module_class"), dict):
        problem = "has no module_class object"
    elif not isinstance(node.get("inference_only"), bool):
        problem = f"has inference_only {node.get('inference_only')!r}, expected true or false"
    elif node.get("tensors") is not None and not isinstance(node["tensors"], dict):
        problem = "has a tensors entry that is not an object"
    elif "components" in node and not isinstance(node["components"], dict):
        problem = "has components that are not an object {module_id: component}"
    if problem:
        raise CheckpointError(f"{meta_path} is malformed: {label} {problem}")
    for module_id, child in node.get("components", {}).items():
        _check_node(child, meta_path, f"{where}/{module_id}" if where else module_id)


# --- save -------------------------------------------------------------------------------------
def save_module(
    module: RLModule, path: str | os.PathLike[str] | None = None, *, format: str | None = None
) -> str:
    """Write ``module``'s checkpoint to ``path`` (a fresh temp dir when ``None``); return it.

    ``format`` is a registered checkpoint format name (default ``"safetensors"``). The write
    is atomic: an existing checkpoint at ``path`` is replaced whole or not at all.
    """
    format_name = DEFAULT_FORMAT if format is None else format
    resolve_format(format_name)  # fail before writing anything
    metadata = module_metadata(module)
    state = module.get_state()
    if path is None:
        path = tempfile.mkdtemp(prefix="rlmodule-")
    target = Path(path).expanduser().absolute()
    with atomic_directory(target, marker_file=METADATA_FILE) as tmp:
        stems = _stems()
        _write_node(metadata["module"], state, tmp, "", format_name, stems)
        (tmp / METADATA_FILE).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return str(target)


def _stems() -> Any:
    counter = itertools.count()

    def stem(component: str) -> str:
        if not component:
            return "module"
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", component)[:40]
        return f"component-{next(counter):03d}-{slug}"

    return stem


def _write_node(
    node: dict[str, Any], state: Mapping[str, Any], tmp: Path, where: str, fmt: str, stems: Any
) -> None:
    from .multi_rl_module import MultiRLModule

    own = state
    if "components" in node:
        own = state.get(MultiRLModule.OWN_STATE_KEY, {})
        for module_id, child in node["components"].items():
            child_where = f"{where}/{module_id}" if where else module_id
            _write_node(child, state[module_id], tmp, child_where, fmt, stems)
    if own or "components" not in node:
        node["tensors"] = write_tensor_file(tmp, stems(where), own, format=fmt)
    else:
        node["tensors"] = None


# --- restore and load ---------------------------------------------------------------------------
def restore_module(
    module: RLModule, path: str | os.PathLike[str], *, component: str | None = None
) -> None:
    """Load a checkpoint's weights into ``module`` (all of them, or one ``component``).

    ``component`` ("p0", or "a/b" for nested containers) picks the part of the checkpoint to
    read and the part of ``module`` to fill: a sub-module of a MultiRLModule checkpoint can
    be restored into a standalone module, and a single-module checkpoint into one module id
    of a MultiRLModule. Every file is checksummed and every tensor checked against the
    module's keys and shapes before any weight changes; tensors land on the module's device.
    """
    root = Path(path).expanduser().absolute()
    meta = read_metadata(root)
    node, target = _pair(module, meta["module"], component, root)
    state = _read_state(target, node, root, component or "")
    try:
        target.set_state(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{exc}{_space_mismatch(node, target)}") from None


def load_module(
    path: str | os.PathLike[str],
    *,
    component: str | None = None,
    inference_only: bool | None = None,
    device: Any = None,
    allow_import: bool = False,
) -> RLModule:
    """Build the checkpointed module (or one ``component``) and load its weights.

    The class comes from the registry by the recorded name; a class recorded by import path
    loads only if its module is already imported, or with ``allow_import=True``.
    ``inference_only=True`` builds the lean inference version from a full checkpoint.
    ``device`` places the module (weights load straight onto it).
    """
    root = Path(path).expanduser().absolute()
    meta = read_metadata(root)
    node = meta["module"]
    if component is not None:
        node = _walk_node(node, component, root)
    from .catalog import skipped_initializers

    with skipped_initializers():  # set_state below overwrites every weight, strictly
        module = _build(node, inference_only=inference_only, allow_import=allow_import,
                        root=root)
    if device is not None:
        module.to(device)  # type: ignore[attr-defined]
    module.set_state(_read_state(module, node, root, component or ""))
    return module


def _pair(
    module: RLModule, root_node: dict[str, Any], component: str | None, root: Path
) -> tuple[dict[str, Any], RLModule]:
    from .multi_rl_module import MultiRLModule

    if component is None:
        return root_node, module
    if not isinstance(component, str) or not component.strip("/"):
        raise CheckpointError(
            f"component must be a module id such as 'p0' or a path 'a/b', got {component!r}"
        )
    in_checkpoint = "components" in root_node
    in_module = isinstance(module, MultiRLModule)
    if not in_checkpoint and not in_module:
        raise CheckpointError(
            f"component {component!r} names a part of neither the checkpoint {root} nor the "
            f"{type(module).__name__} (both hold a single module); pass component=None"
        )
    node = _walk_node(root_node, component, root) if in_checkpoint else root_node
    target = _walk_module(module, component) if in_module else module
    return node, target


def _walk_node(node: dict[str, Any], component: str, root: Path) -> dict[str, Any]:
    walked: list[str] = []
    for part in component.strip("/").split("/"):
        children = node.get("components")
        if children is None or part not in children:
            where = "/".join(walked) or "the root"
            have = sorted(children) if children is not None else []
            raise CheckpointError(
                f"checkpoint {root} has no component {component!r}: {where} has "
                f"{'components ' + str(have) if have else 'no components'}"
            )
        node = children[part]
        walked.append(part)
    return node


def _walk_module(module: RLModule, component: str) -> RLModule:
    walked: list[str] = []
    for part in component.strip("/").split("/"):
        parts = dict(module.get_checkpointable_components())
        if part not in parts:
            where = "/".join(walked) or type(module).__name__
            raise CheckpointError(
                f"the module has no component {component!r}: {where} has "
                f"{'components ' + str(sorted(parts)) if parts else 'no components'}"
            )
        module = parts[part]
        walked.append(part)
    return module


def _read_state(module: RLModule, node: dict[str, Any], root: Path, where: str) -> dict[str, Any]:
    """Verified tensors for ``module`` from ``node``, shaped like ``module.get_state()``."""
    from .multi_rl_module import MultiRLModule

    label = repr(where) if where else "root"
    is_container = "components" in node
    if is_container != isinstance(module, MultiRLModule):
        held = "a MultiRLModule" if is_container else "a single module"
        raise CheckpointError(
            f"checkpoint {root} component {label} holds {held}, but the target is a "
            f"{type(module).__name__}; pass component= to pick a matching part"
        )
    if not is_container:
        return read_tensor_file(root, node["tensors"], device=_device_of(module))
    assert isinstance(module, MultiRLModule)
    saved, present = list(node["components"]), module.keys()
    if set(saved) != set(present):
        raise CheckpointError(
            f"checkpoint {root} component {label} has module ids {saved}, but the "
            f"{type(module).__name__} has {present}; restore one with component='<module_id>'"
        )
    state: dict[str, Any] = {
        module_id: _read_state(
            module[module_id], child, root, f"{where}/{module_id}" if where else module_id
        )
        for module_id, child in node["components"].items()
    }
    own = node.get("tensors")
    state[MultiRLModule.OWN_STATE_KEY] = (
        read_tensor_file(root, own, device=_device_of(module)) if own else {}
    )
    return state


def _device_of(module: Any) -> Any:
    import torch

    for tensor in itertools.chain(module.parameters(), module.buffers()):
        return tensor.device
    return torch.device("cpu")


# --- building from metadata -----------------------------------------------------------------------
def _build(
    node: dict[str, Any], *, inference_only: bool | None, allow_import: bool, root: Path
) -> RLModule:
    from .specs import MultiRLModuleSpec

    if "components" not in node:
        return _leaf_spec(node, inference_only, allow_import, root).build()
    leaf_specs, nested = {}, {}
    for module_id, child in node["components"].items():
        if "components" in child:
            nested[module_id] = _build(
                child, inference_only=inference_only, allow_import=allow_import, root=root
            )
        else:
            leaf_specs[module_id] = _leaf_spec(child, inference_only, allow_import, root)
    obs, act = _spaces(node)
    multi = MultiRLModuleSpec(
        multi_rl_module_class=_resolve_class("module", node["module_class"], allow_import, root),
        observation_space=obs,
        action_space=act,
        inference_only=node["inference_only"] if inference_only is None else inference_only,
        model_config=node.get("model_config"),
        rl_module_specs=leaf_specs,
    ).build()
    for module_id, sub in nested.items():
        multi.add_module(module_id, sub)
    return multi


def _leaf_spec(
    node: dict[str, Any], inference_only: bool | None, allow_import: bool, root: Path
) -> Any:
    from .specs import RLModuleSpec

    catalog_ref = node.get("catalog_class")
    obs, act = _spaces(node)
    return RLModuleSpec(
        module_class=_resolve_class("module", node["module_class"], allow_import, root),
        observation_space=obs,
        action_space=act,
        inference_only=node["inference_only"] if inference_only is None else inference_only,
        model_config=node.get("model_config"),
        catalog_class=(
            None if catalog_ref is None
            else _resolve_class("catalog", catalog_ref, allow_import, root)
        ),
    )


def _space_mismatch(node: dict[str, Any], module: Any) -> str:
    """Where the checkpoint's spaces differ from ``module``'s, the first such difference
    as a sentence to append to a load error ("" if none is known)."""
    if "components" in node:
        for module_id, child in node["components"].items():
            if module_id in module:
                found = _space_mismatch(child, module[module_id])
                if found:
                    return found
        return ""
    saved = _spaces(node)
    present = (module.observation_space, module.action_space)
    if None in saved or None in present or saved == present:
        return ""
    return (f". The checkpoint's module was built for observation space {saved[0]} and "
            f"action space {saved[1]}; this one has {present[0]} and {present[1]}")


def _spaces(node: dict[str, Any]) -> tuple[Any, Any]:
    from .spaces import space_from_json

    obs, act = node.get("observation_space"), node.get("action_space")
    return (None if obs is None else space_from_json(obs),
            None if act is None else space_from_json(act))


def _resolve_class(kind: str, ref: Mapping[str, Any], allow_import: bool, root: Path) -> Any:
    """A class from the registry, or from an already-imported module (never a new import
    unless ``allow_import``)."""
    from rlmodules import registry

    from .catalog import Catalog
    from .rl_module import RLModule

    base = RLModule if kind == "module" else Catalog
    if isinstance(ref.get("import_path"), str):
        path = ref["import_path"]
        module_name = path.partition(":")[0]
        if module_name not in sys.modules and not allow_import:
            raise CheckpointError(
                f"checkpoint {root} names {kind} class {path!r} by import path, and this "
                f"program has not imported {module_name!r}; loading never imports code named "
                f"in a file. Import {module_name!r} first, register the class with a plugin, "
                f"or pass allow_import=True if you trust this checkpoint"
            )
        cls = registry.get(kind, path)
    elif isinstance(ref.get("name"), str):
        cls = _registered(kind, ref, root)
    else:
        raise CheckpointError(f"checkpoint {root} has a malformed {kind} class entry {ref!r}")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise CheckpointError(
            f"checkpoint {root}: {kind} class {ref!r} resolves to {cls!r}, not a "
            f"{base.__name__} subclass"
        )
    return cls


def _registered(kind: str, ref: Mapping[str, Any], root: Path) -> Any:
    from rlmodules import registry

    name = ref["name"]
    failure: Exception | None = None
    for candidate in dict.fromkeys((name, name.rpartition("/")[2])):
        try:
            return registry.get(kind, candidate)
        except AmbiguousNameError as exc:
            raise CheckpointError(f"checkpoint {root} needs {kind} {name!r}: {exc}") from None
        except UnknownNameError as exc:
            failure = exc
    dist, version = ref.get("distribution"), ref.get("version")
    if dist:
        fix = f"install it with `pip install {dist}{'==' + version if version else ''}`"
        source = f" from {dist} {version or ''}".rstrip()
    else:
        fix = "register the plugin that provides it (it was registered in-process)"
        source = ""
    raise CheckpointError(
        f"checkpoint {root} needs {kind} {name!r}{source}, which is not installed; {fix}. "
        f"({failure})"
    )
