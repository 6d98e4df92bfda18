"""Evaluation results, and evaluating a module without an algorithm around it.

:meth:`Algorithm.evaluate <rlmodules.algorithms.Algorithm.evaluate>` evaluates the module
it trains; :func:`evaluate_module` does the same for any module (e.g. one loaded from a
module checkpoint, as ``rlmodules eval CKPT --env ENV`` does), in fresh envs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rlmodules.errors import ConfigError

__all__ = ["summarize_episodes", "evaluate_module"]


def summarize_episodes(episodes: Sequence[Any], *, multi_agent: bool) -> dict[str, Any]:
    """Mean and std return, mean length and count of ``episodes``; for a multi-agent env
    also each module id's mean return (its agents' returns)."""
    returns = np.array([e.episode_return for e in episodes])
    lengths = np.array([e.length for e in episodes])
    result: dict[str, Any] = {
        "episode_return_mean": float(returns.mean()),
        "episode_return_std": float(returns.std()),
        "episode_len_mean": float(lengths.mean()),
        "num_episodes": int(len(returns)),
    }
    if multi_agent:
        per_module: dict[str, list[float]] = {}
        for episode in episodes:
            for agent, agent_episode in episode.agents.items():
                per_module.setdefault(episode.module_ids[agent], []).append(
                    agent_episode.episode_return)
        result["module_episode_returns_mean"] = {
            mid: float(np.mean(values)) for mid, values in sorted(per_module.items())}
    return result


def evaluate_module(module: Any, env: Any, *, env_config: dict[str, Any] | None = None,
                    num_episodes: int = 10, explore: bool = False, seed: int | None = None
                    ) -> dict[str, Any]:
    """Play ``num_episodes`` whole episodes of ``env`` (an id, class or factory) with
    ``module`` (an RLModule, or a MultiRLModule of one module; in a multi-agent env every
    agent uses it), greedy unless ``explore``; returns :func:`summarize_episodes`.

    Example::

        module = RLModule.from_checkpoint("runs/cartpole/checkpoint/learner_group/"
                                          "learner/rl_module/default_policy")
        print(evaluate_module(module, "CartPole-v1", num_episodes=20)["episode_return_mean"])
    """
    from rlmodules.envs import is_parallel_env

    from .env_creation import make_env_creator
    from .multi_agent import MultiAgentSampler
    from .sampler import VectorEnvSampler

    multi = module.as_multi_rl_module()
    if len(multi) != 1:
        raise ConfigError(
            f"the module has module ids {list(multi.keys())}: evaluate a multi-module policy "
            f"through the algorithm that trained it (its run directory or algorithm "
            f"checkpoint), which knows which agent uses which module"
        )
    only = next(iter(multi.keys()))
    creator = make_env_creator(env, dict(env_config or {}))
    probe = creator()
    multi_agent = is_parallel_env(probe)
    probe.close()
    if multi_agent:
        sampler: Any = MultiAgentSampler(
            env_creator=creator, multi_module=multi, num_envs=1, seed=seed, explore=explore,
            policy_mapping_fn=lambda agent_id, episode, **kw: only)
    else:
        sampler = VectorEnvSampler(env_creator=creator, multi_module=multi, module_id=only,
                                   num_envs=min(num_episodes, 8), seed=seed, explore=explore)
    was_training = multi.training
    multi.eval()
    try:
        episodes = sampler.run_episodes(num_episodes, seed=seed)
    finally:
        sampler.close()
        multi.train(was_training)
    return summarize_episodes(episodes, multi_agent=multi_agent)
