"""A two-step (autoregressive) policy in RLlib's style: a discrete choice, then a
continuous one conditioned on it. The module samples the actions itself and names the
distribution of its ``action_dist_inputs`` by overriding only
``get_inference_action_dist_cls`` (exploration and training follow it, as in RLlib)."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.models.torch.torch_distributions import (
    TorchCategorical,
    TorchDiagGaussian,
    TorchMultiDistribution,
)
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch
from ray.rllib.utils.torch_utils import one_hot

torch, nn = try_import_torch()


class TwoStepActionsRLModule(TorchRLModule, ValueFunctionAPI):
    @override(TorchRLModule)
    def setup(self):
        choice, amount = self.action_space.spaces
        obs_dim = self.observation_space.shape[0]
        self.choice_net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(),
                                        nn.Linear(32, choice.n))
        self.amount_net = nn.Sequential(nn.Linear(obs_dim + choice.n, 32), nn.Tanh(),
                                        nn.Linear(32, 2 * amount.shape[0]))
        self.value_net = nn.Sequential(nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 1))
        self.lens = (int(choice.n), 2 * int(amount.shape[0]))

    def _act(self, batch, greedy):
        obs = batch[Columns.OBS]
        choice_logits = self.choice_net(obs)
        first = TorchCategorical.from_logits(choice_logits)
        choice = (first.to_deterministic() if greedy else first).sample()
        amount_inputs = self.amount_net(
            torch.cat([obs, one_hot(choice, self.action_space.spaces[0])], dim=-1))
        second = TorchDiagGaussian.from_logits(amount_inputs)
        amount = (second.to_deterministic() if greedy else second).sample()
        return {
            Columns.ACTIONS: (choice, amount),
            Columns.ACTION_DIST_INPUTS: torch.cat([choice_logits, amount_inputs], dim=-1),
        }

    @override(TorchRLModule)
    def _forward_inference(self, batch, **kwargs):
        return self._act(batch, greedy=True)

    @override(TorchRLModule)
    def _forward_exploration(self, batch, **kwargs):
        return self._act(batch, greedy=False)

    @override(TorchRLModule)
    def _forward_train(self, batch, **kwargs):
        # The taken actions condition the second step, so the logits match the rollout's.
        obs = batch[Columns.OBS]
        choice, _ = batch[Columns.ACTIONS]
        amount_inputs = self.amount_net(
            torch.cat([obs, one_hot(choice, self.action_space.spaces[0])], dim=-1))
        return {Columns.ACTION_DIST_INPUTS: torch.cat([self.choice_net(obs), amount_inputs], -1)}

    @override(ValueFunctionAPI)
    def compute_values(self, batch, embeddings=None):
        return self.value_net(batch[Columns.OBS]).squeeze(-1)

    @override(TorchRLModule)
    def get_inference_action_dist_cls(self):
        return TorchMultiDistribution.get_partial_dist_cls(
            child_distribution_cls_struct=(TorchCategorical, TorchDiagGaussian),
            input_lens=self.lens,
        )
