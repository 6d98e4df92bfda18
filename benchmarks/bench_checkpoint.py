"""Checkpoint save/load speed for a ~100 MB MLP module against raw library calls.

Baselines, measured in the same process on the same module: ``safetensors.torch.save_file``
and ``load_file`` + ``load_state_dict``, and ``torch.save`` / ``torch.load`` +
``load_state_dict``. rlmodules' numbers include metadata, checksums (written and verified),
strict state checks, and the fsyncs and rename of the atomic write (the raw calls do not
fsync; a raw save with an fsync is printed too). Files are in the page cache when loading.

Run: ``python benchmarks/bench_checkpoint.py [--mb 100] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import torch
from rlmodules import RLModule, RLModuleSpec
from rlmodules.checkpoint import file_checksum
from safetensors.torch import load_file, save_file


def best_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3, statistics.median(times) * 1e3


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="module size in MB")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    # Four square hidden layers of width w hold ~4 w^2 float32 parameters.
    width = int((args.mb * 2**20 / 4 / 4) ** 0.5)
    spec = RLModuleSpec(
        module_class="bc", observation_space=gym.spaces.Box(-1, 1, (width,)),
        action_space=gym.spaces.Discrete(8),
        model_config={"fcnet_hiddens": [width] * 4},
    )
    module = spec.build()
    state = {k: v.contiguous() for k, v in module.state_dict().items()}
    size_mb = sum(t.numel() * t.element_size() for t in state.values()) / 2**20
    work = Path(tempfile.mkdtemp(prefix="bench-ckpt-"))
    st_file, pt_file, ours = work / "raw.safetensors", work / "raw.pt", work / "ckpt"

    def raw_st_save_fsync() -> None:
        save_file(state, str(st_file))
        fsync_file(st_file)

    rows = [
        ("raw safetensors save_file", lambda: save_file(state, str(st_file))),
        ("raw safetensors save_file + fsync", raw_st_save_fsync),
        ("raw torch.save", lambda: torch.save(state, pt_file)),
        ("rlmodules save_to_path (safetensors)", lambda: module.save_to_path(ours)),
        ("raw safetensors load_file + load_state_dict",
         lambda: module.load_state_dict(load_file(str(st_file)))),
        ("raw torch.load + load_state_dict",
         lambda: module.load_state_dict(torch.load(pt_file, weights_only=True))),
        ("rlmodules restore_from_path (safetensors)", lambda: module.restore_from_path(ours)),
        ("  of which: verifying the checksum", lambda: file_checksum(st_file)),
    ]
    results = {name: best_ms(fn, args.repeat) for name, fn in rows}
    new_module_rows = [
        ("raw build + load_file + load_state_dict",
         lambda: spec.build().load_state_dict(load_file(str(st_file)))),
        ("rlmodules RLModule.from_checkpoint", lambda: RLModule.from_checkpoint(ours)),
    ]
    new_module = {name: best_ms(fn, max(1, args.repeat // 3)) for name, fn in new_module_rows}
    print(f"module: {size_mb:.1f} MB of float32 weights, torch threads {torch.get_num_threads()}, "
          f"best (median) of {args.repeat}")
    save_base = results["raw safetensors save_file"][0]
    load_base = results["raw safetensors load_file + load_state_dict"][0]
    for name, (best, median) in results.items():
        base = load_base if any(w in name for w in ("load", "restore", "checksum")) \
            else save_base
        print(f"  {name:<46} {best:8.1f} ms ({median:7.1f})   {best / base:5.2f}x raw safetensors")
    # Loading verifies every byte before any weight changes: one read of the file more
    # than the raw load's copy, which bounds the ratio from below on this machine.
    floor = (load_base + results["  of which: verifying the checksum"][0]) / load_base
    print(f"  verify-then-copy floor (raw load + one checksum pass): {floor:.2f}x raw safetensors")
    print("building a new module from the files (best, median):")
    for name, (best, median) in new_module.items():
        print(f"  {name:<46} {best:8.1f} ms ({median:7.1f})")
    print(f"  checkpoint files: {sorted(p.name for p in ours.iterdir())}")


if __name__ == "__main__":
    main()
