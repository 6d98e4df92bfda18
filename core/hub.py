"""Loading packaged policies by Hugging Face Hub name: ``hf://org/name`` (``@revision``).

:func:`download` fetches a repository through ``huggingface_hub.snapshot_download`` (the
``hub`` extra: ``pip install "rlmodules[hub]"``), so the Hub's cache, tokens, mirrors and
``HF_HUB_OFFLINE=1`` work as for any Hub library. :func:`open_checkpoint` is the door
``RLModule.from_checkpoint`` and ``Algorithm.from_checkpoint`` go through: a Hub name or a
local packaged folder (``rlmodules package``) is verified whole against its file list
before the checkpoint inside is read, and that checkpoint then loads exactly as a local one
does (nothing imported or executed, every name resolved through the registry). Any other
path passes through unchanged.

Example::

    module = RLModule.from_checkpoint("hf://org/ppo-CartPole-v1")
    module = RLModule.from_checkpoint("hf://org/ppo-CartPole-v1@v1.0")   # a tag, branch
    snapshot = download("hf://org/ppo-CartPole-v1", revision="main")     # or commit
    print(snapshot.uri)                                                  # ...@<commit>
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from .checkpoint import links_allowed_into
from .errors import CheckpointError, ConfigError
from .policy_package import PACKAGE_FILE, is_policy_package, package_part, verify_package

__all__ = ["SCHEME", "HubSnapshot", "OpenedCheckpoint", "download", "is_hub_path",
           "local_folder", "open_checkpoint", "parse_hub_path"]

SCHEME = "hf://"
#: The Hub's repository names: ``org/name`` of letters, digits, ``-``, ``_`` and ``.``.
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_INSTALL = 'pip install "rlmodules[hub]"'


@attrs.frozen
class HubSnapshot:
    """A downloaded revision of a Hub repository: ``path`` is its folder in the Hub cache,
    ``commit`` the commit the ``revision`` (None: the default branch) resolved to."""

    repo_id: str
    revision: str | None
    commit: str
    path: Path

    @property
    def uri(self) -> str:
        """``hf://org/name@<commit>``: names exactly these files."""
        return f"{SCHEME}{self.repo_id}@{self.commit}"


@attrs.frozen
class OpenedCheckpoint:
    """What :func:`open_checkpoint` yields: the checkpoint ``path`` to load; ``source``,
    where it came from (``hf://org/name@<commit>``, or the path given); and for a packaged
    policy its folder and checked ``rlmodules_package.json``."""

    path: Path
    source: str
    package: Path | None = None
    manifest: dict[str, Any] | None = None


def is_hub_path(path: Any) -> bool:
    """Whether ``path`` is a Hub name (``hf://org/name``), not a local path."""
    return isinstance(path, str) and path.startswith(SCHEME)


def parse_hub_path(path: str, *, revision: str | None = None) -> tuple[str, str | None]:
    """``(repo_id, revision)`` of ``hf://org/name`` or ``hf://org/name@revision``;
    ``revision`` may be given here instead (not both, unless they agree)."""
    repo_id, _, in_path = path[len(SCHEME):].partition("@")
    if not _REPO_ID.match(repo_id) or (in_path == "" and "@" in path):
        raise ConfigError(
            f"{path!r} is not a Hub name; write hf://org/name or hf://org/name@revision "
            f"(a branch, tag or commit), e.g. hf://sb3/ppo-CartPole-v1"
        )
    if in_path and revision is not None and revision != in_path:
        raise ConfigError(
            f"{path!r} names revision {in_path!r}, but revision={revision!r} was passed too; "
            f"give the revision once"
        )
    return repo_id, in_path or revision


