"""The floor under DQN on CartPole: CPU time per gradient step and per acting step of
rlmodules, Stable-Baselines3 and the same arithmetic hand-written in plain PyTorch (no
framework: one MLP, fused Adam, a numpy replay buffer), measured in turns in one process.

All three: RL Zoo's CartPole DQN network (256x256 ReLU), batch 64, Huber loss, gradient
norm clip 10, a target network, epsilon-greedy acting on one env. Time to a return
threshold is (env steps x acting cost) + (gradient steps x update cost), so these two
numbers bound what any setting of ours can reach against SB3's.

    python benchmarks/bench_offpolicy_limit.py --rounds 200 --num-threads 1 [--compiled]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

BATCH = 64
#: Env steps per timed acting call (ours samples whole rounds; this amortises its per-round
#: bookkeeping as training does).
ACT_STEPS = 16


class HandWritten:
    """DQN as few lines of PyTorch as it takes."""

    def __init__(self) -> None:
        def mlp() -> nn.Module:
            return nn.Sequential(nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                 nn.Linear(256, 2))

        self.q, self.target = mlp(), mlp()
        self.target.load_state_dict(self.q.state_dict())
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=2.3e-3, fused=True)
        rng = np.random.default_rng(0)
        n = 10_000
        self.obs = rng.normal(size=(n, 4)).astype(np.float32)
        self.next_obs = rng.normal(size=(n, 4)).astype(np.float32)
        self.actions = rng.integers(2, size=n)
        self.rewards = np.ones(n, dtype=np.float32)
        self.dones = np.zeros(n, dtype=np.float32)
        self.rng = rng
        self.env = gym.make("CartPole-v1")
        self.state, _ = self.env.reset(seed=0)

    def update(self) -> None:
        i = self.rng.integers(len(self.obs), size=BATCH)
        obs, next_obs = torch.from_numpy(self.obs[i]), torch.from_numpy(self.next_obs[i])
        with torch.no_grad():
            y = torch.from_numpy(self.rewards[i]) + 0.99 * (
                1 - torch.from_numpy(self.dones[i])) * self.target(next_obs).max(-1).values
        q = self.q(obs).gather(1, torch.from_numpy(self.actions[i])[:, None]).squeeze(1)
        loss = nn.functional.smooth_l1_loss(q, y)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), 10.0)
        self.optimizer.step()

    def act(self) -> None:
        for _ in range(ACT_STEPS):
            with torch.inference_mode():
                action = int(self.q(torch.from_numpy(self.state)[None]).argmax())
            self.state, _, terminated, truncated, _ = self.env.step(action)
            if terminated or truncated:
                self.state, _ = self.env.reset()


class SB3:
    def __init__(self) -> None:
        from stable_baselines3 import DQN

        self.model = DQN("MlpPolicy", "CartPole-v1", learning_rate=2.3e-3, batch_size=BATCH,
                         learning_starts=0, train_freq=1, gradient_steps=1,
                         exploration_final_eps=0.04, policy_kwargs={"net_arch": [256, 256]},
                         device="cpu", seed=0)
        self.model.learn(2000)  # a filled buffer
        self.env = self.model.get_env()
        self.obs = self.env.reset()

    def update(self) -> None:
        self.model.train(gradient_steps=1, batch_size=BATCH)

    def act(self) -> None:
        for _ in range(ACT_STEPS):
            action, _ = self.model.predict(self.obs, deterministic=False)
            self.obs, _, _, _ = self.env.step(action)


class Ours:
    def __init__(self, levers: dict[str, Any]) -> None:
        from rlmodules.algorithms import DQNConfig

        self.algo = (
            DQNConfig().environment("CartPole-v1")
            .env_runners(num_envs_per_env_runner=1, rollout_fragment_length=256)
            .training(lr=2.3e-3, train_batch_size=BATCH, grad_clip=10.0, double_q=False,
                      dueling=False, num_steps_sampled_before_learning_starts=1000,
                      training_intensity=32, min_sample_timesteps_per_iteration=256)
            .rl_module(model_config={"fcnet_hiddens": [256, 256], "fcnet_activation": "relu"})
            .debugging(seed=0).update_from_dict(levers).build())
        while self.algo.timesteps < 2000:
            self.algo.train()
        self.algo.sampler.random_fraction = 0.04

    def update(self) -> None:
        batch = self.algo.replay_buffer.sample(BATCH)
        batch.pop("indices", None)
        self.algo.learner.update(batch, timestep=self.algo.timesteps)

    def act(self) -> None:
        self.algo.module.eval()
        self.algo.sampler.sample(ACT_STEPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--num-threads", type=int, default=1)
    parser.add_argument("--compiled", action="store_true", help="also ours compiled")
    args = parser.parse_args()
    torch.set_num_threads(args.num_threads)
    runners = {"hand-written": HandWritten(), "sb3": SB3(), "rlmodules": Ours({})}
    if args.compiled:
        runners["rlmodules compiled"] = Ours({"framework": {"torch_compile_learner": True,
                                                            "torch_compile_worker": True}})
    cost = {name: {"update": [], "act": []} for name in runners}
    for round_ in range(args.rounds + 20):
        for name, runner in runners.items():
            for what in ("update", "act"):
                start = time.process_time()
                getattr(runner, what)()
                if round_ >= 20:  # warm-up rounds (compiling) are not counted
                    cost[name][what].append(time.process_time() - start)
    print(f"DQN CartPole, CPU ms per call (median of {args.rounds}, {args.num_threads} thread)")
    print(f"{'':<20} {'gradient step':>14} {'env step':>9}")
    for name, costs in cost.items():
        print(f"{name:<20} {np.median(costs['update']) * 1e3:>14.3f} "
              f"{np.median(costs['act']) * 1e3 / ACT_STEPS:>9.3f}")


if __name__ == "__main__":
    main()
