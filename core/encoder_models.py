"""Encoder configs of the model layer (``rlmodules.models``): CNN, recurrent (LSTM/GRU) and
actor-critic encoders, RLlib's configs building torch encoders."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .columns import Columns
from .compat import same_padding, valid_padding
from .errors import ConfigError
from .model_base import ACTOR, CRITIC, Encoder, ModelConfig, TorchModel
from .networks import ENCODER_OUT, activation, initialized, initializer

__all__ = ["ActorCriticEncoderConfig", "CNNEncoderConfig", "RecurrentEncoderConfig"]


def _default_filters() -> list[list[Any]]:
    return [[16, 4, 2], [32, 4, 2], [64, 8, 2]]


@dataclasses.dataclass
class CNNEncoderConfig(ModelConfig):
    """A CNN encoder of channels-last images ``{"obs": [B, H, W, C]}``.

    ``cnn_filter_specifiers``: ``[out_channels, kernel, stride]`` or with a fourth entry
    ``"same"`` (the default) / ``"valid"`` / an int padding.
    """

    cnn_filter_specifiers: list[list[Any]] = dataclasses.field(default_factory=_default_filters)
    cnn_use_bias: bool = True
    cnn_activation: str | None = "relu"
    cnn_use_layernorm: bool = False
    cnn_kernel_initializer: Any = None
    cnn_kernel_initializer_config: dict | None = None
    cnn_bias_initializer: Any = None
    cnn_bias_initializer_config: dict | None = None
    flatten_at_end: bool = True

    def _layers(self) -> tuple[list[tuple[Any, ...]], tuple[int, int, int]]:
        """``[(in_ch, out_ch, kernel, stride, (l, r, t, b) padding), ...]`` and the output
        ``(H, W, C)``."""
        if not self.input_dims or len(self.input_dims) != 3:
            raise ConfigError(
                f"CNNEncoderConfig needs input_dims [H, W, C], got {self.input_dims!r}"
            )
        height, width, channels = (int(d) for d in self.input_dims)
        layers = []
        for spec in self.cnn_filter_specifiers:
            out_ch, kernel, stride = int(spec[0]), spec[1], spec[2]
            padding = spec[3] if len(spec) > 3 else "same"
            if padding == "same":
                pads, (height, width) = same_padding((height, width), kernel, stride)
            elif padding == "valid":
                pads, (height, width) = (0, 0, 0, 0), valid_padding((height, width), kernel,
                                                                    stride)
            else:
                pads = (int(padding),) * 4
                k = kernel if isinstance(kernel, int) else kernel[0]
                s = stride if isinstance(stride, int) else stride[0]
                height = (height + 2 * int(padding) - k) // s + 1
                width = (width + 2 * int(padding) - k) // s + 1
            layers.append((channels, out_ch, kernel, stride, pads))
            channels = out_ch
        return layers, (height, width, channels)

    @property
    def output_dims(self) -> tuple[int, ...]:
        height, width, channels = self._layers()[1]
        return (height * width * channels,) if self.flatten_at_end else (height, width, channels)

    def build(self, framework: str = "torch") -> Encoder:
        self._check_framework(framework)
        return _TorchCNNEncoder(self)


class _TorchCNNEncoder(TorchModel, Encoder):
    def __init__(self, config: CNNEncoderConfig) -> None:
        super().__init__(config)
        kernel_init = initializer(config.cnn_kernel_initializer,
                                  config.cnn_kernel_initializer_config)
        bias_init = initializer(config.cnn_bias_initializer, config.cnn_bias_initializer_config)
        layers: list[nn.Module] = []
        specs, _ = config._layers()
        for in_ch, out_ch, kernel, stride, pads in specs:
            if any(pads):
                layers.append(nn.ZeroPad2d(pads))
            conv = nn.Conv2d(in_ch, out_ch, kernel, stride, bias=config.cnn_use_bias)
            layers.append(initialized(conv, kernel_init, bias_init))
            if config.cnn_use_layernorm:
                layers.append(_ChannelLayerNorm(out_ch))
            layers.append(activation(config.cnn_activation))
        self.net = nn.Sequential(*layers)
        self.flatten = config.flatten_at_end

    def _forward(self, inputs: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = inputs[Columns.OBS]
        lead = obs.shape[:-3]
        features = self.net(obs.reshape(-1, *obs.shape[-3:]).permute(0, 3, 1, 2).float())
        features = features.flatten(1) if self.flatten else features.permute(0, 2, 3, 1)
        return {ENCODER_OUT: features.reshape(*lead, *features.shape[1:])}


class _ChannelLayerNorm(nn.Module):
    """LayerNorm over the channels of ``[B, C, H, W]`` feature maps."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@dataclasses.dataclass
