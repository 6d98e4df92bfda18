"""Envs for the Ray tests, importable by the Ray workers (the fixture puts this folder on
their PYTHONPATH)."""

from __future__ import annotations

import time

import gymnasium as gym


class BrokenCartPole(gym.Wrapper):
    """CartPole whose ``step`` raises after ``fail_after`` steps (a crashing simulator), or
    hangs for ``hang_s`` seconds instead when that is set (a stuck one)."""

    def __init__(self, config: dict) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.fail_after = config.get("fail_after", 0)
        self.hang_s = config.get("hang_s")
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps > self.fail_after:
            if self.hang_s is not None:
                time.sleep(self.hang_s)
            else:
                raise RuntimeError(f"simulator crashed at step {self.steps}")
        return self.env.step(action)
