"""Env steps/s of SAC while learning (one gradient step per env step), rlmodules against
Stable-Baselines3 on the same device, in one run: the number LeanRL reports for
HalfCheetah (CleanRL 127 fps, LeanRL with torch.compile and CUDA graphs 725 fps, one H100).

Both: 1 env, batch 256, lr 3e-4 for actor, critics and temperature, gamma 0.99, tau 0.005,
256x256 ReLU actor and twin critics, automatic temperature. Uniformly random actions fill
``--learning-starts`` steps first; then ``--warmup`` learning steps (allocations and
compiling) are not timed, and ``--steps`` are.

    python benchmarks/bench_sac_throughput.py --device cuda --compile --steps 3000
    python benchmarks/bench_sac_throughput.py --device cpu --num-threads 1 --steps 1000
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch


def run_ours(args: argparse.Namespace) -> float:
    from rlmodules.algorithms import SACConfig

    config = (
        SACConfig().environment(args.env)
        .env_runners(num_envs_per_env_runner=1, rollout_fragment_length=1)
        .training(actor_lr=3e-4, critic_lr=3e-4, alpha_lr=3e-4, train_batch_size=256,
                  gamma=0.99, tau=0.005, training_intensity=256,
                  num_steps_sampled_before_learning_starts=args.learning_starts,
                  replay_buffer_config={"type": "uniform", "capacity": 1_000_000},
                  min_sample_timesteps_per_iteration=100)
        .rl_module(model_config={"fcnet_hiddens": [256, 256], "fcnet_activation": "relu"})
        .learners(num_gpus_per_learner=1 if args.device == "cuda" else 0,
                  precision=args.precision)
        .framework(torch_compile_learner=args.compile, torch_compile_worker=args.compile)
        .debugging(seed=0)
    )
    algo = config.build()
    while algo.timesteps < args.learning_starts + args.warmup:
        algo.train()
    start, steps = time.perf_counter(), algo.timesteps
    while algo.timesteps < steps + args.steps:
        algo.train()
    rate = (algo.timesteps - steps) / (time.perf_counter() - start)
    algo.stop()
    return rate


def run_sb3(args: argparse.Namespace) -> float:
    from stable_baselines3 import SAC

    model: Any = SAC("MlpPolicy", args.env, learning_rate=3e-4, batch_size=256,
                     buffer_size=1_000_000, learning_starts=args.learning_starts, gamma=0.99,
                     tau=0.005, policy_kwargs={"net_arch": [256, 256]}, device=args.device,
                     seed=0)
    model.learn(args.learning_starts + args.warmup)
    start = time.perf_counter()
    model.learn(args.steps, reset_num_timesteps=False)
    return args.steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--compile", action="store_true", help="ours: compile learner and acting")
    parser.add_argument("--steps", type=int, default=2000, help="timed env steps")
    parser.add_argument("--warmup", type=int, default=500, help="untimed learning steps")
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--num-threads", type=int, default=1)
    parser.add_argument("--skip-sb3", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.num_threads)
    ours = run_ours(args)
    print(f"SAC on {args.env} ({args.device}): rlmodules {ours:.0f} env steps/s "
          f"(precision {args.precision}, compile {args.compile})", flush=True)
    if not args.skip_sb3:
        sb3 = run_sb3(args)
        print(f"SAC on {args.env} ({args.device}): sb3 {sb3:.0f} env steps/s; "
              f"ours / sb3 {ours / sb3:.2f}x")


if __name__ == "__main__":
    main()