class RecurrentEncoderConfig(ModelConfig):
    """An LSTM or GRU encoder of ``{"obs": [B, T, ...], "state_in": ...}``, optionally
    after a per-step ``tokenizer_config`` encoder. The state is ``{"h": [L, H]}`` (GRU)
    or ``{"h", "c"}`` (LSTM), unbatched as RLlib's."""

    recurrent_layer_type: str = "lstm"
    hidden_dim: int | None = None
    num_layers: int | None = None
    batch_major: bool = True
    use_bias: bool = True
    tokenizer_config: ModelConfig | None = None

    @property
    def output_dims(self) -> tuple[int, ...]:
        if self.hidden_dim is None:
            raise ConfigError("RecurrentEncoderConfig needs hidden_dim, e.g. 64")
        return (int(self.hidden_dim),)

    def build(self, framework: str = "torch") -> Encoder:
        self._check_framework(framework)
        if self.recurrent_layer_type not in ("lstm", "gru"):
            raise ConfigError(
                f"RecurrentEncoderConfig.recurrent_layer_type must be 'lstm' or 'gru', got "
                f"{self.recurrent_layer_type!r}"
            )
        return _TorchRecurrentEncoder(self)


class _TorchRecurrentEncoder(TorchModel, Encoder):
    def __init__(self, config: RecurrentEncoderConfig) -> None:
        super().__init__(config)
        self.tokenizer = None if config.tokenizer_config is None else (
            config.tokenizer_config.build(framework="torch"))
        token_dims = None if config.tokenizer_config is None else (
            config.tokenizer_config.output_dims)
        in_dim = token_dims[-1] if token_dims else config._input_dim()
        rnn = nn.LSTM if config.recurrent_layer_type == "lstm" else nn.GRU
        self.num_layers = int(config.num_layers or 1)
        self.rnn = rnn(int(in_dim), config.output_dims[0], self.num_layers,
                       bias=config.use_bias, batch_first=True)
        self.keys = ("h", "c") if config.recurrent_layer_type == "lstm" else ("h",)

    def get_initial_state(self) -> dict[str, Any]:
        return {k: torch.zeros(self.num_layers, self.rnn.hidden_size) for k in self.keys}

    def _forward(self, inputs: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = inputs[Columns.OBS]
        if self.tokenizer is not None:
            steps = obs.shape[:2]
            obs = self.tokenizer({Columns.OBS: obs.reshape(-1, *obs.shape[2:])})[ENCODER_OUT]
            obs = obs.reshape(*steps, -1)
        state = inputs[Columns.STATE_IN]
        hidden = tuple(state[k].transpose(0, 1).contiguous() for k in self.keys)  # [L, B, H]
        out, new = self.rnn(obs.float(), hidden if len(hidden) > 1 else hidden[0])
        new = new if isinstance(new, tuple) else (new,)
        return {ENCODER_OUT: out,
                Columns.STATE_OUT: {k: v.transpose(0, 1) for k, v in zip(self.keys, new)}}


@dataclasses.dataclass
class ActorCriticEncoderConfig(ModelConfig):
    """Actor and critic encoders from one ``base_encoder_config``: ``encoder_out`` is
    ``{"actor": ..., "critic": ...}``, the same features when ``shared``; an
    ``inference_only`` build has no critic encoder."""

    base_encoder_config: ModelConfig | None = None
    shared: bool = True
    inference_only: bool = False

    @property
    def output_dims(self) -> tuple[int, ...] | None:
        return None if self.base_encoder_config is None else self.base_encoder_config.output_dims

    def build(self, framework: str = "torch") -> Encoder:
        self._check_framework(framework)
        if self.base_encoder_config is None:
            raise ConfigError("ActorCriticEncoderConfig needs base_encoder_config")
        return _TorchActorCriticEncoder(self)


class _TorchActorCriticEncoder(TorchModel, Encoder):
    def __init__(self, config: ActorCriticEncoderConfig) -> None:
        super().__init__(config)
        base = config.base_encoder_config
        assert base is not None  # checked by build()
        self.actor_encoder: Any = base.build(framework="torch")
        self.critic_encoder: Any = None
        if not config.shared and not config.inference_only:
            self.critic_encoder = base.build(framework="torch")

    def get_initial_state(self) -> dict[str, Any]:
        actor = self.actor_encoder.get_initial_state()
        if self.critic_encoder is None:
            return actor
        critic = self.critic_encoder.get_initial_state()
        return {ACTOR: actor, CRITIC: critic} if actor or critic else {}

    def _forward(self, inputs: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        if self.critic_encoder is None:
            out = self.actor_encoder(inputs)
            features = out[ENCODER_OUT]
            result = {ENCODER_OUT: {ACTOR: features, CRITIC: features}}
            if Columns.STATE_OUT in out:
                result[Columns.STATE_OUT] = out[Columns.STATE_OUT]
            return result
        state = inputs.get(Columns.STATE_IN)
        parts = {}
        for key, encoder in ((ACTOR, self.actor_encoder), (CRITIC, self.critic_encoder)):
            part = dict(inputs)
            if state is not None:
                part[Columns.STATE_IN] = state[key]
            parts[key] = encoder(part)
        result = {ENCODER_OUT: {k: v[ENCODER_OUT] for k, v in parts.items()}}
        if state is not None:
            result[Columns.STATE_OUT] = {k: v[Columns.STATE_OUT] for k, v in parts.items()}
        return result
