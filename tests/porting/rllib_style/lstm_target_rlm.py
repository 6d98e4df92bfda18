"""An LSTM module whose target networks exist only after ``make_target_networks()`` (the
learner calls it), with a value head an inference-only build leaves out."""

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
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class LSTMWithTargetRLModule(TorchRLModule, ValueFunctionAPI, TargetNetworkAPI, InferenceOnlyAPI):
    def setup(self):
        self._cell = self.model_config.get("lstm_cell_size", 16)
        self._lstm = nn.LSTM(self.observation_space.shape[0], self._cell, batch_first=True)
        self._fc_net = nn.Sequential(nn.Linear(self._cell, 16), nn.ReLU())
        self._pi_head = nn.Linear(16, self.action_space.n)
        self._values = nn.Linear(16, 1)

    def get_initial_state(self):
        return {"h": np.zeros((self._cell,), np.float32), "c": np.zeros((self._cell,), np.float32)}

    def _embed(self, batch, lstm, fc_net):
        state = batch[Columns.STATE_IN]
        out, (h, c) = lstm(batch[Columns.OBS], (state["h"].unsqueeze(0), state["c"].unsqueeze(0)))
        return fc_net(out), {"h": h.squeeze(0), "c": c.squeeze(0)}

    def _forward(self, batch, **kwargs):
        embeddings, state_out = self._embed(batch, self._lstm, self._fc_net)
        return {Columns.ACTION_DIST_INPUTS: self._pi_head(embeddings),
                Columns.STATE_OUT: state_out, Columns.EMBEDDINGS: embeddings}

    def compute_values(self, batch, embeddings=None):
        if embeddings is None:
            embeddings, _ = self._embed(batch, self._lstm, self._fc_net)
        return self._values(embeddings).squeeze(-1)

    def make_target_networks(self):
        self._old_lstm = make_target_network(self._lstm)
        self._old_fc_net = make_target_network(self._fc_net)
        self._old_pi_head = make_target_network(self._pi_head)

    def get_target_network_pairs(self):
        return [(self._lstm, self._old_lstm), (self._fc_net, self._old_fc_net),
                (self._pi_head, self._old_pi_head)]

    def forward_target(self, batch, **kwargs):
        embeddings, _ = self._embed(batch, self._old_lstm, self._old_fc_net)
        return {TARGET_NETWORK_ACTION_DIST_INPUTS: self._old_pi_head(embeddings)}

    def get_non_inference_attributes(self):
        return ["_old_lstm", "_old_fc_net", "_old_pi_head", "_values"]
