"""Sampling throughput and time per iteration with 0, 1 and 2 env runners, ours vs RLlib's.

Both run PPO with the same env, network (64x64 tanh, separate value network), batch and
epochs, in the same process and the same local Ray instance. Two envs: CartPole-v1, and
CartPole with a 1 ms ``time.sleep`` per step (what a simulator looks like), where more
runners should sample faster. Prints env steps/s of sampling and seconds per iteration,
and the ratio ours / RLlib (>1: ours samples faster).

Ray binds only the loopback interface inside a private network namespace; run it so::

    .venv/bin/pip install -c constraints-dev.txt -r benchmarks/requirements.txt
    bash scripts/private_network.sh .venv/bin/python benchmarks/bench_distributed.py
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import statistics
import tempfile
import time
import warnings

import gymnasium as gym

BATCH = 1024
ENVS_PER_RUNNER = 4
EPOCHS = 4
MINIBATCH = 256


class SlowCartPole(gym.Wrapper):
    """CartPole-v1 taking 1 ms longer per step."""

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(gym.make("CartPole-v1"))

    def step(self, action):
        time.sleep(0.001)
        return self.env.step(action)


def slow_cartpole(config: dict) -> gym.Env:
    return SlowCartPole()


def ours(env: str, runners: int, iterations: int) -> tuple[float, float]:
    """(sampling env steps/s, seconds per iteration), medians over ``iterations``."""
    from rlmodules.algorithms import PPOConfig

    algo = (
        PPOConfig()
        .environment("CartPole-v1" if env == "fast" else SlowCartPole)
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=ENVS_PER_RUNNER,
                     num_threads=1)
        .training(train_batch_size=BATCH, minibatch_size=MINIBATCH, num_epochs=EPOCHS)
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
        .debugging(seed=0)
        .build()
    )
    try:
        algo.train()  # warm-up
        rates, times = [], []
        for _ in range(iterations):
            start = time.perf_counter()
            result = algo.train()
            times.append(time.perf_counter() - start)
            rates.append(BATCH / result["time_sample_s"])
    finally:
        algo.stop()
    return statistics.median(rates), statistics.median(times)


def rllib(env: str, runners: int, iterations: int) -> tuple[float, float]:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.tune.registry import register_env

    register_env("slow_cartpole", slow_cartpole)
    algo = (
        PPOConfig()
        .environment("CartPole-v1" if env == "fast" else "slow_cartpole")
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=ENVS_PER_RUNNER)
        .training(train_batch_size_per_learner=BATCH, minibatch_size=MINIBATCH,
                  num_epochs=EPOCHS)
        .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=[64, 64],
                                                   vf_share_layers=False))
        .debugging(seed=0)
        .build_algo()
    )
    try:
        algo.train()
        rates, times = [], []
        for _ in range(iterations):
            start = time.perf_counter()
            result = algo.train()
            times.append(time.perf_counter() - start)
            steps = result["env_runners"]["num_env_steps_sampled"]
            rates.append(steps / result["timers"]["env_runner_sampling_timer"])
    finally:
        algo.stop()
    return statistics.median(rates), statistics.median(times)


def start_ray(cpus: int) -> None:
    """A local Ray: no dashboard or usage stats, temp and token files in a temp dir."""
    root = tempfile.mkdtemp(prefix="bench-ray-")
    token = os.path.join(root, "auth_token")
    with open(token, "w") as f:
        f.write(secrets.token_hex(32))
    os.environ.update({"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                       "RAY_AUTH_TOKEN_PATH": token})
    import ray

    ray.init(num_cpus=cpus, include_dashboard=False, _temp_dir=os.path.join(root, "t"),
             log_to_driver=False, logging_level=logging.ERROR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per run")
    parser.add_argument("--env", choices=("fast", "slow", "both"), default="both")
    parser.add_argument("--runners", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--skip-rllib", action="store_true")
    parser.add_argument("--allow-network", action="store_true",
                        help="run even where network interfaces besides loopback are up")
    args = parser.parse_args()
    interfaces = [name for _, name in socket.if_nameindex()]
    if interfaces != ["lo"] and not args.allow_network:
        parser.error(f"network interfaces {interfaces} are present: run this through "
                     f"scripts/private_network.sh so Ray binds only 127.0.0.1 (or pass "
                     f"--allow-network)")
    warnings.filterwarnings("ignore")
    start_ray(cpus=max(args.runners) + 1)
    envs = ("fast", "slow") if args.env == "both" else (args.env,)
    print(f"PPO, batch {BATCH}, {ENVS_PER_RUNNER} envs per runner, {EPOCHS} epochs of "
          f"minibatch {MINIBATCH}; medians of {args.iterations} iterations")
    print(f"{'env':>5} {'runners':>7} | {'ours steps/s':>12} {'s/iter':>7} | "
          f"{'RLlib steps/s':>13} {'s/iter':>7} | {'sampling ratio':>14}")
    for env in envs:
        for runners in args.runners:
            rate, per_iter = ours(env, runners, args.iterations)
            line = f"{env:>5} {runners:>7} | {rate:>12,.0f} {per_iter:>7.3f} |"
            if not args.skip_rllib:
                rl_rate, rl_iter = rllib(env, runners, args.iterations)
                line += f" {rl_rate:>13,.0f} {rl_iter:>7.3f} | {rate / rl_rate:>13.2f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
