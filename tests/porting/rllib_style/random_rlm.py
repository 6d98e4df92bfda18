"""Policies without weights in RLlib's style: random actions, and a stateful variant
whose state is numpy."""

import numpy as np
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module import RLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.spaces.space_utils import batch as batch_func


class UniformRandomRLModule(RLModule):
    @override(RLModule)
    def _forward(self, batch, **kwargs):
        size = len(batch[Columns.OBS])
        return {Columns.ACTIONS: batch_func([self.action_space.sample() for _ in range(size)])}

    @override(RLModule)
    def _forward_train(self, batch, **kwargs):
        raise NotImplementedError("a random policy is not trained")


class CountingRandomRLModule(UniformRandomRLModule):
    """Carries a step counter as its (numpy) state."""

    @override(RLModule)
    def get_initial_state(self):
        return {"count": np.zeros((1,), dtype=np.float32)}

    @override(UniformRandomRLModule)
    def _forward(self, batch, **kwargs):
        out = super()._forward(batch, **kwargs)
        out[Columns.STATE_OUT] = {"count": np.asarray(batch[Columns.STATE_IN]["count"]) + 1.0}
        return out
