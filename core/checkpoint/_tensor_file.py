"""One flat ``{name: tensor}`` file, written by a checkpoint format, checksummed in JSON.

:func:`write_tensor_file` returns a small JSON entry (file, format, checksum, sizes);
:func:`read_tensor_file` takes that entry back, verifies the checksum and only then lets the
format parse the file. The checksum is xxh3-64 over 8 MiB chunks of the file bytes (hashed in
parallel threads, combined by hashing the chunk digests): fast enough to stay small next to
reading the weights, and it catches truncation and flipped bits.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xxhash
from rlmodules import registry

from ..errors import CheckpointError, RLModulesError, UnknownNameError
from ._formats import resolve_format

if TYPE_CHECKING:
    import torch

__all__ = [
    "CHECKSUM_ALGORITHM",
    "contained_file",
    "file_checksum",
    "read_tensor_file",
    "verify_tensor_file",
    "write_tensor_file",
]

CHECKSUM_ALGORITHM = "xxh3_64/8MiB"
_CHUNK = 8 * 2**20
#: Made on first use: starting threads for every file would cost milliseconds per load.
_hash_pool: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _hash_pool
    if _hash_pool is None:
        _hash_pool = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 1, thread_name_prefix="rlmodules-checksum"
        )
    return _hash_pool


_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def file_checksum(path: str | os.PathLike[str]) -> str:
    """``"xxh3_64/8MiB:<hex>"`` of the file's bytes (chunks hashed in parallel)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return f"{CHECKSUM_ALGORITHM}:{xxhash.xxh3_64_hexdigest(b'')}"
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                starts = range(0, size, _CHUNK)
                if len(starts) == 1:
                    digests = [xxhash.xxh3_64_digest(view)]
                else:  # xxhash releases the GIL: chunks hash on all cores
                    digests = list(_pool().map(
                        lambda s: xxhash.xxh3_64_digest(view[s:s + _CHUNK]), starts))
            finally:
                view.release()
    return f"{CHECKSUM_ALGORITHM}:{xxhash.xxh3_64_hexdigest(b''.join(digests))}"


def write_tensor_file(
    directory: str | os.PathLike[str],
    stem: str,
    tensors: Mapping[str, torch.Tensor],
    *,
    format: str = "safetensors",
) -> dict[str, Any]:
    """Write ``tensors`` to ``directory/<stem><ext>``; return its JSON entry.

    Tensors are detached and made contiguous; tensors that share memory (tied weights) are
    written as separate copies. The entry records the file name, the format's provenance,
    the checksum, and sizes (``bytes``, ``num_tensors``, ``num_elements``) so tools can
    describe a checkpoint without reading it.
    """
    if not _SAFE_FILE_NAME.match(stem) or stem.endswith("."):
        raise CheckpointError(f"tensor file stem {stem!r} must be a plain file name like 'module'")
    fmt, provenance = resolve_format(format)
    clean = _standalone_tensors(tensors)
    path = Path(directory) / f"{stem}{fmt.file_extension}"
    try:
        fmt.save(clean, path)
    except RLModulesError:
        raise
    except Exception as exc:
        raise CheckpointError(
            f"checkpoint format {provenance['name']!r} failed to write {path.name}: {exc}"
        ) from exc
    return {
        "file": path.name,
        "format": provenance,
        "checksum": file_checksum(path),
        "bytes": path.stat().st_size,
        "num_tensors": len(clean),
        "num_elements": sum(t.numel() for t in clean.values()),
    }


def _standalone_tensors(tensors: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    import torch

    out: dict[str, torch.Tensor] = {}
    seen: set[tuple[int, str]] = set()
    for name, value in tensors.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"tensor files hold {{str: torch.Tensor}}; entry {name!r} is "
                f"{type(value).__name__}"
            )
        tensor = value.detach()
        storage = (tensor.untyped_storage().data_ptr(), str(tensor.device))
        if storage in seen and tensor.numel():
            tensor = tensor.clone()
        seen.add(storage)
        out[name] = tensor.contiguous()
    return out


