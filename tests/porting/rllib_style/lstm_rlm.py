"""A recurrent module in RLlib's style (numpy initial state, [B, T] batches), and a
variant with a target network."""

import numpy as np
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.apis import (
    TARGET_NETWORK_ACTION_DIST_INPUTS,
    InferenceOnlyAPI,
    TargetNetworkAPI,
    ValueFunctionAPI,
)
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class RecurrentRLModule(TorchRLModule, ValueFunctionAPI):
    @override(TorchRLModule)
    def setup(self):
        self.cell_size = self.model_config.get("lstm_cell_size", 16)
        self.lstm = nn.LSTM(self.observation_space.shape[0], self.cell_size, batch_first=True)
        self.logits = nn.Linear(self.cell_size, self.action_space.n)
        self.values = nn.Linear(self.cell_size, 1)

    @override(TorchRLModule)
    def get_initial_state(self):
        return {"h": np.zeros((self.cell_size,), np.float32),
                "c": np.zeros((self.cell_size,), np.float32)}

    def _features(self, batch, lstm=None):
        state = batch[Columns.STATE_IN]
        features, (h, c) = (lstm or self.lstm)(
            batch[Columns.OBS], (state["h"].unsqueeze(0), state["c"].unsqueeze(0))
        )
        return features, {"h": h.squeeze(0), "c": c.squeeze(0)}

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        features, state_out = self._features(batch)
        return {Columns.ACTION_DIST_INPUTS: self.logits(features), Columns.STATE_OUT: state_out}

    @override(TorchRLModule)
    def _forward_train(self, batch, **kwargs):
        features, state_out = self._features(batch)
        return {Columns.ACTION_DIST_INPUTS: self.logits(features), Columns.STATE_OUT: state_out,
                Columns.EMBEDDINGS: features}

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        if embeddings is None:
            embeddings, _ = self._features(batch)
        return self.values(embeddings).squeeze(-1)


class RecurrentTargetRLModule(RecurrentRLModule, TargetNetworkAPI, InferenceOnlyAPI):
    @override(RecurrentRLModule)
    def setup(self):
        super().setup()
        if not self.inference_only:
            self.make_target_networks()

    @override(TargetNetworkAPI)
    def make_target_networks(self):
        self.target_lstm = make_target_network(self.lstm)
        self.target_logits = make_target_network(self.logits)

    @override(TargetNetworkAPI)
    def get_target_network_pairs(self):
        return [(self.lstm, self.target_lstm), (self.logits, self.target_logits)]

    @override(TargetNetworkAPI)
    def forward_target(self, batch, **kwargs):
        features, _ = self._features(batch, self.target_lstm)
        return {TARGET_NETWORK_ACTION_DIST_INPUTS: self.target_logits(features)}

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self):
        return ["target_lstm", "target_logits"]
