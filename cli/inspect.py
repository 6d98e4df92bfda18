"""``rlmodules inspect PATH``: what a module checkpoint holds and what it needs to load.

Reads only the metadata file (``--verify`` also checksums the tensor files); never imports
the checkpoint's classes, nor torch for a module checkpoint. An algorithm checkpoint or a run
directory is described with the module checkpoint inside it (see ``inspect_algorithm``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rlmodules import registry
from rlmodules.checkpoint import METADATA_FILE, read_metadata
from rlmodules.errors import RLModulesError

from .inspect_algorithm import (
    RUN_FILE,
    checksum_ok,
    describe_algorithm,
    describe_run,
    is_algorithm,
    print_algorithm,
    print_run,
)

__all__ = ["register", "describe"]


def register(subparsers: Any) -> None:
    """Add the ``inspect`` command."""
    p = subparsers.add_parser(
        "inspect", help="describe a module checkpoint: class, plugins it needs, spaces, "
        "config, parameters per component, format"
    )
    p.add_argument("path", help="a checkpoint directory written by save_to_path()")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--verify", action="store_true", help="also verify every tensor file's "
                   "checksum (non-zero exit when one fails)")
    p.set_defaults(func=_inspect)


def describe(path: str, *, verify: bool = False) -> dict[str, Any]:
    """A JSON-ready description of the checkpoint at ``path``: a module checkpoint, an
    algorithm checkpoint (``kind: "algorithm"``, with its module under ``"rl_module"``) or a
    ``rlmodules train`` run directory (``kind: "run"``, with its ``"checkpoint"``)."""
    root = Path(path)
    module = functools.partial(_describe_module, verify=verify)
    if (root / RUN_FILE).is_file():
        return describe_run(root, module, verify=verify)
    if not (root / METADATA_FILE).is_file() and is_algorithm(root):
        return describe_algorithm(root, module, verify=verify)
    return _describe_module(root, verify=verify)


def _describe_module(path: Path, *, verify: bool) -> dict[str, Any]:
    meta = read_metadata(path)
    components = [_component(where, node, Path(path), verify) for where, node in
                  _walk(meta["module"], "")]
    return {
        "kind": "module",
        "path": str(Path(path).expanduser().absolute()),
        "checkpoint_format_version": meta["checkpoint_format_version"],
        "rlmodules_version": meta.get("rlmodules_version"),
        "module": _class_name(meta["module"]["module_class"]),
        "requirements": _requirements(meta["module"]),
        "components": components,
        "total_parameters": sum(c["num_parameters"] for c in components),
        "total_bytes": sum(c["bytes"] for c in components),
    }


def _walk(node: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield where, node
    for module_id, child in node.get("components", {}).items():
        yield from _walk(child, f"{where}/{module_id}" if where else module_id)


def _class_name(ref: dict[str, Any] | None) -> str | None:
    if ref is None:
        return None
    return ref.get("name") or ref.get("import_path")


def _component(where: str, node: dict[str, Any], root: Path, verify: bool) -> dict[str, Any]:
    tensors = node.get("tensors") or {}
    out = {
        "component": where or "(root)",
        "module_class": _class_name(node["module_class"]),
        "catalog_class": _class_name(node.get("catalog_class")),
        "observation_space": _space_text(node.get("observation_space")),
        "action_space": _space_text(node.get("action_space")),
        "inference_only": node["inference_only"],
        "model_config": node.get("model_config"),
        "file": tensors.get("file"),
        "format": (tensors.get("format") or {}).get("name"),
        "num_tensors": tensors.get("num_tensors", 0),
        "num_parameters": tensors.get("num_elements", 0),
        "bytes": tensors.get("bytes", 0),
    }
    if verify and tensors:
        out["checksum_ok"] = checksum_ok(root, tensors)
    return out


def _space_text(data: Any) -> str | None:
    if data is None:
        return None
    from rlmodules.spaces import space_from_json

    try:
        return str(space_from_json(data))
    except RLModulesError as exc:
        return f"<unreadable space: {exc}>"


def _requirements(root: dict[str, Any]) -> list[dict[str, Any]]:
    """Each registered name or import path the checkpoint needs, and whether it is here."""
    needs: dict[tuple[str, str], dict[str, Any]] = {}
    for _, node in _walk(root, ""):
        refs = [("module", node["module_class"]), ("catalog", node.get("catalog_class"))]
        fmt = (node.get("tensors") or {}).get("format")
        refs.append(("checkpoint_format", fmt))
        for kind, ref in refs:
            if ref:
                key = (kind, _class_name(ref) or "?")
                needs.setdefault(key, _requirement(kind, ref))
    return list(needs.values())


def _requirement(kind: str, ref: dict[str, Any]) -> dict[str, Any]:
    if "import_path" in ref:
        module_name = ref["import_path"].partition(":")[0]
        return {"kind": kind, "name": ref["import_path"], "distribution": None,
                "version": None, "installed": None,
                "note": f"import path: loads only where {module_name!r} is already imported "
                        f"(or with allow_import=True)"}
    name = ref["name"]
    found = None
    for candidate in dict.fromkeys((name, name.rpartition("/")[2])):
        try:
            found = registry.record(kind, candidate)
            break
        except LookupError:
            continue
    return {
        "kind": kind, "name": name, "distribution": ref.get("distribution"),
        "version": ref.get("version"), "installed": found is not None,
        "installed_version": found.version if found else None,
        "note": None if found or ref.get("distribution") else
        "registered in-process when saved: register the same plugin before loading",
    }


def _inspect(args: Any) -> int:
    info = describe(args.path, verify=args.verify)
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif info["kind"] == "run":
        print_run(info, _print_text)
    elif info["kind"] == "algorithm":
        print_algorithm(info, _print_text)
    else:
        _print_text(info)
    algorithm = info.get("checkpoint", info)
    module = algorithm.get("rl_module", info)
    files = [*module["components"], *algorithm.get("tensor_files", {}).values()]
    missing = any(r["installed"] is False for r in module["requirements"])
    corrupted = any(f.get("checksum_ok") is False for f in files)
    return 1 if missing or corrupted else 0


def _print_text(info: dict[str, Any]) -> None:
    print(f"checkpoint   {info['path']}")
    print(f"format       version {info['checkpoint_format_version']} "
          f"(written by rlmodules {info['rlmodules_version']})")
    print(f"module       {info['module']}")
    print("requires")
    for req in info["requirements"]:
        source = f"{req['distribution']} {req['version'] or ''}".strip() \
            if req["distribution"] else "-"
        status = {True: "installed", False: "MISSING", None: "import path"}[req["installed"]]
        if req["installed"] and req.get("installed_version") not in (None, req["version"]):
            status += f" ({req['installed_version']})"
        print(f"  {req['kind']:<17} {req['name']:<32} {source:<22} {status}")
        if req["note"]:
            print(f"  {'':<17} {req['note']}")
    for comp in info["components"]:
        print(f"component    {comp['component']}: {comp['module_class']}"
              f"{' (inference only)' if comp['inference_only'] else ''}")
        if comp["observation_space"] is not None:
            print(f"  spaces     observation {comp['observation_space']}, "
                  f"action {comp['action_space']}")
        if comp["catalog_class"]:
            print(f"  catalog    {comp['catalog_class']}")
        if comp["model_config"]:
            print(f"  config     {_config_text(comp['model_config'])}")
        if comp["file"]:
            check = {True: ", checksum ok", False: ", CHECKSUM FAILED", None: ""}[
                comp.get("checksum_ok")]
            print(f"  tensors    {comp['num_parameters']:,} parameters in {comp['num_tensors']} "
                  f"tensors, {_size(comp['bytes'])}, {comp['format']} ({comp['file']}){check}")
    print(f"total        {info['total_parameters']:,} parameters, {_size(info['total_bytes'])}")


def _config_text(config: Any) -> str:
    """A DefaultModelConfig dict shows only the fields that differ from the defaults."""
    from rlmodules.model_config import DefaultModelConfig

    if isinstance(config, dict) and set(config) == set(DefaultModelConfig.field_names()):
        defaults = DefaultModelConfig().to_dict()
        changed = {k: v for k, v in config.items() if defaults[k] != v}
        return f"{json.dumps(changed, sort_keys=True)} (other fields default)"
    return json.dumps(config, sort_keys=True)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