def read_tensor_file(
    directory: str | os.PathLike[str],
    entry: Mapping[str, Any],
    *,
    device: Any = "cpu",
) -> dict[str, torch.Tensor]:
    """Verify the checksum of the file ``entry`` names, then load it onto ``device``.

    A missing, truncated or altered file is a :class:`CheckpointError` naming it, raised
    before any tensor is parsed.
    """
    import torch

    path = verify_tensor_file(directory, entry)
    format_ref = entry.get("format") or {}
    fmt, _ = resolve_format(_format_name(format_ref, path))
    try:
        tensors = fmt.load(path, torch.device(device))
    except RLModulesError:
        raise
    except Exception as exc:
        raise CheckpointError(
            f"checkpoint file {path} could not be read as {format_ref.get('name')!r}: {exc}"
        ) from exc
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()
    ):
        raise CheckpointError(
            f"checkpoint file {path} does not hold a flat {{name: tensor}} mapping"
        )
    return tensors


def contained_file(directory: str | os.PathLike[str], file_name: Any) -> Path:
    """``directory/file_name`` after checking that it is a plain file name (no ``/`` or
    ``..``) whose file, symlinks followed, lies inside ``directory``: the one path check of
    every file a checkpoint names, for loading and ``inspect --verify`` alike."""
    if not isinstance(file_name, str) or not _SAFE_FILE_NAME.match(file_name):
        raise CheckpointError(
            f"a checkpoint names the file {file_name!r}; it must be a plain file name inside "
            f"the checkpoint directory (no '/' or '..')"
        )
    path = Path(directory) / file_name
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} is missing")
    real_dir = Path(os.path.realpath(directory))
    if Path(os.path.realpath(path)).parent != real_dir:
        raise CheckpointError(
            f"checkpoint file {path} is a link to {os.path.realpath(path)}, outside the "
            f"checkpoint; a checkpoint's files must lie inside its directory"
        )
    return path


def verify_tensor_file(directory: str | os.PathLike[str], entry: Any) -> Path:
    """The tensor file ``entry`` names, after checking its path, size and checksum; raises
    :class:`CheckpointError` naming what is wrong."""
    if not isinstance(entry, Mapping):
        raise CheckpointError(f"tensor file entry {entry!r} must be an object with a 'file'")
    path = contained_file(directory, entry.get("file"))
    try:
        _verify(path, entry)
    except OSError as exc:  # e.g. replaced by a writer mid-read
        raise CheckpointError(f"cannot read checkpoint file {path}: {exc}") from None
    return path


def _verify(path: Path, entry: Mapping[str, Any]) -> None:
    expected = entry.get("checksum")
    algorithm = expected.partition(":")[0] if isinstance(expected, str) else None
    if algorithm != CHECKSUM_ALGORITHM:
        raise CheckpointError(
            f"checkpoint file {path.name} has checksum {expected!r}; this rlmodules verifies "
            f"'{CHECKSUM_ALGORITHM}:<hex>' checksums (upgrade rlmodules if the checkpoint is newer)"
        )
    size = path.stat().st_size
    if isinstance(entry.get("bytes"), int) and size != entry["bytes"]:
        raise CheckpointError(
            f"checkpoint file {path} is {size} bytes but {entry['bytes']} were written: it is "
            f"truncated or was replaced; restore it from a good copy"
        )
    actual = file_checksum(path)
    if actual != expected:
        raise CheckpointError(
            f"checkpoint file {path} is corrupted: checksum {actual} does not match the "
            f"recorded {expected}; restore it from a good copy"
        )


def _format_name(format_ref: Any, path: Path) -> str:
    name = format_ref.get("name") if isinstance(format_ref, Mapping) else None
    if not isinstance(name, str):
        raise CheckpointError(f"checkpoint file {path.name} does not record its format")
    for candidate in (name, name.rpartition("/")[2]):
        try:
            registry.record("checkpoint_format", candidate)
            return candidate
        except UnknownNameError:
            continue
    dist, version = format_ref.get("distribution"), format_ref.get("version")
    need = f"`pip install {dist}=={version}`" if dist and version else "the plugin that provides it"
    raise CheckpointError(
        f"checkpoint file {path.name} was written by checkpoint format {name!r}"
        f"{f' from {dist} {version}' if dist else ''}, which is not installed; install {need}"
    )
