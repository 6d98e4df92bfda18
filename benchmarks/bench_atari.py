"""Env steps/s of PPO on Atari Pong: rlmodules (CNN plugin, Atari preset) against
Stable-Baselines3's ``CnnPolicy``, in one run, with the split between sampling and learning.

Both use RL Baselines3 Zoo's Atari PPO settings: 8 envs x 128 steps per iteration, 4 epochs
of 256-sample minibatches, lr 2.5e-4 and clip 0.1 decaying linearly, vf_coef 0.5,
ent_coef 0.01, the Nature CNN, and the standard preprocessing (``rlmodules.envs.AtariEnv``;
SB3's ``AtariWrapper`` + ``VecFrameStack(4)``) on ``ALE/Pong-v5`` with sticky actions. Both
step their 8 envs in the main process (EnvPool: in one worker thread of its own). Prints
env steps/s, the seconds spent sampling and learning, and the ratios (ours / SB3).

Ours runs once per variant, to show each lever's share: ``fp32`` (the default settings),
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


def run_ours(iterations: int, seed: int, variant: str = "fp32") -> dict[str, float]:
    from rlmodules.algorithms import PPOConfig
    from rlmodules.algorithms.presets import atari_preset

    config = PPOConfig().update_from_dict(atari_preset(ENV_ID))
    config.training(lr=[[0, 2.5e-4], [10_000_000, 0.0]], clip_param=[[0, 0.1], [10_000_000, 0.0]])
    for lever in variant.split("+"):
        config.update_from_dict(LEVERS[lever])
    algo = config.debugging(seed=seed).build()
    algo.train()  # warm-up: first-call costs (allocations, compiling) are not measured
    if "compile" in variant:
        algo.train()  # the last epoch's graph and the acting graphs of a second iteration
    sample = learn = 0.0
    start = time.perf_counter()
    for _ in range(iterations):
        result = algo.train()
        sample += result["time_sample_s"]
        learn += result["time_learn_s"]
    total = time.perf_counter() - start
    algo.stop()
    return _row(iterations, total, sample, learn)


def run_sb3(iterations: int, seed: int, device: str = "cpu") -> dict[str, float]:
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env(ENV_ID, n_envs=NUM_ENVS, seed=seed,
                                       env_kwargs={"frameskip": 1}), n_stack=4)
    model = PPO("CnnPolicy", env, n_steps=N_STEPS, n_epochs=4, batch_size=256,
                learning_rate=lambda progress: 2.5e-4 * progress,
                clip_range=lambda progress: 0.1 * progress, vf_coef=0.5, ent_coef=0.01,
                device=device, seed=seed, verbose=0)
    model.learn(NUM_ENVS * N_STEPS)  # warm-up, as for ours
    timings = {"sample": 0.0, "learn": 0.0}
    model.collect_rollouts = _timed(model.collect_rollouts, timings, "sample")
    model.train = _timed(model.train, timings, "learn")
    start = time.perf_counter()
    model.learn(iterations * NUM_ENVS * N_STEPS, reset_num_timesteps=False)
    total = time.perf_counter() - start
    env.close()
    return _row(iterations, total, timings["sample"], timings["learn"])


def _timed(fn: Callable[..., Any], timings: dict[str, float], key: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[key] += time.perf_counter() - start

    return wrapper


def _row(iterations: int, total: float, sample: float, learn: float) -> dict[str, float]:
    steps = iterations * NUM_ENVS * N_STEPS
    return {"steps_per_s": steps / total, "sample_s": sample, "learn_s": learn,
            "total_s": total}


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
    rows = {"sb3": run_sb3(args.iterations, args.seed, args.sb3_device)}
    for variant in args.variants:
        rows[variant] = run_ours(args.iterations, args.seed, variant)
        print(f"{variant}: {rows[variant]['steps_per_s']:.1f} steps/s", flush=True)
    print(f"PPO on {ENV_ID}, {NUM_ENVS} envs, {args.iterations} x {NUM_ENVS * N_STEPS} env "
          f"steps, {args.num_threads} torch threads")
    print(f"{'':<22} {'steps/s':>9} {'sampling s':>11} {'learning s':>11} {'total s':>9} "
          f"{'vs sb3':>7}")
    sb3 = rows["sb3"]
    for name, row in rows.items():
        print(f"{name:<22} {row['steps_per_s']:>9.1f} {row['sample_s']:>11.1f} "
              f"{row['learn_s']:>11.1f} {row['total_s']:>9.1f} "
              f"{row['steps_per_s'] / sb3['steps_per_s']:>6.2f}x")


if __name__ == "__main__":
    main()
