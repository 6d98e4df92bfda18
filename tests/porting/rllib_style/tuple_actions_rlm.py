"""A policy over a Tuple(Discrete, Box) action space through a partial
TorchMultiDistribution, in RLlib's style."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.models.torch.torch_distributions import (
    TorchCategorical,
    TorchDiagGaussian,
    TorchMultiDistribution,
)
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch

torch, nn = try_import_torch()


class TupleActionsRLModule(TorchRLModule):
    @override(TorchRLModule)
    def setup(self):
        discrete, box = self.action_space.spaces
        lens = [int(discrete.n), 2 * int(box.shape[0])]
        self.net = nn.Sequential(nn.Linear(self.observation_space.shape[0], 32), nn.Tanh(),
                                 nn.Linear(32, sum(lens)))
        self.action_dist_cls = TorchMultiDistribution.get_partial_dist_cls(
            space=self.action_space,
            child_distribution_cls_struct=(TorchCategorical, TorchDiagGaussian),
            input_lens=lens,
        )

    @override(TorchRLModule)
    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.net(batch[Columns.OBS])}
