"""GRUEncoder: a GRU read over the observation vector's features, one feature per step.

It keeps no state between env steps (a stateless encoder): ``obs [..., D]`` ->
``encoder_out [..., hidden]``, the GRU's last hidden state.
"""

from __future__ import annotations

from rlmodules import Columns, Encoder
from torch import nn


class GRUEncoder(Encoder):
    def __init__(self, features: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.features, self.output_dim = features, hidden

    def forward(self, batch):
        obs = batch[Columns.OBS].float()
        lead = obs.shape[:-1]
        _, last = self.gru(obs.reshape(-1, self.features, 1))
        return {"encoder_out": last[-1].reshape(*lead, self.output_dim)}
