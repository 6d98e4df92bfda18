"""Time-to-threshold of rlmodules' DQN (CartPole-v1) and SAC (Pendulum-v1) against
Stable-Baselines3's, in one run, with RL Baselines3 Zoo's hyper-parameters for both.

DQN (zoo): 1 env, lr 2.3e-3, batch 64, buffer 100k, learning starts 1000, gamma 0.99,
target update every 10 steps (hard), train every 256 steps with 128 gradient steps,
epsilon 1 -> 0.04 over 8000 steps, 256x256 ReLU Q-network, gradient norm clip 10; plain
Q-learning (SB3's DQN has neither double Q nor dueling, so ours turns them off).
SAC (zoo): 1 env, lr 1e-3 for actor, critics and temperature, batch 256, buffer 1M,
learning starts 100, gamma 0.99, tau 0.005, one gradient step per env step, 256x256 ReLU
actor and twin critics, automatic temperature.

The threshold is the mean return of the last 100 training episodes (SB3's
``ep_info_buffer``). Prints the wall clock and env steps to the threshold, env steps/s,
the ratios, and where our time goes (sampling, replay, learner).

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

DQN_STEPS = 50_000
SAC_STEPS = 20_000
#: Settings ours gets on top of its config (the speed levers: --precision, --compile).
LEVERS: dict[str, dict[str, Any]] = {}


def ours_dqn(seed: int) -> Any:
    from rlmodules.algorithms import DQNConfig

    return (
        DQNConfig()
        .environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=1, rollout_fragment_length=256)
        .training(lr=2.3e-3, train_batch_size=64, gamma=0.99, grad_clip=10.0,
                  replay_buffer_config={"type": "uniform", "capacity": 100_000},
                  num_steps_sampled_before_learning_starts=1000,
                  target_network_update_freq=10, tau=1.0, training_intensity=32,
                  epsilon=[(0, 1.0), (8000, 0.04)], double_q=False, dueling=False,
                  min_sample_timesteps_per_iteration=256)
        .rl_module(model_config={"fcnet_hiddens": [256, 256], "fcnet_activation": "relu"})
        .debugging(seed=seed)
        .update_from_dict(LEVERS)
        .build()
    )


def ours_sac(seed: int) -> Any:
    from rlmodules.algorithms import SACConfig

    return (
        SACConfig()
        .environment("Pendulum-v1")
        .env_runners(num_envs_per_env_runner=1, rollout_fragment_length=1)
        .training(actor_lr=1e-3, critic_lr=1e-3, alpha_lr=1e-3, train_batch_size=256,
                  gamma=0.99, tau=0.005, training_intensity=256,
                  replay_buffer_config={"type": "uniform", "capacity": 1_000_000},
                  num_steps_sampled_before_learning_starts=100,
                  min_sample_timesteps_per_iteration=200)
        .rl_module(model_config={"fcnet_hiddens": [256, 256], "fcnet_activation": "relu"})
        .debugging(seed=seed)
        .update_from_dict(LEVERS)
        .build()
    )


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
    from stable_baselines3 import DQN, SAC
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtThreshold(BaseCallback):
        solved = False

        def _on_step(self) -> bool:
            buffer = self.model.ep_info_buffer
            if len(buffer) and np.mean([ep["r"] for ep in buffer]) >= threshold:
                self.solved = True
                return False
            return True

    if algo == "dqn":
        model = DQN("MlpPolicy", "CartPole-v1", learning_rate=2.3e-3, batch_size=64,
                    buffer_size=100_000, learning_starts=1000, gamma=0.99,
                    target_update_interval=10, train_freq=256, gradient_steps=128,
                    exploration_fraction=0.16, exploration_final_eps=0.04,
                    policy_kwargs={"net_arch": [256, 256]}, seed=seed, device="cpu")
        total = DQN_STEPS  # its epsilon schedule is a fraction of the total
    else:
        model = SAC("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, seed=seed, device="cpu")
        total = SAC_STEPS
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
    parser.add_argument("--dqn-threshold", type=float, default=150.0,
                        help="CartPole-v1 100-episode training mean return to reach (default "
                             "150: both reach it within zoo's 50k steps; 475 often needs more)")
    parser.add_argument("--sac-threshold", type=float, default=-200.0)
    parser.add_argument("--max-steps-factor", type=float, default=2.0,
                        help="give up after this many times zoo's step budget (default 2)")
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
    for algo in args.algos:
        threshold = args.dqn_threshold if algo == "dqn" else args.sac_threshold
        budget = int((DQN_STEPS if algo == "dqn" else SAC_STEPS) * args.max_steps_factor)
        make = ours_dqn if algo == "dqn" else ours_sac
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
