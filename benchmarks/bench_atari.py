"""Env steps/s of PPO on Atari Pong: rlmodules (CNN plugin, Atari preset) against
Stable-Baselines3's ``CnnPolicy``, in one run, with the split between sampling and learning.

Both use RL Baselines3 Zoo's Atari PPO settings: 8 envs x 128 steps per iteration, 4 epochs
of 256-sample minibatches, lr 2.5e-4 and clip 0.1 decaying linearly, vf_coef 0.5,
ent_coef 0.01, the Nature CNN, and the standard preprocessing (``rlmodules.envs.AtariEnv``;
SB3's ``AtariWrapper`` + ``VecFrameStack(4)``) on ``ALE/Pong-v5`` with sticky actions. Both
step their 8 envs in the main process (EnvPool: in one worker thread of its own). Prints
env steps/s, the seconds spent sampling and learning, and the ratios (ours / SB3).

The runners take turns, one iteration each, so load on the machine slows all alike. Ours
runs once per variant, to show each lever's share: ``fp32`` (the default settings),
``bf16`` (``precision="bf16-mixed"``: learner and acting forward), ``envpool``
(``env_backend="envpool"``, EnvPool's Pong with the same preprocessing), ``compile``
(``torch_compile_learner`` and ``torch_compile_worker``), joined with ``+``.

    pip install -r benchmarks/requirements.txt -c constraints-dev.txt
    pip install -e ".[atari,envpool]" -e contrib/rlmodules-cnn -c constraints-dev.txt
    python benchmarks/bench_atari.py --iterations 8 --num-threads 1 \
        --variants fp32 bf16 envpool bf16+envpool bf16+envpool+compile
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch

ENV_ID = "ALE/Pong-v5"
NUM_ENVS = 8
N_STEPS = 128


#: Variant lever -> the settings it adds to ours.
LEVERS: dict[str, dict[str, dict[str, Any]]] = {
    "fp32": {},
    "bf16": {"learners": {"precision": "bf16-mixed"}},
    "auto": {"learners": {"precision": "auto"}},
    "envpool": {"env_runners": {"env_backend": "envpool"}},
    "compile": {"framework": {"torch_compile_learner": True, "torch_compile_worker": True}},
    "cuda": {"learners": {"num_gpus_per_learner": 1}},
}


class Ours:
    """Our PPO with a variant's settings; :meth:`iteration` times one ``train()``."""

    def __init__(self, seed: int, variant: str) -> None:
        from rlmodules.algorithms import PPOConfig
        from rlmodules.algorithms.presets import atari_preset

        config = PPOConfig().update_from_dict(atari_preset(ENV_ID))
        config.training(lr=[[0, 2.5e-4], [10_000_000, 0.0]],
                        clip_param=[[0, 0.1], [10_000_000, 0.0]])
        for lever in variant.split("+"):
            config.update_from_dict(LEVERS[lever])
        self.algo = config.debugging(seed=seed).build()
        # Warm-up: first-call costs (allocations; compiling the update's graphs, the last
        # epoch's among them, and the acting graphs; "auto" measuring) are not timed.
        for _ in range(3 if "compile" in variant or "auto" in variant else 1):
            self.algo.train()

    def iteration(self) -> tuple[float, float, float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        result = self.algo.train()
        return (time.perf_counter() - start, result["time_sample_s"], result["time_learn_s"],
                time.process_time() - cpu)

    def close(self) -> None:
        self.algo.stop()


class SB3:
    """SB3's PPO with the same settings; :meth:`iteration` times one rollout + update."""

    def __init__(self, seed: int, device: str) -> None:
        import ale_py
        import gymnasium as gym
        from stable_baselines3 import PPO
        from stable_baselines3.common.env_util import make_atari_env
        from stable_baselines3.common.vec_env import VecFrameStack

        gym.register_envs(ale_py)
        self.env = VecFrameStack(make_atari_env(ENV_ID, n_envs=NUM_ENVS, seed=seed,
                                                env_kwargs={"frameskip": 1}), n_stack=4)
        self.model = PPO("CnnPolicy", self.env, n_steps=N_STEPS, n_epochs=4, batch_size=256,
                         learning_rate=lambda progress: 2.5e-4 * progress,
                         clip_range=lambda progress: 0.1 * progress, vf_coef=0.5,
                         ent_coef=0.01, device=device, seed=seed, verbose=0)
        self.timings = {"sample": 0.0, "learn": 0.0}
        self.model.collect_rollouts = _timed(self.model.collect_rollouts, self.timings,
                                             "sample")
        self.model.train = _timed(self.model.train, self.timings, "learn")
        self.model.learn(NUM_ENVS * N_STEPS)  # warm-up, as for ours

    def iteration(self) -> tuple[float, float, float, float]:
        before = dict(self.timings)
        start, cpu = time.perf_counter(), time.process_time()
        self.model.learn(NUM_ENVS * N_STEPS, reset_num_timesteps=False)
        total = time.perf_counter() - start
        return (total, self.timings["sample"] - before["sample"],
                self.timings["learn"] - before["learn"], time.process_time() - cpu)

    def close(self) -> None:
        self.env.close()


def _timed(fn: Callable[..., Any], timings: dict[str, float], key: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[key] += time.perf_counter() - start

    return wrapper


def run_interleaved(runners: dict[str, Any], iterations: int) -> dict[str, dict[str, float]]:
    """One iteration of each runner in turn, ``iterations`` rounds: a machine whose load
    drifts slows every runner alike, so the ratios hold."""
    sums = {name: [0.0, 0.0, 0.0, 0.0] for name in runners}
    for _ in range(iterations):
        for name, runner in runners.items():
            for i, value in enumerate(runner.iteration()):
                sums[name][i] += value
    steps = iterations * NUM_ENVS * N_STEPS
    return {name: {"steps_per_s": steps / total, "sample_s": sample, "learn_s": learn,
                   "total_s": total, "steps_per_cpu_s": steps / cpu}
            for name, (total, sample, learn, cpu) in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=8,
                        help="measured iterations of 1,024 env steps each (after one warm-up)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-threads", type=int, default=2, help="torch threads for both")
    parser.add_argument("--variants", nargs="+", default=["fp32"],
                        help=f"our settings to run, levers joined with '+' ({', '.join(LEVERS)})")
    parser.add_argument("--sb3-device", default="cpu", help="SB3's device (cpu, cuda)")
    args = parser.parse_args()
    for variant in args.variants:
        unknown = set(variant.split("+")) - set(LEVERS)
        if unknown:
            parser.error(f"unknown levers {sorted(unknown)} in {variant!r}; use {list(LEVERS)}")
    torch.set_num_threads(args.num_threads)
    runners: dict[str, Any] = {"sb3": SB3(args.seed, args.sb3_device)}
    for variant in args.variants:
        runners[variant] = Ours(args.seed, variant)
    try:
        rows = run_interleaved(runners, args.iterations)
    finally:
        for runner in runners.values():
            runner.close()
    print(f"PPO on {ENV_ID}, {NUM_ENVS} envs, {args.iterations} x {NUM_ENVS * N_STEPS} env "
          f"steps, {args.num_threads} torch threads")
    # Per CPU second too: on a machine shared with other work, CPU time is what each used.
    print(f"{'':<24} {'steps/s':>8} {'sampling s':>10} {'learning s':>10} {'total s':>8} "
          f"{'vs sb3':>7} {'steps/cpu-s':>11} {'vs sb3':>7}")
    sb3 = rows["sb3"]
    for name, row in rows.items():
        print(f"{name:<24} {row['steps_per_s']:>8.1f} {row['sample_s']:>10.1f} "
              f"{row['learn_s']:>10.1f} {row['total_s']:>8.1f} "
              f"{row['steps_per_s'] / sb3['steps_per_s']:>6.2f}x "
              f"{row['steps_per_cpu_s']:>11.1f} "
              f"{row['steps_per_cpu_s'] / sb3['steps_per_cpu_s']:>6.2f}x")


if __name__ == "__main__":
    main()
