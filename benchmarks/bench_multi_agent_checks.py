"""What the multi-agent env checks cost: MultiAgentSampler on MultiAgentCartPole with the
checks, against the same sampler with them switched off, in one run (alternating rounds;
the median of each). The checks are one membership test per new agent and episode, one
``contains`` of its first observation, and one vectorised bounds check per module id and
step.

    python benchmarks/bench_multi_agent_checks.py --agents 2 --envs 8 --steps 2000
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def checks_off() -> Iterator[None]:
    """The sampler with every env check replaced by a no-op (the baseline)."""
    from rlmodules.algorithms import agent_checks, multi_agent

    saved = (multi_agent.check_new_agent, agent_checks.BoxBounds.holds)
    multi_agent.check_new_agent = lambda *args: None
    agent_checks.BoxBounds.holds = lambda self, batch: True
    try:
        yield
    finally:
        multi_agent.check_new_agent, agent_checks.BoxBounds.holds = saved


def steps_per_second(agents: int, envs: int, steps: int) -> float:
    from rlmodules import MultiRLModuleSpec, RLModuleSpec
    from rlmodules.algorithms import MultiAgentSampler
    from rlmodules.envs import MultiAgentCartPole

    torch.manual_seed(0)  # the same weights, so the same episodes, with and without checks
    env = MultiAgentCartPole(config={"num_agents": agents})
    spec = MultiRLModuleSpec(observation_space=env.observation_space(0),
                             action_space=env.action_space(0),
                             rl_module_specs=RLModuleSpec(module_class="ppo"))
    sampler = MultiAgentSampler(
        env_creator=lambda: MultiAgentCartPole(config={"num_agents": agents}),
        multi_module=spec.build([f"p{i}" for i in range(agents)]),
        policy_mapping_fn=lambda agent, episode, **kw: f"p{agent}", num_envs=envs, seed=0)
    sampler.sample(50)  # warm up
    start = time.perf_counter()
    sampler.sample(steps)
    elapsed = time.perf_counter() - start
    sampler.close()
    return steps * envs * agents / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    checked, baseline = [], []
    for round_ in range(args.rounds):  # alternate which goes first: no order effect
        for off in ((False, True) if round_ % 2 else (True, False)):
            with checks_off() if off else contextlib.nullcontext():
                rate = steps_per_second(args.agents, args.envs, args.steps)
            (baseline if off else checked).append(rate)
    ours, base = statistics.median(checked), statistics.median(baseline)
    print(f"agent steps/s with checks {ours:,.0f}, without {base:,.0f}: "
          f"ratio {ours / base:.3f} (median of {args.rounds} alternating rounds)")


if __name__ == "__main__":
    main()