def download(path: str, *, revision: str | None = None) -> HubSnapshot:
    """Fetch (or find in the Hub cache) the repository ``hf://org/name[@revision]``.

    Raises :class:`~rlmodules.ConfigError` when ``huggingface_hub`` is not installed, and
    :class:`~rlmodules.CheckpointError` when the repository or revision cannot be had
    (unknown, private without a token, or offline and not in the cache).
    """
    repo_id, revision = parse_hub_path(path, revision=revision)
    hub = _huggingface_hub(path)
    wanted = f"{SCHEME}{repo_id}" + (f"@{revision}" if revision else "")
    try:
        folder = hub.snapshot_download(repo_id=repo_id, revision=revision,
                                       library_name="rlmodules", library_version=_version())
    except (hub.errors.RevisionNotFoundError, hub.errors.RepositoryNotFoundError) as exc:
        raise CheckpointError(f"{wanted} was not found on the Hub: {_first_line(exc)}") from None
    except hub.errors.LocalEntryNotFoundError as exc:
        raise CheckpointError(
            f"{wanted} is not in the Hub cache and the Hub cannot be reached "
            f"({_first_line(exc)}); connect once to download it (offline use, "
            f"HF_HUB_OFFLINE=1, loads what is cached)"
        ) from None
    except (OSError, ValueError) as exc:  # HTTP errors, a bad cache
        raise CheckpointError(f"cannot download {wanted}: {_first_line(exc)}") from None
    folder = Path(folder)
    return HubSnapshot(repo_id=repo_id, revision=revision, commit=folder.name, path=folder)


@contextlib.contextmanager
def local_folder(path: Any, *, revision: str | None = None) -> Iterator[tuple[Path, str]]:
    """``(folder, source)`` for ``path`` while the block runs: a Hub name's snapshot in the
    Hub cache (see :func:`download`; its files are links into the cache's ``blobs/``, which
    checkpoint loading accepts inside the block only) and ``hf://org/name@<commit>``, or a
    local path as given."""
    if not is_hub_path(path):
        if revision is not None:
            raise ConfigError(
                f"revision={revision!r} applies to Hub names (hf://org/name), not to the "
                f"local path {path}"
            )
        yield Path(path), str(path)
        return
    snapshot = download(path, revision=revision)
    storage = snapshot.path.parent.parent  # models--org--name: snapshots/ and blobs/
    if snapshot.path.parent.name != "snapshots":
        storage = snapshot.path
    with links_allowed_into(storage), _labelled(snapshot.uri):
        if not is_policy_package(snapshot.path):
            raise CheckpointError(
                f"{snapshot.uri} is not a packaged policy: it has no {PACKAGE_FILE} (make one "
                f"with `rlmodules package RUN --out DIR`, then `hf upload`)"
            )
        yield snapshot.path, snapshot.uri


@contextlib.contextmanager
def open_checkpoint(path: Any, part: str, *, revision: str | None = None
                    ) -> Iterator[OpenedCheckpoint]:
    """The checkpoint to load for ``path``, while the block runs.

    ``path`` is a Hub name (see :func:`local_folder`), a packaged folder (its ``part``:
    ``"module"`` or ``"algorithm"``), or a checkpoint path, passed through. A package is
    verified whole against its file list before anything in it is read.
    """
    with local_folder(path, revision=revision) as (folder, source):
        if not is_policy_package(folder):
            yield OpenedCheckpoint(folder, source)
            return
        manifest = verify_package(folder)
        yield OpenedCheckpoint(package_part(folder, manifest, part), source, folder, manifest)


@contextlib.contextmanager
def _labelled(uri: str) -> Iterator[None]:
    """Checkpoint errors raised in the block name the Hub revision they concern."""
    try:
        yield
    except CheckpointError as exc:
        if str(exc).startswith(uri):
            raise
        raise CheckpointError(f"{uri}: {exc}") from None


def _huggingface_hub(path: str) -> Any:
    try:
        import huggingface_hub
        import huggingface_hub.errors
    except ImportError:
        raise ConfigError(
            f"loading {path} needs huggingface_hub, which is not installed; install the "
            f"extra with `{_INSTALL}`"
        ) from None
    return huggingface_hub


def _version() -> str:
    from rlmodules import __version__

    return __version__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
