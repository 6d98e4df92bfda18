"""Run directories of ``rlmodules train``: where a run's files go, and which may be used.

Without ``--out`` a run gets ``runs/<env>_<algo>_<N>``, numbered past the highest ``N``
there (SB3's ``PPO_1``, ``PPO_2``). ``--out DIR`` takes a new or empty directory; one that
holds files is refused unless ``--resume DIR`` continues its run or ``--overwrite``
replaces it, which is only done to a directory that holds a run (``run.json`` or
``metrics.jsonl``), never to any other folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from rlmodules.errors import ConfigError

__all__ = ["check_out_dir", "make_out_dir", "numbered_run_dir", "RUNS"]

#: Where runs go without ``--out``.
RUNS = Path("runs")
#: Files that mark a directory as a training run's.
_RUN_FILES = ("run.json", "metrics.jsonl")


def check_out_dir(out: Path, *, overwrite: bool) -> None:
    """Raise unless ``out`` may become a run directory (checked before the run is built)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"--out {out}: a file of that name is in the way; pass a directory (a new one, or "
            f"an earlier run's with --resume)"
        )
    if not out.is_dir() or not any(out.iterdir()):
        return
    is_run = any((out / name).is_file() for name in _RUN_FILES)
    if not overwrite:
        what = "an earlier run" if is_run else "files"
        raise ConfigError(
            f"--out {out} already holds {what}; pass --resume {out} to continue it, "
            f"--overwrite to replace it, or a new directory (leave --out out for a "
            f"numbered one under {RUNS}/)"
        )
    if not is_run:
        raise ConfigError(
            f"--overwrite refuses to delete {out}: it holds files but no training run "
            f"({' or '.join(_RUN_FILES)}); pick another --out"
        )


def make_out_dir(out: Path, *, overwrite: bool) -> Path:
    """Create ``out`` (emptied first with ``overwrite``, as :func:`check_out_dir` allowed)."""
    check_out_dir(out, overwrite=overwrite)
    if overwrite and out.is_dir():
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
    return out


def numbered_run_dir(env: str, algo: str, root: Path = RUNS) -> Path:
    """Create and return ``root/<env>_<algo>_<N>`` with ``N`` one past the highest there."""
    stem = f"{re.sub(r'[^A-Za-z0-9._-]+', '-', env).strip('-')}_{algo}"
    pattern = re.compile(re.escape(stem) + r"_(\d+)")
    try:
        root.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in root.iterdir() if (m := pattern.fullmatch(p.name))]
        number = max(taken, default=0) + 1
        while True:
            path = root / f"{stem}_{number}"
            try:
                path.mkdir()  # not exist_ok: a run started meanwhile takes the next number
                return path
            except FileExistsError:
                number += 1
    except OSError as exc:
        raise ConfigError(f"cannot create a run directory under {root} ({exc})") from None
