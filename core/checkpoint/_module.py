"""Module checkpoints: safe to load, atomic to write, classes referenced by registered name.

A checkpoint is a directory::

    rlmodule.json                    metadata: format version, rlmodules version, the
                                     component tree (class by registered name with its
                                     distribution and version, spaces, model_config,
                                     inference_only, action distributions) and each tensor
                                     file's checksum; checksummed itself
    module.safetensors               the root module's tensors (a MultiRLModule's shared ones)
    component-000-p0.safetensors     one file per sub-module (module id "p0")

``RLModule.save_to_path`` / ``restore_from_path`` / ``from_checkpoint`` / ``get_metadata``
call :func:`save_module`, :func:`restore_module`, :func:`load_module` and
:func:`module_metadata`. Loading never unpickles and imports nothing named in the file:
classes come from the registry, by registered name or by an import path a plugin registered,
or are objects the caller handed over (``trusted_objects``; ``allow_import=True`` opts in to
importing any path). A reader that races a writer
replacing the checkpoint reads the old or the new one whole. These functions work on any
RLModule through its public state API; a MultiRLModule is told apart by its
``OWN_STATE_KEY``.

Example::

    path = module.save_to_path("ckpt")               # safetensors; format="torch" also works
    same = RLModule.from_checkpoint("ckpt")           # class resolved by registered name
    multi.restore_from_path("ckpt", component="p0")   # one module id only
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from rlmodules.registry import untrusted_input

from ..errors import CheckpointError, RLModulesError
from ._atomic import atomic_directory
from ._build import build_from_node, check_action_dists, space_mismatch
from ._formats import resolve_format
from ._json_file import write_json_file
from ._metadata import METADATA_FILE, is_container, module_metadata, read_metadata
from ._tensor_file import read_tensor_file, write_tensor_file

__all__ = ["DEFAULT_FORMAT", "check_build_size", "load_module", "restore_module", "save_module",
           "stored_elements"]

DEFAULT_FORMAT = "safetensors"
#: How often a load starts over when the checkpoint was replaced while it was read.
_RETRIES = 64
_T = TypeVar("_T")


# --- save -------------------------------------------------------------------------------------
def save_module(
    module: Any, path: str | os.PathLike[str] | None = None, *, format: str | None = None
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
        _write_node(metadata["module"], state, tmp, "", format_name, stems,
                    getattr(module, "OWN_STATE_KEY", None))
        write_json_file(tmp / METADATA_FILE, metadata)
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
    node: dict[str, Any], state: Mapping[str, Any], tmp: Path, where: str, fmt: str, stems: Any,
    own_key: str | None,
) -> None:
    own = state
    if "components" in node:
        own = state.get(own_key, {}) if own_key else {}
        for module_id, child in node["components"].items():
            child_where = f"{where}/{module_id}" if where else module_id
            _write_node(child, state[module_id], tmp, child_where, fmt, stems, own_key)
    if own or "components" not in node:
        node["tensors"] = write_tensor_file(tmp, stems(where), own, format=fmt)
    else:
        node["tensors"] = None


# --- restore and load ---------------------------------------------------------------------------
def restore_module(
    module: Any, path: str | os.PathLike[str], *, component: str | None = None
) -> None:
    """Load a checkpoint's weights into ``module`` (all of them, or one ``component``).

    ``component`` ("p0", or "a/b" for nested containers) picks the part of the checkpoint to
    read and the part of ``module`` to fill: a sub-module of a MultiRLModule checkpoint can
    be restored into a standalone module, and a single-module checkpoint into one module id
    of a MultiRLModule. Every file is checksummed and every tensor checked against the
    module's keys and shapes before any weight changes; tensors land on the module's device.
    """
    root = Path(path).expanduser().absolute()

    def read() -> tuple[Any, dict[str, Any], dict[str, Any]]:
        meta = read_metadata(root)
        node, target = _pair(module, meta["module"], component, root)
        return target, node, _read_state(target, node, root, component or "")

    target, node, state = _consistent_read(root, read)
    check_action_dists(node, target, root)
    try:
        target.set_state(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{exc}{space_mismatch(node, target)}") from None


def load_module(
    path: str | os.PathLike[str],
    *,
    component: str | None = None,
    inference_only: bool | None = None,
    device: Any = None,
    allow_import: bool = False,
    trusted_objects: Iterable[Any] = (),
) -> Any:
    """Build the checkpointed module (or one ``component``) and load its weights.

    The class comes from the registry by the recorded name; a class recorded by import path
    loads only if a plugin registered exactly that path, if it is one of ``trusted_objects``
    (the classes you hand over, e.g. ``[MyModule]``), or with ``allow_import=True``. The
    module gets the action distributions it was saved with, or the error names what to
    install.
    ``inference_only=True`` builds the lean inference version from a full checkpoint.
    ``device`` places the module (weights load straight onto it).
    """
    from ..networks import skipped_initializers  # torch: save and restore never need it

    root = Path(path).expanduser().absolute()

    def read() -> Any:
        node = read_metadata(root)["module"]
        if component is not None:
            node = _walk_node(node, component, root)
        with untrusted_input(root, allow_import=allow_import,
                             trusted_objects=trusted_objects), skipped_initializers():
            check_build_size(  # before the real build allocates anything
                lambda: build_from_node(node, inference_only=inference_only, root=root),
                stored_elements(node), f"checkpoint {root}")
            # skipped: set_state below overwrites every weight, strictly
            module = build_from_node(node, inference_only=inference_only, root=root)
        check_action_dists(node, module, root)
        if device is not None:
            module.to(device)
        module.set_state(_read_state(module, node, root, component or ""))
        return module

    return _consistent_read(root, read)


def check_build_size(build: Callable[[], Any], stored: int, source: str) -> None:
    """Refuse, before anything is allocated, a module ``build()`` would make with far more
    weights than the ``stored`` elements of its checkpoint's tensor files (an edited
    ``model_config`` must not allocate gigabytes). ``build`` runs on PyTorch's meta device,
    which allocates nothing; a module that cannot be built there is left to the real build."""
    import torch

    try:
        with torch.device("meta"):
            probe = build()
    except RLModulesError:
        raise
    except Exception:  # e.g. an initializer the meta device lacks: the real build decides
        return
    if not isinstance(probe, torch.nn.Module):  # a module without weights
        return
    built = sum(t.numel() for t in probe.state_dict().values() if isinstance(t, torch.Tensor))
    if built > 2 * stored + 2**20:
        raise CheckpointError(
            f"{source}: its recorded config builds a module of {built:,} weights, but its "
            f"tensor files hold {stored:,}; the metadata does not describe these weights "
            f"(was it edited?); save it again"
        )


def stored_elements(node: Mapping[str, Any]) -> int:
    """Elements of every tensor file in ``node``'s tree, as its (checked) metadata records."""
    tensors = node.get("tensors") or {}
    return int(tensors.get("num_elements", 0)) + sum(
        stored_elements(child) for child in (node.get("components") or {}).values())


