"""Time-to-threshold of rlmodules' DQN (CartPole-v1) and SAC (Pendulum-v1) against
Stable-Baselines3's, in one run, both with the bundled presets (``dqn/CartPole-v1`` and
``sac/Pendulum-v1`` in ``rlmodules.examples/presets``: rl-zoo's hyper-parameters, tuned
where the preset says so) given to SB3 through the translation ``rlmodules benchmark
--compare sb3`` uses.

The threshold is the preset's (475 for CartPole-v1, gymnasium's "solved" line that rl-zoo's
run reaches; -200 for Pendulum-v1) on the mean return of the last 100 training episodes
(SB3's ``ep_info_buffer``). Prints the wall clock and env steps to the threshold, env
steps/s, the ratios, and where our time goes (sampling, replay, learner).

    pip install -r benchmarks/requirements.txt -c constraints-dev.txt
    python benchmarks/bench_offpolicy_vs_sb3.py --seeds 0 1 2 --num-threads 1
"""

from __future__ import annotations

import argparse
import functools
import time
from typing import Any

import numpy as np
import torch

PRESETS = {"dqn": "dqn/CartPole-v1", "sac": "sac/Pendulum-v1"}
#: Settings ours gets on top of its preset (the speed levers: --precision, --compile).
LEVERS: dict[str, dict[str, Any]] = {}


def ours(algo: str, seed: int) -> Any:
    from rlmodules.algorithms import DQNConfig, SACConfig
    from rlmodules.algorithms.presets import load_preset

    preset = load_preset(PRESETS[algo])
    config = (DQNConfig if algo == "dqn" else SACConfig)().environment(preset.env)
    # Short iterations: the threshold is checked after each.
    config.update_from_dict(preset.settings(preset.timesteps)).training(
        min_sample_timesteps_per_iteration=256 if algo == "dqn" else 200)
    return config.debugging(seed=seed).update_from_dict(LEVERS).build()


def run_ours(make: Any, seed: int, *, threshold: float, max_steps: int) -> dict[str, Any]:
    algo = make(seed)
    times = {"sample": 0.0, "replay": 0.0, "learn": 0.0}
    start, cpu = time.perf_counter(), time.process_time()
    solved = False
    while algo.timesteps < max_steps and not solved:
        result = algo.train()
        for key in times:
            times[key] += result[f"time_{key}_s"]
        solved = result["episode_return_mean"] >= threshold
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    algo.stop()
    return {"time": elapsed, "cpu": cpu, "steps": algo.timesteps, "solved": solved,
            "split": times}


def run_sb3(algo: str, seed: int, *, threshold: float, max_steps: int) -> dict[str, Any]:
    from rlmodules.algorithms.presets import load_preset
    from rlmodules.cli.benchmark_sb3 import build_sb3, sb3_arguments
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtThreshold(BaseCallback):
        solved = False

        def _on_step(self) -> bool:
            buffer = self.model.ep_info_buffer
            if len(buffer) and np.mean([ep["r"] for ep in buffer]) >= threshold:
                self.solved = True
                return False
            return True

    preset = load_preset(PRESETS[algo])
    # The preset's budget: SB3's epsilon schedule is a fraction of the run it is given.
    total = preset.timesteps
    arguments = sb3_arguments(preset.algo, preset.settings(total), total)
    model, _ = build_sb3(arguments, preset.env, seed)
    callback = StopAtThreshold()
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total, callback=callback)
    if not callback.solved and max_steps > total:
        model.learn(max_steps - total, callback=callback, reset_num_timesteps=False)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"time": elapsed, "cpu": cpu, "steps": model.num_timesteps, "solved": callback.solved}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--num-threads", type=int, default=1)
    parser.add_argument("--algos", nargs="+", default=["dqn", "sac"], choices=["dqn", "sac"])
    parser.add_argument("--max-steps-factor", type=float, default=2.0,
                        help="give up after this many times the preset's budget (default 2)")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--precision", default="32-true",
                        help="ours: learners(precision=...) (bf16-mixed, auto, ...)")
    parser.add_argument("--compile", choices=["none", "learner", "worker", "both"],
                        default="none", help="ours: torch_compile_learner / _worker")
    args = parser.parse_args()
    torch.set_num_threads(args.num_threads)
    LEVERS.update({"learners": {"precision": args.precision}, "framework": {
        "torch_compile_learner": args.compile in ("learner", "both"),
        "torch_compile_worker": args.compile in ("worker", "both")}})
    print(f"torch {torch.__version__}, {args.num_threads} thread(s), ours with {LEVERS}")
    print(f"{'algo':<4} {'seed':>4} {'library':<10} {'solved':>6} {'time s':>8} "
          f"{'env steps':>10} {'steps/s':>8}  where our time goes")
    from rlmodules.algorithms.presets import load_preset

    for algo in args.algos:
        preset = load_preset(PRESETS[algo])
        threshold = preset.threshold
        budget = int(preset.timesteps * args.max_steps_factor)
        make = functools.partial(ours, algo)
        runs = {"rlmodules": functools.partial(run_ours, make, threshold=threshold,
                                               max_steps=budget)}
        if not args.skip_sb3:
            runs["sb3"] = functools.partial(run_sb3, algo, threshold=threshold,
                                            max_steps=budget)
        totals = {name: [0.0, 0, 0.0] for name in runs}
        for seed in args.seeds:
            for name, run in runs.items():
                r = run(seed)
                totals[name][0] += r["time"]
                totals[name][1] += r["steps"]
                totals[name][2] += r["cpu"]
                split = ""
                if "split" in r:
                    split = "  " + ", ".join(f"{k} {v / r['time']:.0%}"
                                             for k, v in r["split"].items())
                print(f"{algo:<4} {seed:>4} {name:<10} {str(r['solved']):>6} {r['time']:>8.1f} "
                      f"{r['steps']:>10,} {r['steps'] / r['time']:>8,.0f}{split} "
                      f"(cpu {r['cpu']:.1f} s)", flush=True)
        if not args.skip_sb3:
            (ours_t, ours_s, ours_c), (sb3_t, sb3_s, sb3_c) = totals["rlmodules"], totals["sb3"]
            print(f"{algo}: rlmodules / sb3 time to threshold {ours_t / sb3_t:.2f}, time per "
                  f"env step {(ours_t / ours_s) / (sb3_t / sb3_s):.2f}, env steps "
                  f"{ours_s / sb3_s:.2f}, CPU time to threshold {ours_c / sb3_c:.2f} (target: "
                  f"time to threshold <= 0.5)")


if __name__ == "__main__":
    main()
