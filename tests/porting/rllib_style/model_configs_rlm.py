"""A module assembled from RLlib's model configs, with an encoder config of its own
(the pattern of RLlib's MobileNet example)."""

import dataclasses

from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Encoder
from ray.rllib.core.models.configs import MLPHeadConfig, ModelConfig
from ray.rllib.core.models.torch.base import TorchModel
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


@dataclasses.dataclass
class ResidualEncoderConfig(ModelConfig):
    width: int = 32

    @property
    def output_dims(self):
        return (self.width,)

    def build(self, framework="torch"):
        return ResidualEncoder(self)


class ResidualEncoder(TorchModel, Encoder):
    def __init__(self, config):
        TorchModel.__init__(self, config)
        self.inp = nn.Linear(config.input_dims[0], config.width)
        self.block = nn.Sequential(nn.Tanh(), nn.Linear(config.width, config.width))

    def _forward(self, input_dict, **kwargs):
        hidden = self.inp(input_dict[Columns.OBS])
        return {ENCODER_OUT: torch.tanh(hidden + self.block(hidden))}


class ModelConfigRLModule(TorchRLModule, ValueFunctionAPI):
    @override(TorchRLModule)
    def setup(self):
        encoder_config = ResidualEncoderConfig(input_dims=self.observation_space.shape)
        self.encoder = encoder_config.build(framework="torch")
        self.pi = MLPHeadConfig(
            input_dims=encoder_config.output_dims, hidden_layer_dims=[16],
            hidden_layer_activation="relu", output_layer_dim=self.action_space.n,
        ).build(framework="torch")
        self.vf = MLPHeadConfig(
            input_dims=encoder_config.output_dims, hidden_layer_dims=[16], output_layer_dim=1,
        ).build(framework="torch")

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.pi(self.encoder(batch)[ENCODER_OUT])}

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        return self.vf(self.encoder(batch)[ENCODER_OUT]).squeeze(-1)
