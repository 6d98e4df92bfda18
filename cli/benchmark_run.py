"""One run of ``rlmodules benchmark``, in its own process:
``python -m rlmodules.cli.benchmark_run RUN_DIR``.

``RUN_DIR/spec.json`` (written by the benchmark command) names the library (``rlmodules``
or ``sb3``), the algorithm, env, config sections, budget, seed and evaluation settings. The
run trains for the budget, evaluates the greedy policy on separate envs every
``eval_interval`` env steps (10 episodes, appended to ``evals.jsonl``) and at the end
(``eval_episodes`` episodes), and writes ``result.json`` last, atomically: a run directory
with a ``result.json`` for the same spec is finished. Wall time counts training only, not the
evaluations; rlmodules runs also save the trained module to ``RUN_DIR/module``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from .benchmark_files import EVALS_FILE, RESULT_FILE, append_eval, read_spec, write_json

__all__ = ["main", "CURVE_EPISODES"]

#: Greedy episodes of each evaluation on the learning curve.
CURVE_EPISODES = 10


def main(argv: list[str] | None = None) -> int:
    import torch

    run_dir = Path((argv if argv is not None else sys.argv[1:])[0])
    spec = read_spec(run_dir)
    torch.set_num_threads(1)
    (run_dir / EVALS_FILE).unlink(missing_ok=True)
    run = _run_sb3 if spec["library"] == "sb3" else _run_rlmodules
    result = run(spec, run_dir)
    result.update(spec_digest=spec["digest"], library=spec["library"], seed=spec["seed"])
    write_json(run_dir / RESULT_FILE, result)
    print(f"final greedy return {result['return_mean']:.2f} ± {result['return_std']:.2f} "
          f"after {result['timesteps']:,} steps, {result['train_time_s']:.0f} s")
    return 0


class _Curve:
    """Evaluations every ``interval`` env steps, appended to ``evals.jsonl``."""

    def __init__(self, run_dir: Path, interval: int, budget: int) -> None:
        self.run_dir = run_dir
        self.interval, self.budget = interval, budget
        self.next = interval
        self.eval_time = 0.0

    def due(self, timesteps: int) -> bool:
        return self.next <= timesteps < self.budget

    def record(self, timesteps: int, evaluate: Any) -> None:
        start = time.perf_counter()
        mean, std = evaluate(CURVE_EPISODES)
        self.eval_time += time.perf_counter() - start
        append_eval(self.run_dir, {"at": self.next, "timesteps": timesteps,
                                   "return_mean": mean, "return_std": std})
        while self.next <= timesteps:
            self.next += self.interval


def _run_rlmodules(spec: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    from rlmodules.algorithms import DQNConfig, PPOConfig, SACConfig

    config_class = {"ppo": PPOConfig, "dqn": DQNConfig, "sac": SACConfig}[spec["algo"]]
    config = config_class().environment(spec["env"]).update_from_dict(spec["settings"])
    config.env_runners(num_threads=1).debugging(seed=spec["seed"])
    algo = config.build()

    def evaluate(episodes: int) -> tuple[float, float]:
        result = algo.evaluate(num_episodes=episodes)
        return result["episode_return_mean"], result["episode_return_std"]

    curve = _Curve(run_dir, spec["eval_interval"], spec["timesteps"])
    start = time.perf_counter()
    try:
        while algo.timesteps < spec["timesteps"]:
            algo.train()
            if curve.due(algo.timesteps):
                curve.record(algo.timesteps, evaluate)
        train_time = time.perf_counter() - start - curve.eval_time
        mean, std = evaluate(spec["eval_episodes"])
        algo.get_module().save_to_path(run_dir / "module")
    finally:
        algo.stop()
    return _result(mean, std, spec, algo.timesteps, train_time)


def _run_sb3(spec: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    import numpy as np
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import sync_envs_normalization

    from .benchmark_sb3 import build_sb3

    model, eval_env = build_sb3(spec["sb3"], spec["env"], spec["seed"])

    def evaluate(episodes: int) -> tuple[float, float]:
        sync_envs_normalization(model.get_env(), eval_env)
        returns, _ = evaluate_policy(model, eval_env, n_eval_episodes=episodes,
                                     deterministic=True, return_episode_rewards=True)
        return float(np.mean(returns)), float(np.std(returns))

    curve = _Curve(run_dir, spec["eval_interval"], spec["timesteps"])

    class Evaluations(BaseCallback):
        def _on_step(self) -> bool:
            if curve.due(self.num_timesteps):
                curve.record(self.num_timesteps, evaluate)
            return True

    start = time.perf_counter()
    model.learn(spec["timesteps"], callback=Evaluations())
    train_time = time.perf_counter() - start - curve.eval_time
    mean, std = evaluate(spec["eval_episodes"])
    return _result(mean, std, spec, model.num_timesteps, train_time)


def _result(mean: float, std: float, spec: dict[str, Any], timesteps: int,
            train_time: float) -> dict[str, Any]:
    return {"return_mean": float(mean), "return_std": float(std),
            "episodes": spec["eval_episodes"], "timesteps": int(timesteps),
            "train_time_s": train_time, "env_steps_per_s": timesteps / max(train_time, 1e-9)}


if __name__ == "__main__":
    sys.exit(main())
