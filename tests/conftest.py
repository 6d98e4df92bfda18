"""Fixtures shared by the core's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """Tiny networks train fastest on one torch thread (and do not fight other processes)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
