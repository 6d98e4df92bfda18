"""Action masking in RLlib's style: a PPO module over Dict observations
``{"observations": ..., "action_mask": ...}`` with its own ``__init__``."""

import gymnasium as gym
from ray.rllib.algorithms.ppo.torch.ppo_torch_rl_module import PPOTorchRLModule
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch
from ray.rllib.utils.torch_utils import FLOAT_MIN

torch, nn = try_import_torch()


class MaskedPPORLModule(PPOTorchRLModule):
    @override(RLModule)
    def __init__(
        self,
        *,
        observation_space=None,
        action_space=None,
        inference_only=None,
        learner_only=False,
        model_config=None,
        catalog_class=None,
        **kwargs,
    ):
        if not isinstance(observation_space, gym.spaces.Dict):
            raise ValueError("MaskedPPORLModule needs a Dict observation space")
        # The PPO networks see the inner observations; the module keeps the full space.
        self.full_observation_space = observation_space
        super().__init__(
            observation_space=observation_space["observations"],
            action_space=action_space,
            inference_only=inference_only,
            learner_only=learner_only,
            model_config=model_config,
            catalog_class=catalog_class,
            **kwargs,
        )

    @override(PPOTorchRLModule)
    def setup(self):
        super().setup()
        self.observation_space = self.full_observation_space

    @override(PPOTorchRLModule)
    def _forward(self, batch, **kwargs):
        mask, batch = self._split(batch)
        return self._masked(super()._forward(batch, **kwargs), mask)

    @override(PPOTorchRLModule)
    def _forward_train(self, batch, **kwargs):
        # compute_values ran first on this batch and left the mask there.
        return self._masked(super()._forward_train(batch, **kwargs), batch["action_mask"])

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        if isinstance(batch[Columns.OBS], dict):
            mask, batch = self._split(batch)
            batch["action_mask"] = mask
        return super().compute_values(batch, embeddings)

    def _split(self, batch):
        observations = batch[Columns.OBS]
        batch[Columns.OBS] = observations["observations"]
        return observations["action_mask"], batch

    def _masked(self, outs, mask):
        outs[Columns.ACTION_DIST_INPUTS] = outs[Columns.ACTION_DIST_INPUTS] + torch.clamp(
            torch.log(mask), min=FLOAT_MIN
        )
        return outs
