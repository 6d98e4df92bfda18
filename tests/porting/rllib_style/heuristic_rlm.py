"""Policies without weights that answer with numpy actions: a rock-paper-scissors
heuristic, and a random policy that spells its columns with the old SampleBatch."""

import numpy as np
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.policy.sample_batch import SampleBatch


class BeatLastMoveRLModule(RLModule):
    """Plays what beats the opponent's last move (the observation; 3 after a reset)."""

    def _forward_inference(self, batch, **kwargs):
        moves = [(int(obs) + 1) % 3 if int(obs) < 3 else 0 for obs in batch[SampleBatch.OBS]]
        return {SampleBatch.ACTIONS: np.array(moves)}

    def _forward_exploration(self, batch, **kwargs):
        return self._forward_inference(batch, **kwargs)

    def _forward_train(self, batch, **kwargs):
        raise NotImplementedError("a heuristic is not trained")


class SampleBatchRandomRLModule(RLModule):
    def _forward(self, batch, **kwargs):
        size = len(batch[SampleBatch.OBS])
        return {SampleBatch.ACTIONS: np.array([self.action_space.sample() for _ in range(size)])}

    def _forward_train(self, batch, **kwargs):
        raise NotImplementedError("a random policy is not trained")
