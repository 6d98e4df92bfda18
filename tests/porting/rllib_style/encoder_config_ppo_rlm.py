"""RLlib's MobileNet pattern with a small encoder of its own: a DefaultPPOTorchRLModule
whose setup builds an actor-critic encoder from a custom ModelConfig and MLP heads, all
through ``build(framework="torch")``; trained on RLlib's RandomEnv."""

from dataclasses import dataclass

from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import (
    DefaultPPOTorchRLModule,
)
from ray.rllib.core.models.base import ENCODER_OUT, Encoder
from ray.rllib.core.models.configs import ActorCriticEncoderConfig, MLPHeadConfig, ModelConfig
from ray.rllib.core.models.torch.base import TorchModel
from ray.rllib.examples.envs.classes.random_env import RandomEnv  # noqa: F401 (the env)
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


@dataclass
class SmallImageEncoderConfig(ModelConfig):
    width: int = 16

    @property
    def output_dims(self):
        return (self.width,)

    def build(self, framework):
        assert framework == "torch", framework
        return SmallImageEncoder(self)


class SmallImageEncoder(TorchModel, Encoder):
    def __init__(self, config):
        super().__init__(config)
        # 3 x 8 x 8 images -> 4 x 3 x 3 feature maps -> width features
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, 2), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(36, config.width))

    def _forward(self, input_dict, **kwargs):
        return {ENCODER_OUT: self.net(input_dict["obs"])}


class EncoderConfigPPORLModule(DefaultPPOTorchRLModule):
    def setup(self):
        encoder_config = SmallImageEncoderConfig()
        self.encoder = ActorCriticEncoderConfig(
            base_encoder_config=encoder_config).build(framework="torch")
        dims = encoder_config.output_dims
        self.pi = MLPHeadConfig(input_dims=dims, output_layer_dim=self.action_space.n).build(
            framework="torch")
        self.vf = MLPHeadConfig(input_dims=dims, output_layer_dim=1).build(framework="torch")
