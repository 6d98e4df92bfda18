"""The action step of an ONNX export (``OnnxPolicy``) against ``compute_actions`` and torch.

The default PPO module for CartPole-v1 (``fcnet_hiddens=[256, 256]``) is exported with
``rlmodules export``'s code path, then acts on a batch of observations with the same
weights, one thread each (torch and onnxruntime):

* ``OnnxPolicy``: ``policy.compute_actions(obs, explore=True)`` (the graph, numpy
  sampling, ``action_logp`` / ``action_prob``, ``actions_for_env``);
* ``OnnxPolicy greedy``: the same with ``explore=False`` (the graph's greedy actions);
* ``compute_actions``: ``rlmodules.compute_actions(module, {"obs": obs}, explore=True,
  for_env=True)`` on numpy observations (and ``greedy``: ``explore=False``);
* ``hand-written``: the module's layers as plain ``nn.Module``s under ``torch.no_grad()``,
  then ``log_softmax`` + ``multinomial`` + ``gather`` (bench_action_step's baseline).

Times are the median over rounds that alternate the variants (bench_action_step's
``measure``), round by round rather than call by call: OnnxPolicy's numpy sampling measured
2-3x slower when each call directly follows a torch call, which a deployed process without
torch never sees. Process CPU time unless ``--wall``. Then the start-up of a fresh process
that loads the export and acts once, without torch, against one that loads the checkpoint
with torch; and, in this process, what loading an export costs: ``OnnxPolicy(DIR)`` whole
and its manifest check alone (``read_manifest``: checksums of the manifest and the graph,
the schema, the files inside the directory).
Targets: ``OnnxPolicy`` at batch 1 at least 3x faster than ``compute_actions``; the
OnnxPolicy process under 0.5 s. ``--check`` exits non-zero if a target is missed.

Run: ``python benchmarks/bench_export.py [--wall] [--check]``
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_action_step import build_module, measure, parse_args, plain_policy, variants
from rlmodules import Columns, compute_actions
from rlmodules.export import export, read_manifest
from rlmodules_onnx import OnnxPolicy
from rlmodules_onnx.manifest import OnnxArtefact

#: batch size -> (calls per round, rounds)
SETTINGS = {1: (300, 15), 1024: (10, 15)}
SPEED_TARGET = 3.0  # compute_actions / OnnxPolicy at batch 1, at least
STARTUP_TARGET = 0.5  # seconds for a process that loads the export and acts once

ONNX_PROCESS = """
import sys
from rlmodules_onnx import OnnxPolicy
OnnxPolicy(sys.argv[1]).compute_actions([[0.0, 0.1, 0.0, -0.1]])
"""
TORCH_PROCESS = """
import sys, numpy as np
from rlmodules import RLModule, compute_actions
module = RLModule.from_checkpoint(sys.argv[1], inference_only=True)
compute_actions(module, {"obs": np.array([[0.0, 0.1, 0.0, -0.1]], np.float32)}, explore=False)
"""


def startup_seconds(script: str, path: Path, clock_is_wall: bool, runs: int = 7) -> float:
    """Median time of a fresh interpreter running ``script`` on ``path``: wall time, or the
    child's CPU time (user + system), which a loaded machine does not inflate as much."""
    times = []
    for _ in range(runs):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(path)], check=True)
        after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - start
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        times.append(wall if clock_is_wall else cpu)
    return statistics.median(times)


def _median_seconds(fn: Callable[[], Any], clock: Callable[[], float], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def main() -> int:
    args, clock = parse_args(__doc__)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        return run(args, clock, Path(tmp))


def run(args: Any, clock: Callable[[], float], tmp: Path) -> int:
    module = build_module().eval()
    baseline = variants(module, plain_policy(module))["hand-written"]
    module.save_to_path(tmp / "ckpt")
    export(tmp / "ckpt", tmp / "onnx", format="onnx")
    policy = OnnxPolicy(tmp / "onnx", seed=0, num_threads=1)

    fns = {
        "OnnxPolicy": lambda obs: policy.compute_actions(obs, explore=True),
        "OnnxPolicy greedy": lambda obs: policy.compute_actions(obs, explore=False),
        "compute_actions": lambda obs: compute_actions(module, {Columns.OBS: obs},
                                                       explore=True, for_env=True),
        "compute_actions greedy": lambda obs: compute_actions(module, {Columns.OBS: obs},
                                                              explore=False, for_env=True),
        "hand-written": lambda obs: baseline(torch.as_tensor(obs)),
    }
    print(f"CartPole-v1 default PPO module [256, 256], 1 thread (torch, onnxruntime), "
          f"{'wall' if args.wall else 'CPU'} time, median of alternating rounds; "
          f"ratio = time / hand-written")
    missed = []
    for batch, (calls, rounds) in SETTINGS.items():
        obs = np.random.default_rng(0).normal(size=(batch, 4)).astype(np.float32)
        times = measure(fns, obs, calls, rounds, clock, per_call=False)
        base = times["hand-written"]
        print(f"\nbatch {batch}:")
        for name, seconds in times.items():
            print(f"  {name:<24} {seconds * 1e6:10.1f} us   {seconds / base:5.2f}x")
        speedup = times["compute_actions"] / times["OnnxPolicy"]
        greedy = times["compute_actions greedy"] / times["OnnxPolicy greedy"]
        print(f"  OnnxPolicy is {speedup:.2f}x faster than compute_actions exploring, "
              f"{greedy:.2f}x greedy")
        if batch == 1:
            verdict = "ok" if speedup >= SPEED_TARGET else "MISSED"
            print(f"  target >= {SPEED_TARGET:.1f}x: {verdict}")
            if speedup < SPEED_TARGET:
                missed.append("speed")

    onnx_start = startup_seconds(ONNX_PROCESS, tmp / "onnx", args.wall)
    torch_start = startup_seconds(TORCH_PROCESS, tmp / "ckpt", args.wall)
    bare = startup_seconds("pass", tmp, args.wall)
    print(f"\nprocess that loads and acts once ({'wall' if args.wall else 'CPU'} time, "
          f"median of 7):")
    print(f"  OnnxPolicy (no torch)       {onnx_start:6.3f} s")
    print(f"  RLModule + compute_actions  {torch_start:6.3f} s   ({torch_start / onnx_start:.1f}x)")
    print(f"  bare interpreter            {bare:6.3f} s")
    policy_load = _median_seconds(lambda: OnnxPolicy(tmp / "onnx"), clock, 20)
    manifest_check = _median_seconds(
        lambda: read_manifest(tmp / "onnx", artefact=OnnxArtefact), clock, 50)
    print(f"  in this process: OnnxPolicy(DIR) {policy_load * 1e3:.2f} ms, of which the manifest "
          f"check {manifest_check * 1e3:.2f} ms")
    verdict = "ok" if onnx_start < STARTUP_TARGET else "MISSED"
    print(f"  target OnnxPolicy process < {STARTUP_TARGET:.1f} s: {verdict}")
    if onnx_start >= STARTUP_TARGET:
        missed.append("startup")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
