"""Atomic writes: the one way rlmodules replaces a directory or a file.

A reader of ``path`` sees either the previous directory or file or the new one, whole, even
if the writing process dies at any instruction. :func:`atomic_directory` writes a sibling
temp dir, fsyncs it, then swaps it in: on Linux with one ``renameat2`` call with
``RENAME_EXCHANGE``; elsewhere the old directory is renamed aside first, and
:func:`recover_interrupted_commit` puts it back if the writer died between the two renames.
:func:`atomic_write_file` writes a sibling temp file, fsyncs it and renames it over ``path``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import CheckpointError

__all__ = ["atomic_directory", "atomic_write_file", "recover_interrupted_commit"]

_RENAME_EXCHANGE = 2  # from <linux/fs.h>
_COMMIT_TRIES = 100
_AT_FDCWD = -100


def _load_renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return getattr(libc, "renameat2", None)


_renameat2 = _load_renameat2()


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _aside_prefix(path: Path) -> str:
    return f".{path.name}.old-"


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, marker_file: str) -> Iterator[Path]:
    """Yield an empty temp dir beside ``path``; on success it becomes ``path`` atomically.

    Every file under it is fsynced, then the directory swaps in for ``path``. An existing
    ``path`` is replaced only when it is an empty directory or holds ``marker_file`` (so a
    mistyped path never deletes unrelated data). On an exception the temp dir is removed and
    ``path`` is left as it was.

    Example::

        with atomic_directory("ckpt/step_100", marker_file="state.json") as tmp:
            (tmp / "state.json").write_text("{}")
    """
    target = Path(path).expanduser().absolute()
    _check_replaceable(target, marker_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target), dir=target.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        _commit(tmp, target, marker_file)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_file(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Replace the file ``path`` with ``data`` (text is written as UTF-8) atomically: a
    crash leaves the old file or the new one, whole, never a mix or a stray temp file.

    A file that exists keeps its permission bits. ``before_replace`` runs once the new
    contents are on disk, just before the swap; if it raises, ``path`` is left as it was
    (e.g. a check that nobody changed the file meanwhile).

    Example::

        atomic_write_file("index.json", json.dumps(index))
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            with contextlib.suppress(FileNotFoundError):  # a new file keeps mkstemp's mode
                os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _check_replaceable(target: Path, marker_file: str) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise CheckpointError(
            f"cannot write a checkpoint to {target}: it exists and is not a directory; "
            f"choose a new path or an empty directory"
        )
    if any(target.iterdir()) and not (target / marker_file).is_file():
        raise CheckpointError(
            f"refusing to replace {target}: the directory is not empty and holds no "
            f"{marker_file!r}, so it is not a checkpoint of this kind; choose a new path or "
            f"an empty directory"
        )


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            _fsync_path(Path(dirpath) / name, os.O_RDONLY)
        _fsync_path(Path(dirpath), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory
        if exc.errno not in (errno.EINVAL, errno.EBADF) or path.is_file():
            raise
    finally:
        os.close(fd)


def _commit(tmp: Path, target: Path, marker_file: str) -> None:
    """Swap ``tmp`` in; two writers racing for one path both succeed, the last one wins."""
    for _ in range(_COMMIT_TRIES):
        if not target.exists():
            try:
                os.rename(tmp, target)
                break
            except OSError as exc:  # another writer created ``target`` meanwhile
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                continue
        try:
            swapped = _exchange(tmp, target)
        except FileNotFoundError:  # another writer moved ``target`` aside meanwhile
            continue
        if swapped:
            shutil.rmtree(tmp)  # ``tmp`` now holds the previous directory
        else:
            aside = Path(tempfile.mkdtemp(prefix=_aside_prefix(target), dir=target.parent))
            os.rename(target, aside / "d")
            os.rename(tmp, target)
            _fsync_dir(target.parent)
            shutil.rmtree(aside)
        break
    else:
        raise CheckpointError(f"cannot write {target}: other writers kept replacing it")
    _fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; ``False`` where the platform or filesystem cannot."""
    if _renameat2 is None:
        return False
    rc = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, f"cannot swap {a} and {b}: {os.strerror(err)}")


def _fsync_dir(path: Path) -> None:
    _fsync_path(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def recover_interrupted_commit(path: str | os.PathLike[str]) -> bool:
    """Put back the previous directory if a writer died between its two renames.

    Only needed where the atomic swap is unavailable; returns ``True`` if it restored one.
    """
    target = Path(path).expanduser().absolute()
    if target.exists() or not target.parent.is_dir():
        return False
    for aside in sorted(target.parent.glob(_aside_prefix(target) + "*")):
        previous = aside / "d"
        if previous.is_dir():
            os.rename(previous, target)
            _fsync_dir(target.parent)
            shutil.rmtree(aside, ignore_errors=True)
            return True
    return False
