"""What a benchmark suite costs on this machine, before running it: each task trains for a
short while with its preset, exactly as ``rlmodules benchmark`` runs it (one thread), and
its env steps/s once learning has started (replay warm-up excluded) times its budget gives
the estimated training time of one run. Evaluations are not counted, as in the report.

    python benchmarks/bench_suite_cost.py reference --seconds 60 --tasks ppo/Acrobot-v1

Prints one line per task and the total for ``--seeds`` seeds; with other work on the
machine, the estimates are as slow as the machine is at that moment.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

CONFIGS = ("ppo", "dqn", "sac")


def steps_per_second(task: Any, seconds: float) -> float:
    """Env steps/s of ``task``'s training after its replay warm-up, over ``seconds``."""
    from rlmodules.algorithms import DQNConfig, PPOConfig, SACConfig

    config_class = dict(zip(CONFIGS, (PPOConfig, DQNConfig, SACConfig)))[task.algo]
    config = config_class().environment(task.env).update_from_dict(task.settings)
    algo = config.env_runners(num_threads=1).debugging(seed=0).build()
    warm_up = task.settings.get("training", {}).get("num_steps_sampled_before_learning_starts",
                                                     0)
    try:
        while algo.timesteps <= warm_up:
            algo.train()
        start_steps, start = algo.timesteps, time.perf_counter()
        while time.perf_counter() - start < seconds and algo.timesteps < task.timesteps:
            algo.train()
        return (algo.timesteps - start_steps) / (time.perf_counter() - start)
    finally:
        algo.stop()


def main() -> None:
    from rlmodules.cli.benchmark_suite import read_suite

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", help="suite file or bundled suite name (reference)")
    parser.add_argument("--seconds", type=float, default=60.0, help="training time per task")
    parser.add_argument("--seeds", type=int, default=3, help="runs per task in the total")
    parser.add_argument("--tasks", nargs="+", help="only these tasks")
    args = parser.parse_args()
    torch.set_num_threads(1)
    suite = read_suite(args.suite)
    total = 0.0
    for task in suite.tasks:
        if args.tasks and task.name not in args.tasks:
            continue
        rate = steps_per_second(task, args.seconds)
        estimate = task.timesteps / rate
        total += estimate * args.seeds
        print(f"{task.name}: {rate:,.0f} env steps/s x {task.timesteps:,} steps = "
              f"{estimate / 60:.0f} min per run", flush=True)
    print(f"total for {args.seeds} seeds, one run at a time: {total / 3600:.1f} h")


if __name__ == "__main__":
    main()
