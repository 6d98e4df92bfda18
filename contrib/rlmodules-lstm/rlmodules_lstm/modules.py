"""LSTMContainingRLModule: the seeds' LSTM policy (LSTM -> dense layers -> policy and value
heads), registered as ``"lstm"``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError, SpaceError, did_you_mean
from rlmodules.networks import ENCODER_OUT, Encoder, mlp
from rlmodules.torch_rl_module import TorchRLModule
from torch import nn

from .encoder import LSTMEncoder

__all__ = ["LSTMContainingRLModule"]

#: ``model_config`` keys and their defaults (RLlib's example uses the same names).
CONFIG_DEFAULTS: dict[str, Any] = {
    "lstm_cell_size": 256,
    "dense_layers": [128, 128],
    "max_seq_len": 20,
}


class _BoxFeatures(Encoder):
    """The 1-D Box observation itself, as float features."""

    def __init__(self, observation_space: gym.Space) -> None:
        super().__init__()
        if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
            raise SpaceError(
                f"the 'lstm' module takes 1-D Box observations, got {observation_space}; for "
                f"other spaces use module_class='ppo' with model_config={{'use_lstm': True}}"
            )
        self.output_dim = int(observation_space.shape[0])

    def forward(self, batch: Any) -> dict[str, Any]:
        return {ENCODER_OUT: batch[Columns.OBS].float()}


class LSTMContainingRLModule(TorchRLModule):
    """A recurrent actor-critic: observations -> LSTM -> ReLU ``dense_layers`` -> heads.

    ``model_config`` keys: ``lstm_cell_size`` (256), ``dense_layers`` ([128, 128]),
    ``max_seq_len`` (20, the longest training chunk). State is ``{"h", "c"}``; every
    forward takes ``[B, T, ...]`` observations and ``state_in`` and returns ``state_out``;
    ``forward_train`` also takes ``seq_lens``. ``compute_values`` gives ``[B, T]`` values.

    Example::

        module = RLModuleSpec(module_class="lstm", observation_space=obs_space,
                              action_space=act_space, model_config={"lstm_cell_size": 64}).build()
        state = {k: v.expand(B, -1) for k, v in module.get_initial_state().items()}
        out = compute_actions(module, {"obs": obs_BxD, "state_in": state})  # out["state_out"]
    """

    def setup(self) -> None:
        config = self._config()
        self.encoder = LSTMEncoder(
            _BoxFeatures(self.observation_space),
            cell_size=config["lstm_cell_size"],
            max_seq_len=config["max_seq_len"],
        )
        dense = config["dense_layers"]
        self.dense = mlp(self.encoder.output_dim, dense, hidden_activation="relu")
        width = dense[-1] if dense else self.encoder.output_dim
        dist_cls = self.get_train_action_dist_cls()
        self.pi = nn.Linear(width, dist_cls.required_input_dim(self.action_space))
        self.vf = nn.Linear(width, 1)

    def _config(self) -> dict[str, Any]:
        config = dict(CONFIG_DEFAULTS)
        for key, value in dict(self.model_config).items():
            if key not in CONFIG_DEFAULTS:
                raise ConfigError(
                    f"LSTMContainingRLModule: unknown model_config key {key!r}."
                    f"{did_you_mean(key, CONFIG_DEFAULTS)} Known keys: {', '.join(CONFIG_DEFAULTS)}"
                )
            config[key] = value
        for key in ("lstm_cell_size", "max_seq_len"):
            value = config[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"LSTMContainingRLModule: model_config[{key!r}] must be a positive int, "
                    f"got {value!r}"
                )
        dense = config["dense_layers"]
        if not isinstance(dense, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in dense
        ):
            raise ConfigError(
                f"LSTMContainingRLModule: model_config['dense_layers'] must be a list of "
                f"positive ints (layer sizes), got {dense!r}"
            )
        return config

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS, Columns.STATE_IN]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def get_initial_state(self) -> dict[str, Any]:
        return self.encoder.get_initial_state()

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        embeddings, state_out = self._embeddings_and_state(batch)
        return {
            Columns.ACTION_DIST_INPUTS: self.pi(embeddings),
            Columns.STATE_OUT: state_out,
            Columns.EMBEDDINGS: embeddings,
        }

    def compute_values(
        self, batch: dict[str, Any], embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Value estimates ``[B, T]``; pass ``forward_train``'s ``embeddings`` to skip the LSTM."""
        if embeddings is None:
            embeddings, _ = self._embeddings_and_state(batch)
        return self.vf(embeddings).squeeze(-1)

    def _embeddings_and_state(self, batch: dict[str, Any]) -> tuple[torch.Tensor, Any]:
        encoded = self.encoder(batch)
        return self.dense(encoded[ENCODER_OUT]), encoded[Columns.STATE_OUT]
