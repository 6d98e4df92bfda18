"""RLlib's model layer under RLlib's names: model configs that build torch models.

``MLPHeadConfig(input_dims=[32], hidden_layer_dims=[64], output_layer_dim=2).build(
framework="torch")`` gives an ``nn.Module`` mapping ``[B, 32]`` to ``[B, 2]``; encoder
configs build :class:`Encoder` s that map a batch ``{"obs": ...}`` to
``{"encoder_out": ...}`` (plus ``state_out`` for recurrent ones), the same encoder
contract the catalogs use. Subclass :class:`ModelConfig` and :class:`TorchModel` (with
:class:`Encoder`) for your own, as RLlib's MobileNet example does.

Example::

    head = MLPHeadConfig(input_dims=[16], hidden_layer_dims=[32],
                         output_layer_dim=4).build(framework="torch")
    logits = head(torch.zeros(8, 16))   # [8, 4]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .columns import Columns
from .encoder_models import (
    ActorCriticEncoderConfig,
    CNNEncoderConfig,
    RecurrentEncoderConfig,
)
from .errors import ConfigError
from .model_base import ACTOR, CRITIC, Encoder, Model, ModelConfig, TorchModel
from .networks import ENCODER_OUT, activation, initializer, linear, mlp

__all__ = [
    "ACTOR",
    "CRITIC",
    "ENCODER_OUT",
    "ActorCriticEncoderConfig",
    "CNNEncoderConfig",
    "Encoder",
    "FreeLogStdMLPHeadConfig",
    "MLPEncoderConfig",
    "MLPHeadConfig",
    "Model",
    "ModelConfig",
    "RecurrentEncoderConfig",
    "TorchModel",
]

@dataclasses.dataclass
class _MLPConfig(ModelConfig):
    hidden_layer_dims: list[int] | tuple[int, ...] = (256, 256)
    hidden_layer_use_bias: bool = True
    hidden_layer_activation: str | None = "relu"
    hidden_layer_use_layernorm: bool = False
    hidden_layer_weights_initializer: Any = None
    hidden_layer_weights_initializer_config: dict | None = None
    hidden_layer_bias_initializer: Any = None
    hidden_layer_bias_initializer_config: dict | None = None
    output_layer_dim: int | None = None
    output_layer_use_bias: bool = True
    output_layer_activation: str | None = "linear"
    output_layer_weights_initializer: Any = None
    output_layer_weights_initializer_config: dict | None = None
    output_layer_bias_initializer: Any = None
    output_layer_bias_initializer_config: dict | None = None
    clip_log_std: bool = False
    log_std_clip_param: float = 20.0

    @property
    def output_dims(self) -> tuple[int, ...]:
        if self.output_layer_dim is None and not self.hidden_layer_dims:
            raise ConfigError(
                f"{type(self).__name__} needs output_layer_dim or hidden_layer_dims"
            )
        return (int(self.output_layer_dim or self.hidden_layer_dims[-1]),)

    def _net(self, output_dim: int | None) -> nn.Sequential:
        hidden = mlp(
            self._input_dim(), self.hidden_layer_dims,
            hidden_activation=self.hidden_layer_activation,
            hidden_init=initializer(self.hidden_layer_weights_initializer,
                                    self.hidden_layer_weights_initializer_config),
            bias_init=initializer(self.hidden_layer_bias_initializer,
                                  self.hidden_layer_bias_initializer_config),
            bias=self.hidden_layer_use_bias, layernorm=self.hidden_layer_use_layernorm,
        )
        if output_dim is None:
            return hidden
        width = int(self.hidden_layer_dims[-1]) if self.hidden_layer_dims else self._input_dim()
        output = linear(
            width, output_dim, bias=self.output_layer_use_bias,
            weight_init=initializer(self.output_layer_weights_initializer,
                                    self.output_layer_weights_initializer_config),
            bias_init=initializer(self.output_layer_bias_initializer,
                                  self.output_layer_bias_initializer_config),
        )
        return nn.Sequential(*hidden, output, activation(self.output_layer_activation))


class _TorchMLPHead(TorchModel):
    def __init__(self, config: MLPHeadConfig) -> None:
        super().__init__(config)
        self.net = config._net(config.output_layer_dim)
        self.clip = config.log_std_clip_param if config.clip_log_std else None

    def _forward(self, inputs: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        out = self.net(inputs)
        if self.clip is None:
            return out
        mean, log_std = out.chunk(2, dim=-1)
        return torch.cat([mean, log_std.clamp(-self.clip, self.clip)], dim=-1)


class _TorchFreeLogStdMLPHead(TorchModel):
    def __init__(self, config: FreeLogStdMLPHeadConfig) -> None:
        super().__init__(config)
        width = config.output_dims[0]
        if width % 2:
            raise ConfigError(
                f"FreeLogStdMLPHeadConfig needs an even output_layer_dim (means and "
                f"log-stds), got {width}"
            )
        self.net = config._net(width // 2)
        self.log_std = nn.Parameter(torch.zeros(width // 2))
        self.clip = config.log_std_clip_param if config.clip_log_std else None

    def _forward(self, inputs: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        mean = self.net(inputs)
        log_std = self.log_std if self.clip is None else self.log_std.clamp(-self.clip, self.clip)
        return torch.cat([mean, log_std.expand_as(mean)], dim=-1)


@dataclasses.dataclass
class MLPHeadConfig(_MLPConfig):
    """An MLP head: ``[..., input_dims[-1]] -> [..., output_dims[0]]``."""

    def build(self, framework: str = "torch") -> nn.Module:
        self._check_framework(framework)
        return _TorchMLPHead(self)


@dataclasses.dataclass
class FreeLogStdMLPHeadConfig(_MLPConfig):
    """A Gaussian head whose log-stds are learned constants: the network outputs the
    means (half of ``output_layer_dim``), the rest is one parameter vector."""

    def build(self, framework: str = "torch") -> nn.Module:
        self._check_framework(framework)
        return _TorchFreeLogStdMLPHead(self)


class _TorchMLPEncoder(TorchModel, Encoder):
    def __init__(self, config: MLPEncoderConfig) -> None:
        super().__init__(config)
        self.net = config._net(config.output_layer_dim)

    def _forward(self, inputs: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {ENCODER_OUT: self.net(inputs[Columns.OBS])}


@dataclasses.dataclass
class MLPEncoderConfig(_MLPConfig):
    """An MLP encoder of 1-D observations ``{"obs": [..., D]}``."""

    def build(self, framework: str = "torch") -> Encoder:
        self._check_framework(framework)
        return _TorchMLPEncoder(self)
