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

Times are the median over interleaved rounds (bench_action_step's ``measure``), process CPU
time unless ``--wall``. Then the start-up of a fresh process that loads the export and
acts once, without torch, against one that loads the checkpoint with torch.
Targets: ``OnnxPolicy`` at batch 1 at least 3x faster than ``compute_actions``; the
OnnxPolicy process under 0.5 s. ``--check`` exits non-zero if a target is missed.

Run: ``python benchmarks/bench_export.py [--wall] [--check]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_action_step import build_module, measure, plain_policy
from rlmodules import Columns, compute_actions
from rlmodules.export import export
from rlmodules_onnx import OnnxPolicy

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


def startup_seconds(script: str, path: Path, runs: int = 7) -> float:
    """Median wall time of a fresh interpreter running ``script`` on ``path``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(path)], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wall", action="store_true", help="time wall-clock, not CPU")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.process_time

    torch.set_num_threads(1)
    torch.manual_seed(0)
    module = build_module().eval()
    policy_layers = plain_policy(module)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    module.save_to_path(tmp / "ckpt")
    export(tmp / "ckpt", tmp / "onnx", format="onnx")
    policy = OnnxPolicy(tmp / "onnx", seed=0, num_threads=1)

    def hand_written(obs: np.ndarray) -> object:
        with torch.no_grad():
            log_probs = policy_layers(torch.as_tensor(obs)).log_softmax(-1)
            actions = torch.multinomial(log_probs.exp(), 1)
            return actions.squeeze(-1), log_probs.gather(-1, actions).squeeze(-1)

    fns = {
        "OnnxPolicy": lambda obs: policy.compute_actions(obs, explore=True),
        "OnnxPolicy greedy": lambda obs: policy.compute_actions(obs, explore=False),
        "compute_actions": lambda obs: compute_actions(module, {Columns.OBS: obs},
                                                       explore=True, for_env=True),
        "compute_actions greedy": lambda obs: compute_actions(module, {Columns.OBS: obs},
                                                              explore=False, for_env=True),
        "hand-written": hand_written,
    }
    print(f"CartPole-v1 default PPO module [256, 256], 1 thread (torch, onnxruntime), "
          f"{'wall' if args.wall else 'CPU'} time, median of interleaved rounds; "
          f"ratio = time / hand-written")
    missed = []
    for batch, (calls, rounds) in SETTINGS.items():
        obs = np.random.default_rng(0).normal(size=(batch, 4)).astype(np.float32)
        times = measure(fns, obs, calls, rounds, clock)
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

    onnx_start = startup_seconds(ONNX_PROCESS, tmp / "onnx")
    torch_start = startup_seconds(TORCH_PROCESS, tmp / "ckpt")
    bare = startup_seconds("pass", tmp)
    print("\nprocess that loads and acts once (wall, median of 7):")
    print(f"  OnnxPolicy (no torch)       {onnx_start:6.3f} s")
    print(f"  RLModule + compute_actions  {torch_start:6.3f} s   ({torch_start / onnx_start:.1f}x)")
    print(f"  bare interpreter            {bare:6.3f} s")
    verdict = "ok" if onnx_start < STARTUP_TARGET else "MISSED"
    print(f"  target OnnxPolicy process < {STARTUP_TARGET:.1f} s: {verdict}")
    if onnx_start >= STARTUP_TARGET:
        missed.append("startup")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
