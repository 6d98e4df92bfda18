"""Acting forwards run in eval mode and forward_train in train mode, as PyTorch users (and
RLlib) expect; the module's own mode is restored afterwards."""

from __future__ import annotations

import gymnasium as gym
import torch
from rlmodules import Columns, TorchRLModule, compute_actions


class DropoutNormPolicy(TorchRLModule):
    def setup(self):
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
            torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))

    def _forward(self, batch, **kwargs):
        return {Columns.ACTION_DIST_INPUTS: self.net(batch[Columns.OBS])}


def test_acting_is_deterministic_and_leaves_batch_norm_statistics_alone():
    torch.manual_seed(0)
    module = DropoutNormPolicy(observation_space=gym.spaces.Box(-1, 1, (4,)),
                               action_space=gym.spaces.Discrete(2))
    assert module.training  # a fresh nn.Module is in train mode
    obs = torch.randn(64, 4)
    stats = module.net[1].running_mean.clone()
    first = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    for _ in range(5):
        again = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
        assert torch.equal(first, again)
        compute_actions(module, {Columns.OBS: obs}, explore=True)
    assert torch.equal(module.net[1].running_mean, stats)
    assert module.training and module.net[3].training  # the mode is restored
    module.eval()
    out = module.forward_train({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    assert not torch.equal(out, first)  # dropout on, batch statistics used
    assert not torch.equal(module.net[1].running_mean, stats)
    assert not module.training and not module.net[3].training