def _consistent_read(root: Path, read: Callable[[], _T]) -> _T:
    """``read()``, started over if a writer swapped in a new checkpoint at ``root`` while
    it ran (a mix of the old metadata and the new files fails its checksums)."""
    for attempt in range(_RETRIES):
        before = _identity(root)
        try:
            return read()
        except CheckpointError:
            if attempt + 1 == _RETRIES or _identity(root) == before:
                raise
            time.sleep(0.001 * attempt)  # let a writer that keeps replacing it finish
    raise AssertionError("unreachable")


def _identity(root: Path) -> tuple[int, int, int] | None:
    """Which directory ``root`` is now; the change time tells a new directory that reuses a
    freed inode from the old one."""
    try:
        stat = os.stat(root)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_ctime_ns


def _pair(
    module: Any, root_node: dict[str, Any], component: str | None, root: Path
) -> tuple[dict[str, Any], Any]:
    if component is None:
        return root_node, module
    if not isinstance(component, str) or not component.strip("/"):
        raise CheckpointError(
            f"component must be a module id such as 'p0' or a path 'a/b', got {component!r}"
        )
    in_checkpoint = "components" in root_node
    in_module = is_container(module)
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


def _walk_module(module: Any, component: str) -> Any:
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


def _read_state(module: Any, node: dict[str, Any], root: Path, where: str) -> dict[str, Any]:
    """Verified tensors for ``module`` from ``node``, shaped like ``module.get_state()``."""
    label = repr(where) if where else "root"
    is_multi = "components" in node
    if is_multi != is_container(module):
        held = "a MultiRLModule" if is_multi else "a single module"
        raise CheckpointError(
            f"checkpoint {root} component {label} holds {held}, but the target is a "
            f"{type(module).__name__}; pass component= to pick a matching part"
        )
    if not is_multi:
        return read_tensor_file(root, node["tensors"], device=_device_of(module))
    components = {  # an inference-only build leaves learner-only modules out
        module_id: child for module_id, child in node["components"].items()
        if not (module.inference_only and child.get("learner_only", False))
    }
    saved, present = list(components), list(module.keys())
    if set(saved) != set(present):
        raise CheckpointError(
            f"checkpoint {root} component {label} has module ids {saved}, but the "
            f"{type(module).__name__} has {present}; restore one with component='<module_id>'"
        )
    state: dict[str, Any] = {
        module_id: _read_state(
            module[module_id], child, root, f"{where}/{module_id}" if where else module_id
        )
        for module_id, child in components.items()
    }
    own = node.get("tensors")
    state[module.OWN_STATE_KEY] = (
        read_tensor_file(root, own, device=_device_of(module)) if own else {}
    )
    return state


def _device_of(module: Any) -> Any:
    import torch

    if isinstance(module, torch.nn.Module):  # a plain RLModule has no tensors
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            return tensor.device
    return torch.device("cpu")
