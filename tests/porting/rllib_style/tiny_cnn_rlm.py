"""A small CNN policy for channels-last images, built with RLlib's padding helpers."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.models.torch.misc import normc_initializer, same_padding, valid_padding
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class SmallCNNRLModule(TorchRLModule, ValueFunctionAPI):
    @override(TorchRLModule)
    def setup(self):
        height, width, channels = self.observation_space.shape
        layers = []
        size = (height, width)
        for out_channels, kernel, stride in self.model_config.get(
            "conv_filters", [[8, 4, 2], [16, 3, 2]]
        ):
            padding, size = same_padding(size, kernel, stride)
            layers += [nn.ZeroPad2d(padding), nn.Conv2d(channels, out_channels, kernel, stride),
                       nn.ReLU()]
            channels = out_channels
        size = valid_padding(size, 2, 2)
        layers += [nn.Conv2d(channels, channels, 2, 2), nn.ReLU(), nn.Flatten()]
        self.base = nn.Sequential(*layers)
        flat = channels * size[0] * size[1]
        self.pi = nn.Linear(flat, self.action_space.n)
        self.vf = nn.Linear(flat, 1)
        normc_initializer(0.01)(self.pi.weight)

    def _embed(self, batch):
        return self.base(batch[Columns.OBS].permute(0, 3, 1, 2))

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(self._embed(batch))}

    @override(TorchRLModule)
    def _forward_train(self, batch, **kwargs):
        embeddings = self._embed(batch)
        return {Columns.ACTION_DIST_INPUTS: self.pi(embeddings), Columns.EMBEDDINGS: embeddings}

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        return self.vf(self._embed(batch) if embeddings is None else embeddings).squeeze(-1)
