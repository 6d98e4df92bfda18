"""CartPole without velocities: a memory task (the pole's motion must be inferred)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["StatelessCartPole"]


class StatelessCartPole(gym.ObservationWrapper):
    """CartPole-v1 observing only the cart position and the pole angle.

    A memoryless policy cannot tell which way the pole is falling; a recurrent one can.

    Example::

        rlmodules train --config stateless_cartpole_lstm   # with rlmodules-lstm
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(gym.make("CartPole-v1", **(config or {})))
        space = self.env.observation_space
        self.observation_space = gym.spaces.Box(
            space.low[[0, 2]], space.high[[0, 2]], dtype=np.float32
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[[0, 2]]
