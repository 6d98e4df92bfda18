"""DiscreteBCTorchModule: the small discrete BC module the seeds' examples use.

An MLP policy over a 1-D Box observation with ``model_config["fcnet_hiddens"]`` ReLU
layers and logits for a Discrete action space (categorical distribution). It is a plain
TorchRLModule, so it also serves PPO when no value function is needed.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError, SpaceError
from rlmodules.networks import mlp
from rlmodules.torch_rl_module import TorchRLModule

__all__ = ["DiscreteBCTorchModule"]


class DiscreteBCTorchModule(TorchRLModule):
    """Categorical policy: ``obs [B, D] -> action_dist_inputs [B, n]``.

    Example::

        module = DiscreteBCTorchModule(
            observation_space=env.observation_space,
            action_space=env.action_space,
            model_config={"fcnet_hiddens": [32, 32]},
        )
    """

    def setup(self) -> None:
        obs_space, action_space = self.observation_space, self.action_space
        if not (isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1):
            raise SpaceError(
                f"DiscreteBCTorchModule needs a 1-D Box observation space, got {obs_space}"
            )
        if not isinstance(action_space, gym.spaces.Discrete):
            raise SpaceError(
                f"DiscreteBCTorchModule needs a Discrete action space, got {action_space}"
            )
        hiddens = self._hiddens()
        self.policy = mlp(obs_space.shape[0], hiddens, int(action_space.n),
                          hidden_activation="relu")

    def _hiddens(self) -> list[int]:
        if "fcnet_hiddens" not in self.model_config:
            raise ConfigError(
                "DiscreteBCTorchModule reads model_config['fcnet_hiddens'] (hidden layer "
                f"sizes, e.g. [32, 32]); the model_config has keys {sorted(self.model_config)}"
            )
        hiddens = self.model_config["fcnet_hiddens"]
        if not isinstance(hiddens, (list, tuple)) or not all(
            isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hiddens
        ):
            raise ConfigError(
                f"DiscreteBCTorchModule model_config['fcnet_hiddens'] must be a list of "
                f"positive ints, got {hiddens!r}"
            )
        return list(hiddens)

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.policy(batch[Columns.OBS])}
