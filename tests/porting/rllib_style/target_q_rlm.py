"""A Q-network with a target network, in RLlib's TargetNetworkAPI / QNetAPI style."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.apis import (
    TARGET_NETWORK_ACTION_DIST_INPUTS,
    InferenceOnlyAPI,
    QNetAPI,
    TargetNetworkAPI,
)
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()

QF_PREDS = "qf_preds"


class TargetQRLModule(TorchRLModule, TargetNetworkAPI, QNetAPI, InferenceOnlyAPI):
    @override(TorchRLModule)
    def setup(self):
        self.q_net = nn.Sequential(
            nn.Linear(self.observation_space.shape[0], 32), nn.ReLU(),
            nn.Linear(32, self.action_space.n),
        )
        if not self.inference_only:
            self.make_target_networks()

    @override(TargetNetworkAPI)
    def make_target_networks(self):
        self.target_q_net = make_target_network(self.q_net)

    @override(TargetNetworkAPI)
    def get_target_network_pairs(self):
        return [(self.q_net, self.target_q_net)]

    @override(TargetNetworkAPI)
    def forward_target(self, batch, **kwargs):
        return {TARGET_NETWORK_ACTION_DIST_INPUTS: self.target_q_net(batch[Columns.OBS])}

    @override(QNetAPI)
    def compute_q_values(self, batch):
        return {QF_PREDS: self.q_net(batch[Columns.OBS])}

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self):
        return ["target_q_net"]

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        q_values = self.compute_q_values(batch)[QF_PREDS]
        return {Columns.ACTION_DIST_INPUTS: q_values, QF_PREDS: q_values}
