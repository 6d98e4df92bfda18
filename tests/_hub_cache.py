"""A Hugging Face Hub cache built by hand, laid out as ``snapshot_download`` leaves it.

``models--org--name/blobs/<hash>`` holds each file once; ``snapshots/<commit>/<path>`` links
to it (``../../blobs/<hash>``); ``refs/<branch or tag>`` holds a commit. Loading from it with
the network off is loading what a download left behind.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def add_revision(cache: Path, repo_id: str, folder: Path, *, ref: str | None = None) -> str:
    """Put the files of ``folder`` into ``cache`` as one commit of ``repo_id`` (named by
    ``refs/<ref>`` if given); returns the commit hash."""
    storage = cache / ("models--" + repo_id.replace("/", "--"))
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    commit = digest.hexdigest()
    for path in files:
        data = path.read_bytes()
        blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = storage / "snapshots" / commit / path.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    if ref is not None:
        (storage / "refs").mkdir(parents=True, exist_ok=True)
        (storage / "refs" / ref).write_text(commit)
    return commit


def snapshot(cache: Path, repo_id: str, commit: str) -> Path:
    return cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / commit
