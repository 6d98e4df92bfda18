"""The per-step cost of ``compute_actions(explore=True)`` against hand-written baselines.

The default PPO module for CartPole-v1 (``fcnet_hiddens=[256, 256]``, tanh, shared encoder)
acts on a batch of observations four ways, all with the same weights and one torch thread:

* ``compute_actions``: ``rlmodules.compute_actions(module, {"obs": obs}, explore=True)``
  (forward_exploration with its input/output check, the configured Categorical, actions,
  ``action_logp`` and ``action_prob``);
* ``hand-written``: the module's layers called as plain ``nn.Module``s under
  ``torch.no_grad()``, then ``log_softmax`` + ``multinomial`` + ``gather``;
* ``torch.distributions``: the same layers, then ``torch.distributions.Categorical``'s
  ``sample`` + ``log_prob``;
* ``logits only``: the same layers, nothing else.

Variants alternate call by call within each round; the median over rounds of the mean
per-call time is reported, as a ratio to the hand-written baseline. Times are process CPU
time by default, so other processes on a shared machine do not skew them (``--wall`` for
wall-clock time). ``--check`` exits non-zero if a target ratio is missed.

Run: ``python benchmarks/bench_action_step.py [--wall] [--check]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import torch
from rlmodules import Columns, RLModuleSpec, compute_actions
from torch import nn

#: batch size -> (calls per round, rounds, target ratio of compute_actions to hand-written)
SETTINGS = {1: (300, 21, 1.2), 1024: (10, 21, 1.05)}


def build_module() -> nn.Module:
    env = gym.make("CartPole-v1")
    return RLModuleSpec(
        module_class="ppo",
        observation_space=env.observation_space,
        action_space=env.action_space,
    ).build()


def plain_policy(module: nn.Module) -> nn.Sequential:
    """The module's actor as one plain ``nn.Sequential`` sharing its layers (same weights)."""
    layers = [
        layer
        for part in (module.encoder, module.pi)
        for layer in part.modules()
        if not list(layer.children())  # leaves: Linear, Tanh
    ]
    return nn.Sequential(*layers)


Variant = Callable[[torch.Tensor], object]


def variants(module: nn.Module, policy: nn.Sequential) -> dict[str, Variant]:
    def ours(obs: torch.Tensor) -> object:
        return compute_actions(module, {Columns.OBS: obs}, explore=True)

    def hand_written(obs: torch.Tensor) -> object:
        with torch.no_grad():
            log_probs = policy(obs).log_softmax(-1)
            actions = torch.multinomial(log_probs.exp(), 1)
            return actions.squeeze(-1), log_probs.gather(-1, actions).squeeze(-1)

    def torch_distributions(obs: torch.Tensor) -> object:
        with torch.no_grad():
            dist = torch.distributions.Categorical(logits=policy(obs))
            actions = dist.sample()
            return actions, dist.log_prob(actions)

    def logits_only(obs: torch.Tensor) -> object:
        with torch.no_grad():
            return policy(obs)

    return {
        "compute_actions": ours,
        "hand-written": hand_written,
        "torch.distributions": torch_distributions,
        "logits only": logits_only,
    }


def measure(fns: dict[str, Variant], obs: Any, calls: int, rounds: int,
            clock: Callable[[], float], *, per_call: bool = True) -> dict[str, float]:
    """Median over rounds of each variant's mean seconds per call. Variants alternate call
    by call (in a rotating order), so a load change on the machine hits them all alike;
    ``per_call=False`` alternates them round by round instead (each runs its ``calls`` in a
    row), for code a process runs on its own (numpy code measured 2-3x slower when each
    call directly follows a torch call)."""
    for fn in fns.values():  # warm-up
        for _ in range(max(calls // 4, 2)):
            fn(obs)
    names = list(fns)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        spent = dict.fromkeys(names, 0.0)
        steps = [order] * calls if per_call else [[name] * calls for name in order]
        for step in steps:
            for name in step:
                fn = fns[name]
                start = clock()
                fn(obs)
                spent[name] += clock() - start
        for name in names:
            samples[name].append(spent[name] / calls)
    return {name: statistics.median(samples[name]) for name in names}


def parse_args(doc: str) -> tuple[argparse.Namespace, Callable[[], float]]:
    """The benchmarks' options (``--wall``, ``--check``) and the clock they choose; sets
    one torch thread and seed 0."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--wall", action="store_true", help="time wall-clock, not CPU")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return args, time.perf_counter if args.wall else time.process_time


def main() -> int:
    args, clock = parse_args(__doc__)
    module = build_module()
    policy = plain_policy(module)
    probe = torch.randn(8, 4)
    with torch.no_grad():  # the baselines really run the module's network
        assert torch.equal(policy(probe), module.forward_exploration(
            {Columns.OBS: probe})[Columns.ACTION_DIST_INPUTS])
    fns = variants(module, policy)

    print(f"CartPole-v1 default PPO module, 1 torch thread, {'wall' if args.wall else 'CPU'} "
          f"time, median of interleaved rounds; ratio = time / hand-written")
    missed = []
    for batch, (calls, rounds, target) in SETTINGS.items():
        obs = torch.randn(batch, 4)
        times = measure(fns, obs, calls, rounds, clock)
        base = times["hand-written"]
        print(f"\nbatch {batch}:")
        for name, seconds in times.items():
            print(f"  {name:<22} {seconds * 1e6:10.1f} us   {seconds / base:5.2f}x")
        ratio = times["compute_actions"] / base
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"  target compute_actions <= {target:.2f}x hand-written: {ratio:.3f}x {verdict}")
        if ratio > target:
            missed.append(batch)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
