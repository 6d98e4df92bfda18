"""PPO with action masks: the observation layout of PettingZoo's board and card games.

The observation space is a ``Dict`` with ``"observation"`` (what the networks see) and
``"action_mask"`` (1 for a legal action, 0 for an illegal one, over a ``Discrete`` action
space). Masked logits are set to the dtype's lowest value, so an illegal action has
probability 0 when acting and in the loss.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import SpaceError

from .ppo import DefaultPPOTorchRLModule

__all__ = ["ActionMaskingPPOModule", "MASK_KEY", "OBSERVATION_KEY"]

MASK_KEY = "action_mask"
OBSERVATION_KEY = "observation"


class ActionMaskingPPOModule(DefaultPPOTorchRLModule):
    """The default PPO module over ``obs["observation"]``, acting only where
    ``obs["action_mask"]`` is 1 (registered as ``"ppo_action_masking"``).

    Example::

        from pettingzoo.classic import tictactoe_v3

        config = (PPOConfig().environment(tictactoe_v3.env)
                  .rl_module(rl_module_spec=RLModuleSpec(module_class="ppo_action_masking"),
                             model_config={"conv_filters": [[32, 3, 1]]}))
    """

    conformance_spaces = [
        (gym.spaces.Dict({OBSERVATION_KEY: gym.spaces.Box(-1.0, 1.0, (4,)),
                          MASK_KEY: gym.spaces.Box(0, 1, (3,), np.int8)}),
         gym.spaces.Discrete(3)),
    ]

    def setup(self) -> None:
        space = self.observation_space
        if not (isinstance(space, gym.spaces.Dict) and MASK_KEY in space.spaces
                and OBSERVATION_KEY in space.spaces
                and isinstance(self.action_space, gym.spaces.Discrete)):
            raise SpaceError(
                f"{type(self).__name__} needs a Dict observation space with keys "
                f"{OBSERVATION_KEY!r} and {MASK_KEY!r} (PettingZoo's action-mask layout) and "
                f"a Discrete action space; got {space} and {self.action_space}"
            )
        mask_shape = space[MASK_KEY].shape
        if mask_shape != (self.action_space.n,):
            raise SpaceError(
                f"{type(self).__name__}: the {MASK_KEY!r} space has shape {mask_shape}, but "
                f"the action space {self.action_space} needs ({self.action_space.n},)"
            )
        catalog = self.required_catalog()
        # The networks see only the observation part; the mask acts on their logits.
        self.catalog = type(catalog)(observation_space=space[OBSERVATION_KEY],
                                     action_space=self.action_space,
                                     model_config=self.model_config)
        super().setup()

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        inner, mask = _split(batch)
        return _masked(super()._forward(inner, **kwargs), mask)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        inner, mask = _split(batch)
        return _masked(super()._forward_train(inner, **kwargs), mask)

    def compute_values(self, batch: dict[str, Any], embeddings: torch.Tensor | None = None
                       ) -> torch.Tensor:
        """Value estimates ``[B]``; the critic sees the observation part only."""
        if embeddings is None:
            batch, _ = _split(batch)
        return super().compute_values(batch, embeddings)


def _split(batch: dict[str, Any]) -> tuple[dict[str, Any], torch.Tensor]:
    obs = batch[Columns.OBS]
    return {**batch, Columns.OBS: obs[OBSERVATION_KEY]}, obs[MASK_KEY]


def _masked(out: dict[str, Any], mask: torch.Tensor) -> dict[str, Any]:
    logits = out[Columns.ACTION_DIST_INPUTS]
    lowest = torch.finfo(logits.dtype).min
    out[Columns.ACTION_DIST_INPUTS] = torch.where(mask.to(torch.bool), logits, lowest)
    return out
