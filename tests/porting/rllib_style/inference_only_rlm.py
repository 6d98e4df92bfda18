"""A module whose critic exists on learners only, in RLlib's InferenceOnlyAPI style."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class LeanActorRLModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    @override(TorchRLModule)
    def setup(self):
        in_dim = self.observation_space.shape[0]
        self.actor = nn.Sequential(nn.Linear(in_dim, 16), nn.ReLU(),
                                   nn.Linear(16, self.action_space.n))
        # Built in every case: the inference-only build removes it (InferenceOnlyAPI).
        self.critic = nn.Sequential(nn.Linear(in_dim, 16), nn.ReLU(), nn.Linear(16, 1))

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.actor(batch[Columns.OBS])}

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        return self.critic(batch[Columns.OBS]).squeeze(-1)

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self):
        return ["critic"]
