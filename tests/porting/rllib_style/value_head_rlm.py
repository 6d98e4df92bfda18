"""A two-headed module in RLlib's style: a value function and a tempered categorical."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.models.torch.torch_distributions import TorchCategorical
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class TemperedCategorical(TorchCategorical):
    """Divides the logits by ``temperature`` (a class attribute set per module)."""

    temperature = 1.0

    def __init__(self, logits=None, probs=None):
        if logits is not None:
            logits = logits / self.temperature
        super().__init__(logits, probs)


class TwoHeadRLModule(TorchRLModule, ValueFunctionAPI):
    @override(TorchRLModule)
    def setup(self):
        width = self.model_config.get("width", 32)
        self.trunk = nn.Sequential(nn.Linear(self.observation_space.shape[0], width), nn.Tanh())
        self.pi = nn.Linear(width, self.action_space.n)
        self.vf = nn.Linear(width, 1)
        temperature = self.model_config.get("temperature", 1.0)
        self.action_dist_cls = type(
            "TemperedCategoricalT", (TemperedCategorical,), {"temperature": temperature}
        )

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(self.trunk(batch[Columns.OBS]))}

    @override(TorchRLModule)
    def _forward_train(self, batch, **kwargs):
        features = self.trunk(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self.pi(features), Columns.EMBEDDINGS: features}

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        if embeddings is None:
            embeddings = self.trunk(batch[Columns.OBS])
        return self.vf(embeddings).squeeze(-1)
