"""A process killed at random moments during save_to_path never leaves a broken checkpoint."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from rlmodules import RLModule

# A parent process imports torch once, then forks writers on request: each writer saves the
# same module over and over to one path, every save with all weights set to a new value.
WRITER = textwrap.dedent("""
    import os, sys
    import gymnasium as gym
    import torch
    torch.set_num_threads(1)
    from rlmodules import RLModuleSpec
    from rlmodules.checkpoint import _atomic

    path, swap = sys.argv[1], sys.argv[2]
    if swap == "rename-aside":
        _atomic._renameat2 = None  # as on platforms without an atomic directory swap
    module = RLModuleSpec(module_class="bc", observation_space=gym.spaces.Box(-1, 1, (64,)),
                          action_space=gym.spaces.Discrete(4),
                          model_config={"fcnet_hiddens": [256, 256]}).build()
    module.save_to_path(path)
    print("ready", flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            value = int(line)
            while True:
                value += 1
                with torch.no_grad():
                    for p in module.parameters():
                        p.fill_(value)
                module.save_to_path(path)
        print(pid, flush=True)
""")


def wait_until_dead(pid):
    """A SIGKILLed process may finish its current system call; wait until it is a zombie."""
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.001)


def restored_state(module, path):
    module.restore_from_path(path)  # raises unless every file is whole and checksummed
    return {k: v.clone() for k, v in module.get_state().items()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches /proc for the kill")
@pytest.mark.parametrize("swap", ["exchange", "rename-aside"])
def test_killed_writers_leave_the_old_or_the_new_checkpoint(tmp_path, swap):
    path = tmp_path / "ckpt"
    rng = random.Random(1234)
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path), swap],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout.readline().strip() == "ready"
            module = RLModule.from_checkpoint(path)
            initial = restored_state(module, path)
            complete_saves = set()
            for round_ in range(10):
                parent.stdin.write(f"{round_ * 1000}\n")
                parent.stdin.flush()
                pid = int(parent.stdout.readline())
                time.sleep(rng.uniform(0.0, 0.15))
                os.kill(pid, signal.SIGKILL)
                wait_until_dead(pid)
                state = restored_state(module, path)
                firsts = {float(t.flatten()[0]) for t in state.values()}
                if len(firsts) == 1 and all(bool((t == t.flatten()[0]).all())
                                            for t in state.values()):
                    complete_saves |= firsts  # one complete save: all weights hold its value
                else:
                    assert all(torch.equal(state[k], initial[k]) for k in initial)
            assert len(complete_saves) >= 3  # kills landed after different complete saves
        finally:
            parent.kill()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ckpt"]
    assert all(name.startswith(".ckpt.") for name in leftovers), leftovers
