"""Rebuilding a checkpoint's module from its checked metadata, and naming what it needs.

Classes come from the registry by their recorded names; an import path resolves only to a
module the program already imported (or with ``allow_import``): the caller wraps this in
``registry.untrusted_input``. The class a node names builds itself from the node
(``RLModule._build_from_checkpoint``, which ``MultiRLModule`` overrides), so this engine
needs no module class of its own. The action distributions the module was saved with are
chosen again (:func:`rlmodules.decisions.pinned_action_dists`) and checked afterwards, so
the module that loads acts exactly as the one that was saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlmodules import registry

from .._spec_json import space_from_ref
from ..config_keys import check_declared
from ..decisions import pin_key, pinned_action_dists
from ..distribution import Distribution
from ..errors import AmbiguousNameError, CheckpointError, SpaceError, UnknownNameError
from ._metadata import PHASES, dist_record

__all__ = [
    "build_from_node", "check_action_dists", "module_fields", "node_spaces", "pins_of",
    "resolve_class", "space_mismatch",
]


def build_from_node(node: dict[str, Any], *, inference_only: bool | None, root: Path) -> Any:
    """The module (or MultiRLModule) ``node`` describes, built but not yet loaded."""
    _check_config_keys(node, root)
    module_class = resolve_class("module", node["module_class"], root)
    with pinned_action_dists(pins_of(node, root)):
        return module_class._build_from_checkpoint(node, inference_only=inference_only, root=root)


def _check_config_keys(node: dict[str, Any], root: Path) -> None:
    """Every plugin config key of the tree is declared, or the error names what to install."""
    check_declared(node.get("config_keys", {}), f"checkpoint {root}")
    for child in node.get("components", {}).values():
        _check_config_keys(child, root)


def module_fields(
    node: dict[str, Any], *, inference_only: bool | None, root: Path
) -> dict[str, Any]:
    """The constructor keywords of the single module ``node`` describes (its class aside):
    spaces, ``inference_only`` (the node's unless given), ``learner_only``, ``model_config``
    and the catalog class."""
    catalog_ref = node.get("catalog_class")
    obs, act = node_spaces(node)
    return {
        "observation_space": obs,
        "action_space": act,
        "inference_only": node["inference_only"] if inference_only is None else inference_only,
        "learner_only": node.get("learner_only", False),
        "model_config": node.get("model_config"),
        "catalog_class": (None if catalog_ref is None
                          else resolve_class("catalog", catalog_ref, root)),
    }


def node_spaces(node: dict[str, Any]) -> tuple[Any, Any]:
    """The observation and action spaces a node records (``None`` where it has none)."""
    try:
        return (space_from_ref(node.get("observation_space")),
                space_from_ref(node.get("action_space")))
    except SpaceError as exc:
        raise CheckpointError(f"checkpoint metadata holds a bad space: {exc}") from None


def space_mismatch(node: dict[str, Any], module: Any) -> str:
    """Where the checkpoint's spaces differ from ``module``'s, the first such difference
    as a sentence to append to a load error ("" if none is known)."""
    if "components" in node:
        for module_id, child in node["components"].items():
            if module_id in module:
                found = space_mismatch(child, module[module_id])
                if found:
                    return found
        return ""
    saved = node_spaces(node)
    present = (module.observation_space, module.action_space)
    if None in saved or None in present or saved == present:
        return ""
    return (f". The checkpoint's module was built for observation space {saved[0]} and "
            f"action space {saved[1]}; this one has {present[0]} and {present[1]}")


# --- classes --------------------------------------------------------------------------------
def resolve_class(kind: str, ref: Mapping[str, Any], root: Path) -> Any:
    """A checked class reference of a checkpoint as a class: by registered name, or by an
    import path that the current trust scope allows (see ``registry.untrusted_input``)."""
    if "name" in ref:
        cls = _registered(kind, ref, root)
    else:
        try:
            cls = registry.get(kind, ref["import_path"])
        except registry.ImportRefusedError as exc:
            raise CheckpointError(f"checkpoint {exc}") from None
        except UnknownNameError as exc:
            raise CheckpointError(f"checkpoint {root}: {exc}") from None
    if not (isinstance(cls, type) and _is_kind(kind, cls)):
        base = {"module": "RLModule", "catalog": "Catalog", "distribution": "Distribution"}[kind]
        raise CheckpointError(
            f"checkpoint {root}: {kind} class {ref!r} resolves to {cls!r}, not a "
            f"{base} subclass"
        )
    return cls


def _is_kind(kind: str, cls: type) -> bool:
    if kind == "module":  # every RLModule class, and only those, builds from a checkpoint
        return callable(getattr(cls, "_build_from_checkpoint", None))
    if kind == "catalog":
        from ..catalog import Catalog  # imports torch: only when a checkpoint names a catalog

        return issubclass(cls, Catalog)
    return issubclass(cls, Distribution)


def _registered(kind: str, ref: Mapping[str, Any], root: Path) -> Any:
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


# --- action distributions -------------------------------------------------------------------
def pins_of(node: dict[str, Any], root: Path, pins: dict[Any, type] | None = None
          ) -> dict[Any, type]:
    """``{(module class, space key): distribution class}`` for every leaf below ``node``
    (its train distribution and their components); older checkpoints record none."""
    pins = {} if pins is None else pins
    for child in node.get("components", {}).values():
        pins_of(child, root, pins)
    record = node.get("action_distributions", {}).get("train")
    if record is not None and "components" not in node:
        module_class = resolve_class("module", node["module_class"], root)
        _, action_space = node_spaces(node)
        _pin(record, action_space, lambda space: pin_key(module_class, space), pins, root)
    return pins


def _pin(record: Mapping[str, Any], space: Any, key: Any, pins: dict[Any, type], root: Path
         ) -> None:
    import gymnasium as gym

    if "name" not in record:
        return  # a module's own class (by import path): the module chooses it itself
    pins[key(space)] = resolve_class("distribution", record, root)
    children = record.get("children")
    if isinstance(space, gym.spaces.Dict) and isinstance(children, dict):
        for name, child in children.items():
            if name in space.spaces:
                _pin(child, space.spaces[name], key, pins, root)
    elif isinstance(space, gym.spaces.Tuple) and isinstance(children, list):
        for child, sub in zip(children, space.spaces):
            _pin(child, sub, key, pins, root)


def check_action_dists(node: dict[str, Any], module: Any, root: Path, where: str = "") -> None:
    """Raise unless ``module`` uses the action distributions the checkpoint recorded."""
    if "components" in node:
        for module_id, child in node["components"].items():
            if module_id in module:
                sub_where = f"{where}/{module_id}" if where else module_id
                check_action_dists(child, module[module_id], root, sub_where)
        return
    for phase, record in node.get("action_distributions", {}).items():
        if phase not in PHASES:
            continue
        try:
            present = dist_record(getattr(module, f"get_{phase}_action_dist_cls")())
        except Exception as exc:  # a module whose distribution cannot be told now
            present = {"import_path": f"<{type(exc).__name__}: {exc}>"}
        if _signature(present) != _signature(record):
            label = f"module {where!r}" if where else "the module"
            raise CheckpointError(
                f"checkpoint {root}: {label} was saved with {phase} action distribution "
                f"{_describe(record)}, but it is built with {_describe(present)} now (an "
                f"installed or removed plugin chooses differently); install what it was "
                f"saved with, or rebuild the module yourself and call restore_from_path"
            )


def _signature(record: Mapping[str, Any]) -> Any:
    children = record.get("children")
    if isinstance(children, dict):
        parts: Any = tuple(sorted((k, _signature(c)) for k, c in children.items()))
    elif isinstance(children, list):
        parts = tuple(_signature(c) for c in children)
    else:
        parts = None
    return record.get("name") or record.get("import_path"), parts


def _describe(record: Mapping[str, Any]) -> str:
    if "name" not in record:
        return repr(record.get("import_path"))
    dist, version = record.get("distribution"), record.get("version")
    origin = f" from {dist} {version or ''}".rstrip() if dist else ""
    return f"{record['name']!r}{origin}"
