"""Time to build a default PPO module, against RLlib's (or plain PyTorch layers).

Two sizes on CartPole-v1's spaces, each built by ``RLModuleSpec(module_class="ppo", ...)
.build()`` with torch's default threads:

* ``large``: ``fcnet_hiddens=[2048] * 4``, ``vf_share_layers=False`` (about 100 MB of
  float32 weights: a policy and a value encoder of four 2,048-wide layers, plus heads);
* ``small``: the CartPole preset's ``fcnet_hiddens=[64, 64]``, ``vf_share_layers=False``.

Baseline: RLlib's ``DefaultPPOTorchRLModule`` with the same ``model_config`` when
``ray[rllib]`` is importable; otherwise the same ``nn.Linear`` layers built by hand with
PyTorch's default initialisation (what RLlib's ``fcnet_kernel_initializer=None`` means).
Builds alternate, the median wall time over rounds is reported as a ratio to the baseline.
The first build of a fresh process is timed in a subprocess (thread pools and lazy imports
start there). ``--check`` exits non-zero when the large build takes over 2x the baseline.

Run: ``python benchmarks/bench_module_build.py [--rounds N] [--check]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import gymnasium as gym
import torch
from rlmodules import RLModuleSpec
from torch import nn

SIZES = {
    "large": {"fcnet_hiddens": [2048] * 4, "vf_share_layers": False},
    "small": {"fcnet_hiddens": [64, 64], "vf_share_layers": False},
}
TARGET = 2.0  # large build: at most this many times the baseline's time

ENV = gym.make("CartPole-v1")
OBS_SPACE, ACT_SPACE = ENV.observation_space, ENV.action_space


def ours(model_config: dict) -> Callable[[], nn.Module]:
    spec = RLModuleSpec(module_class="ppo", observation_space=OBS_SPACE,
                        action_space=ACT_SPACE, model_config=model_config)
    return spec.build


def rllib(model_config: dict) -> Callable[[], nn.Module] | None:
    try:
        from ray.rllib.algorithms.ppo.ppo_catalog import PPOCatalog
        from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import (
            DefaultPPOTorchRLModule,
        )
        from ray.rllib.core.rl_module.rl_module import RLModuleSpec as RLlibSpec
    except ImportError:
        return None
    spec = RLlibSpec(module_class=DefaultPPOTorchRLModule, catalog_class=PPOCatalog,
                     observation_space=OBS_SPACE, action_space=ACT_SPACE,
                     model_config=model_config)
    return spec.build


def plain_torch(model_config: dict) -> Callable[[], nn.Module]:
    """The same layers as ours, PyTorch's default initialisation, nothing else."""
    hiddens, obs_dim = model_config["fcnet_hiddens"], OBS_SPACE.shape[0]

    def encoder() -> list[nn.Module]:
        layers: list[nn.Module] = []
        for width_in, width_out in zip([obs_dim, *hiddens], hiddens):
            layers += [nn.Linear(width_in, width_out), nn.Tanh()]
        return layers

    def build() -> nn.Module:
        return nn.ModuleList([nn.Sequential(*encoder()), nn.Sequential(*encoder()),
                              nn.Linear(hiddens[-1], int(ACT_SPACE.n)), nn.Linear(hiddens[-1], 1)])

    return build


def measure(builders: dict[str, Callable[[], nn.Module]], rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in builders}
    for build in builders.values():  # warm-up: imports, allocator
        build()
    for round_index in range(rounds):
        names = list(builders)
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            start = time.perf_counter()
            builders[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


_FIRST_BUILD = """
import time, gymnasium as gym
from rlmodules import RLModuleSpec
import rlmodules.plugins.ppo
env = gym.make("CartPole-v1")
spec = RLModuleSpec(module_class="ppo", observation_space=env.observation_space,
                    action_space=env.action_space, model_config={config!r})
start = time.perf_counter()
spec.build()
print(time.perf_counter() - start)
"""


def first_build_seconds(model_config: dict) -> float:
    code = _FIRST_BUILD.format(config=model_config)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed builds of each (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()

    torch.manual_seed(0)
    baseline_name = "RLlib" if rllib(SIZES["small"]) is not None else "plain torch layers"
    print(f"default PPO module build on CartPole-v1 spaces, {torch.get_num_threads()} torch "
          f"threads, median wall time of {args.rounds} alternating builds; baseline: "
          f"{baseline_name}")
    missed = False
    for size, model_config in SIZES.items():
        baseline = rllib(model_config) or plain_torch(model_config)
        times = measure({"rlmodules": ours(model_config), baseline_name: baseline}, args.rounds)
        module = ours(model_config)()
        megabytes = sum(p.numel() * p.element_size() for p in module.parameters()) / 1e6
        ratio = times["rlmodules"] / times[baseline_name]
        print(f"\n{size} ({model_config}, {megabytes:.1f} MB):")
        for name, seconds in times.items():
            print(f"  {name:<20} {seconds * 1e3:9.1f} ms   {seconds / times[baseline_name]:5.2f}x")
        if size == "large":
            verdict = "ok" if ratio <= TARGET else "MISSED"
            missed = ratio > TARGET
            print(f"  target rlmodules <= {TARGET:.1f}x {baseline_name}: {ratio:.2f}x {verdict}")
    first = first_build_seconds(SIZES["small"])
    print(f"\nfirst small build in a fresh process (after imports): {first * 1e3:.1f} ms")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
