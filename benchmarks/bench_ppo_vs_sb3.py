"""Time-to-solve CartPole-v1: rlmodules' PPO against Stable-Baselines3's PPO, in one run.

All use RL Baselines3 Zoo's CartPole-v1 settings (8 envs, n_steps 32, batch 256,
20 epochs, gamma 0.98, gae_lambda 0.8, lr 1e-3 -> 0 and clip 0.2 -> 0 linearly over
100k steps, no entropy bonus, 64x64 tanh actor and critic without shared layers).
"Solved" is a mean return >= 475 over the last 100 training episodes. Prints the wall
clock and env steps to solve and env steps/s for each, and the ratios. Ours steps
gymnasium's own vectorised CartPole by default (as ``rlmodules train`` does; SB3 has no
use for it); ``--vectorize-mode sync`` steps 8 separate envs as SB3 does.

A third contender, "plain", is the same PPO hand-written in plain PyTorch, stepping its envs
as ours does: no framework, the math inlined. It is the floor a framework can approach;
``--plain-flat-buffers`` gives it the flat parameter buffers our learner uses.

    pip install -r benchmarks/requirements.txt -c constraints-dev.txt
    python benchmarks/bench_ppo_vs_sb3.py --seeds 0 1 2 --num-threads 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

TARGET = 475.0
TIMESTEPS = 100_000
MAX_STEPS = 200_000


def run_ours(seed: int, vectorize_mode: str) -> tuple[float, int, bool]:
    from rlmodules.algorithms import PPOConfig

    algo = (
        PPOConfig()
        .environment("CartPole-v1")
        .env_runners(num_envs_per_env_runner=8, gym_env_vectorize_mode=vectorize_mode)
        .training(lr=[[0, 1e-3], [TIMESTEPS, 0.0]], clip_param=[[0, 0.2], [TIMESTEPS, 0.0]],
                  train_batch_size=256, minibatch_size=256, num_epochs=20, gamma=0.98,
                  lambda_=0.8, entropy_coeff=0.0, vf_loss_coeff=0.5, grad_clip=0.5)
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
        .debugging(seed=seed)
        .build()
    )
    start = time.perf_counter()
    solved = False
    while algo.timesteps < MAX_STEPS and not solved:
        solved = algo.train()["episode_return_mean"] >= TARGET
    elapsed = time.perf_counter() - start
    algo.stop()
    return elapsed, algo.timesteps, solved


def run_plain(seed: int, vectorize_mode: str, flat_buffers: bool) -> tuple[float, int, bool]:
    """The same PPO in plain PyTorch: one function, no checks, no metrics."""
    import math

    import gymnasium as gym
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)

    def mlp(out: int, gain: float) -> nn.Sequential:
        net = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                            nn.Linear(64, out))
        for layer, g in ((net[0], math.sqrt(2)), (net[2], math.sqrt(2)), (net[4], gain)):
            nn.init.orthogonal_(layer.weight, g)
            nn.init.zeros_(layer.bias)
        return net

    pi, vf = mlp(2, 0.01), mlp(1, 1.0)
    params = [*pi.parameters(), *vf.parameters()]
    if flat_buffers:
        from rlmodules.algorithms.flat_params import FlatParameters

        flat = FlatParameters(params)
        optimizer = torch.optim.Adam(flat.buffers, lr=1e-3, eps=1e-5, fused=True)
        zero_grad, clip = flat.zero_grad, lambda: flat.clip_grad_norm_(0.5)
    else:
        optimizer = torch.optim.Adam(params, lr=1e-3, eps=1e-5, fused=True)
        zero_grad, clip = optimizer.zero_grad, lambda: nn.utils.clip_grad_norm_(params, 0.5)
    num_envs, horizon, gamma, lambda_ = 8, 32, 0.98, 0.8
    env = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode=vectorize_mode)
    obs, _ = env.reset(seed=seed)
    returns, finished = np.zeros(num_envs), []
    reset_step = np.zeros(num_envs, dtype=bool)  # next-step autoreset: this step is ignored
    steps, solved = 0, False
    start = time.perf_counter()
    while steps < MAX_STEPS and not solved:
        rows_obs = np.zeros((horizon + 1, num_envs, 4), np.float32)
        actions = np.zeros((horizon, num_envs), np.int64)
        old_logp = np.zeros((horizon, num_envs), np.float32)
        rewards = np.zeros((horizon, num_envs), np.float32)
        terminated = np.zeros((horizon, num_envs), bool)
        done = np.zeros((horizon, num_envs), bool)
        valid = np.zeros((horizon, num_envs), bool)
        for t in range(horizon):
            rows_obs[t] = obs
            with torch.no_grad():
                log_probs = pi(torch.from_numpy(obs)).log_softmax(-1)
                action = (log_probs - torch.rand_like(log_probs).log_().neg_().log_()).argmax(-1)
                old_logp[t] = log_probs.gather(-1, action[:, None]).squeeze(-1).numpy()
            actions[t] = action.numpy()
            obs, rewards[t], term, trunc, _ = env.step(actions[t])
            valid[t] = ~reset_step
            terminated[t], done[t] = term & valid[t], (term | trunc) & valid[t]
            returns += np.where(valid[t], rewards[t], 0.0)
            for i in np.flatnonzero(done[t]):
                finished.append(returns[i])
                returns[i] = 0.0
            reset_step = done[t]
        rows_obs[horizon] = obs
        steps += horizon * num_envs
        with torch.no_grad():
            values = vf(torch.from_numpy(rows_obs)).squeeze(-1).numpy()
        advantages = np.zeros((horizon, num_envs), np.float32)
        running = np.zeros(num_envs, np.float32)
        for t in reversed(range(horizon)):
            delta = rewards[t] + gamma * values[t + 1] * ~terminated[t] - values[t]
            running = np.where(valid[t], delta + gamma * lambda_ * ~done[t] * running, 0.0)
            advantages[t] = running
        keep = valid.reshape(-1)
        o = torch.from_numpy(rows_obs[:-1].reshape(-1, 4)[keep])
        a = torch.from_numpy(actions.reshape(-1)[keep])
        logp_old = torch.from_numpy(old_logp.reshape(-1)[keep])
        adv = torch.from_numpy(advantages.reshape(-1)[keep])
        targets = adv + torch.from_numpy(values[:-1].reshape(-1)[keep])
        remaining = max(0.0, 1.0 - steps / TIMESTEPS)
        optimizer.param_groups[0]["lr"] = 1e-3 * remaining
        clip_param = 0.2 * remaining
        for _ in range(20):  # 20 epochs of one 256-row minibatch
            logp = pi(o).log_softmax(-1).gather(-1, a[:, None]).squeeze(-1)
            std, mean = torch.std_mean(adv, correction=0)
            normalized = (adv - mean) / (std + 1e-8)
            ratio = torch.exp(logp - logp_old)
            surrogate = torch.min(ratio * normalized,
                                  ratio.clamp(1 - clip_param, 1 + clip_param) * normalized)
            loss = -surrogate.mean() + 0.5 * F.mse_loss(vf(o).squeeze(-1), targets)
            zero_grad()
            loss.backward()
            clip()
            optimizer.step()
        solved = len(finished) >= 1 and np.mean(finished[-100:]) >= TARGET
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed, steps, solved


def run_sb3(seed: int) -> tuple[float, int, bool]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    class StopAtTarget(BaseCallback):
        solved = False

        def _on_step(self) -> bool:
            buffer = self.model.ep_info_buffer
            if len(buffer) and np.mean([ep["r"] for ep in buffer]) >= TARGET:
                self.solved = True
                return False
            return True

    def linear(start: float):  # progress_remaining goes 1 -> 0 over TIMESTEPS
        return lambda progress_remaining: progress_remaining * start

    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98,
                gae_lambda=0.8, learning_rate=linear(1e-3), clip_range=linear(0.2),
                ent_coef=0.0, seed=seed, device="cpu", verbose=0)
    callback = StopAtTarget()
    start = time.perf_counter()
    # SB3 schedules over the total it is asked for: ask for 100k (as RL Zoo does), and
    # continue with the schedules at their end value if it is not solved by then.
    model.learn(TIMESTEPS, callback=callback)
    if not callback.solved:
        model.learn(MAX_STEPS - TIMESTEPS, callback=callback, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed, model.num_timesteps, callback.solved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--num-threads", type=int, default=1,
                        help="torch intra-op threads for both (default 1)")
    parser.add_argument("--vectorize-mode", default="vector_entry_point",
                        choices=["vector_entry_point", "sync"],
                        help="how ours and plain step their 8 envs: gymnasium's own "
                             "vectorised CartPole (the default, as `rlmodules train` does) "
                             "or 8 separate envs as SB3 does")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--plain-flat-buffers", action="store_true",
                        help="give the plain-PyTorch PPO our learner's flat parameter buffers")
    args = parser.parse_args()
    torch.set_num_threads(args.num_threads)
    print(f"torch {torch.__version__}, {args.num_threads} thread(s); ours and plain step envs with "
          f"{args.vectorize_mode!r}; target: 100-episode mean return >= {TARGET:.0f}")
    header = f"{'seed':>4} {'library':<10} {'solved':>6} {'time s':>8} {'env steps':>10} " \
             f"{'steps/s':>8}"
    print(header)
    runs = [("rlmodules", lambda s: run_ours(s, args.vectorize_mode)),
            ("plain", lambda s: run_plain(s, args.vectorize_mode, args.plain_flat_buffers))]
    runs += [] if args.skip_sb3 else [("sb3", run_sb3)]
    totals: dict[str, list[float]] = {name: [] for name, _ in runs}
    steps_done: dict[str, list[int]] = {name: [] for name, _ in runs}
    for seed in args.seeds:
        for name, run in runs:
            elapsed, steps, solved = run(seed)
            totals[name].append(elapsed)
            steps_done[name].append(steps)
            print(f"{seed:>4} {name:<10} {str(solved):>6} {elapsed:>8.1f} {steps:>10,} "
                  f"{steps / elapsed:>8,.0f}", flush=True)
    per_step = {name: sum(totals[name]) / sum(steps_done[name]) for name in totals}
    baselines = ["plain"] + ([] if args.skip_sb3 else ["sb3"])
    for name in ["rlmodules", "plain"]:
        for base in baselines:
            if base != name:
                print(f"{name} / {base}: time to solve "
                      f"{sum(totals[name]) / sum(totals[base]):.2f}, time per env step "
                      f"{per_step[name] / per_step[base]:.2f}, env steps to solve "
                      f"{sum(steps_done[name]) / sum(steps_done[base]):.2f}")
    if not args.skip_sb3:
        print("target: rlmodules / sb3 time to solve <= 0.5")


if __name__ == "__main__":
    main()
