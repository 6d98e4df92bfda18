"""A DefaultPPOTorchRLModule subclass that builds its own networks from its own
model_config keys, and returns no embeddings from forward_train."""

from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import (
    DefaultPPOTorchRLModule,
)
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class OwnNetworksPPORLModule(DefaultPPOTorchRLModule):
    @override(DefaultPPOTorchRLModule)
    def setup(self):
        hidden = self.model_config["hidden_dim"]
        in_dim = self.observation_space.shape[0]
        self.policy = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh(),
                                    nn.Linear(hidden, self.action_space.n))
        self.value = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    @override(DefaultPPOTorchRLModule)
    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.policy(batch[Columns.OBS])}

    @override(DefaultPPOTorchRLModule)
    def _forward_train(self, batch, **kwargs):
        return self._forward(batch)

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        return self.value(batch[Columns.OBS]).squeeze(-1)
