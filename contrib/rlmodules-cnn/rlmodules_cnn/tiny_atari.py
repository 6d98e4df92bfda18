"""TinyAtariCNN: the seeds' tiny Atari-style CNN policy (a CNN body, policy and value heads)."""

from __future__ import annotations

from typing import Any

import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError, did_you_mean
from rlmodules.networks import ENCODER_OUT
from rlmodules.torch_rl_module import TorchRLModule
from torch import nn

from .encoder import CNNEncoder

__all__ = ["TinyAtariCNN"]

#: The ``model_config`` keys this module reads (a plain dict, as for any custom module).
CONFIG_KEYS = ("conv_filters", "conv_activation", "conv_data_format")


class TinyAtariCNN(TorchRLModule):
    """A small CNN actor-critic for image observations (registered as ``"tiny_atari_cnn"``).

    ``model_config`` keys: ``conv_filters`` (``[out_channels, kernel, stride]`` triples;
    default: the stack for the image size), ``conv_activation`` (default ``"relu"``) and
    ``conv_data_format`` (``"channels_last"`` / ``"channels_first"``; default: from the space).
    ``compute_values`` gives the critic's estimates.

    Example::

        module = TinyAtariCNN(observation_space=gym.spaces.Box(-1.0, 1.0, (64, 64, 4)),
                              action_space=gym.spaces.Discrete(7),
                              model_config={"conv_filters": [[16, 4, 2], [32, 4, 2]]})
    """

    def setup(self) -> None:
        config = dict(self.model_config)
        for key in config:
            if key not in CONFIG_KEYS:
                raise ConfigError(
                    f"TinyAtariCNN: unknown model_config key {key!r}."
                    f"{did_you_mean(key, CONFIG_KEYS)} Known keys: {', '.join(CONFIG_KEYS)}"
                )
        self.encoder = CNNEncoder(
            self.observation_space,
            conv_filters=config.get("conv_filters"),
            conv_activation=config.get("conv_activation", "relu"),
            data_format=config.get("conv_data_format"),
            kernel_init=nn.init.xavier_uniform_,
            bias_init=nn.init.zeros_,
        )
        dist_cls = self.get_train_action_dist_cls()
        self.pi = nn.Linear(self.encoder.output_dim, dist_cls.required_input_dim(self.action_space))
        self.vf = nn.Linear(self.encoder.output_dim, 1)

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.pi(self.encoder(batch)[ENCODER_OUT])}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        embeddings = self.encoder(batch)[ENCODER_OUT]
        return {Columns.ACTION_DIST_INPUTS: self.pi(embeddings), Columns.EMBEDDINGS: embeddings}

    def compute_values(
        self, batch: dict[str, Any], embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Value estimates ``[B]``; pass ``forward_train``'s ``embeddings`` to skip the CNN."""
        if embeddings is None:
            embeddings = self.encoder(batch)[ENCODER_OUT]
        return self.vf(embeddings).squeeze(-1)
