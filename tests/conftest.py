"""Fixtures shared by the core's tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def one_torch_thread():
    """Tiny networks train fastest on one torch thread (and do not fight other processes)."""
    with _torch_threads(1):
        yield


@pytest.fixture
def two_torch_threads():
    """torch at 2 threads during the test: more than the trainer's acting default of 1."""
    with _torch_threads(2):
        yield


@pytest.fixture
def run_fresh():
    """``run_fresh(code)``: run ``code`` in a fresh interpreter (a user's new process) and
    return the last line it printed; a failure shows its stderr."""
    import subprocess
    import sys
    import textwrap

    def run(code: str) -> str:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    return run
