"""Quick start: build modules from specs, act in CartPole-v1, checkpoint and reload.

Run with ``python examples/quickstart.py``.
"""

from __future__ import annotations

import json
import tempfile

import gymnasium as gym
import torch
from rlmodules import Columns, RLModule, RLModuleSpec, compute_actions


def run_episode(module: RLModule, env: gym.Env, *, explore: bool, seed: int) -> float:
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        out = compute_actions(module, {Columns.OBS: obs[None]}, explore=explore, for_env=True)
        obs, reward, terminated, truncated, _ = env.step(out[Columns.ACTIONS_FOR_ENV][0])
        total += float(reward)
        done = terminated or truncated
    return total


def main() -> None:
    torch.manual_seed(0)
    env = gym.make("CartPole-v1")
    spec = RLModuleSpec(
        module_class="ppo",  # the registered name of the default PPO module
        observation_space=env.observation_space,
        action_space=env.action_space,
        model_config={"fcnet_hiddens": [64, 64]},
    )
    # Specs are plain JSON: any process with the same plugins rebuilds the same module.
    spec = RLModuleSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    module = spec.build()
    print(f"built {type(module).__name__} with "
          f"{sum(p.numel() for p in module.parameters())} parameters")

    episode_return = run_episode(module, env, explore=True, seed=0)
    print(f"one exploring episode (untrained policy): return {episode_return:.0f}")

    with tempfile.TemporaryDirectory() as tmp:
        path = module.save_to_path(f"{tmp}/ppo-cartpole")
        restored = RLModule.from_checkpoint(path)
        obs = torch.as_tensor(env.reset(seed=1)[0])[None]
        same = torch.equal(
            module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS],
            restored.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS],
        )
        print(f"checkpoint saved and reloaded as {type(restored).__name__}; "
              f"identical outputs: {same}")
        greedy = run_episode(restored, env, explore=False, seed=1)
        print(f"one greedy episode with the reloaded module: return {greedy:.0f}")
    if not same:
        raise SystemExit("the reloaded module differs from the saved one")


if __name__ == "__main__":
    main()
