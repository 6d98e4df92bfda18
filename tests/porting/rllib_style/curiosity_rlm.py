"""A forward-dynamics curiosity model in RLlib's SelfSupervisedLossAPI style: it computes
its own loss and lives on learners only (``learner_only=True`` in the spec)."""

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import SelfSupervisedLossAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.framework import try_import_torch
from ray.rllib.utils.torch_utils import one_hot

torch, nn = try_import_torch()


class ForwardCuriosityRLModule(TorchRLModule, SelfSupervisedLossAPI):
    @override(TorchRLModule)
    def setup(self):
        width = self.model_config.get("feature_dim", 16)
        self.features = nn.Sequential(nn.Linear(self.observation_space.shape[0], width),
                                      nn.ReLU())
        self.dynamics = nn.Linear(width + self.action_space.n, width)

    @override(TorchRLModule)
    def _forward_train(self, batch, **kwargs):
        phi = self.features(batch[Columns.OBS])
        next_phi = self.features(batch[Columns.NEXT_OBS])
        actions = one_hot(batch[Columns.ACTIONS], self.action_space)
        predicted = self.dynamics(torch.cat([phi, actions], dim=-1))
        surprise = 0.5 * (predicted - next_phi.detach()).pow(2).sum(-1)
        return {Columns.INTRINSIC_REWARDS: surprise}

    @override(SelfSupervisedLossAPI)
    def compute_self_supervised_loss(self, *, learner, module_id, config, batch, fwd_out):
        return fwd_out[Columns.INTRINSIC_REWARDS].mean()
