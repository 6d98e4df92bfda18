"""DQN (Mnih et al. 2015) with Double-Q, dueling and distributional (C51) options.

Any module with RLlib's Q and target-network methods trains: ``compute_q_values(batch)``
and ``forward_target(batch)`` returning ``{"qf_preds": [B, A]}`` (plus ``"qf_logits"``
``[B, A, N]``, ``"qf_probs"`` and ``"atoms"`` ``[N]`` when distributional) and
``get_target_network_pairs()``. Dueling is the module's business (its model config gets
``dueling``, ``double_q``, ``num_atoms``, ``v_min``, ``v_max`` from the training settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError

from .dqn_math import c51_loss, c51_projection, greedy_next_q, huber_td_loss, td_targets
from .offpolicy import OffPolicyAlgorithm
from .offpolicy_config import DQNConfig
from .offpolicy_learner import TD_ERROR, OffPolicyLearner, require_methods
from .schedules import schedule_value

__all__ = ["DQN", "DQNConfig", "DQNLearner", "Q_API"]

#: The methods DQN calls on a module, and what each must return.
Q_API = {
    "compute_q_values": "batch -> {'qf_preds': [B, num_actions]} (online network)",
    "forward_target": "batch -> {'qf_preds': [B, num_actions]} (target network)",
    "get_target_network_pairs": "() -> [(online_net, target_net), ...]",
}
_QF_LOGITS, _QF_PROBS, _ATOMS = "qf_logits", "qf_probs", "atoms"


class DQNLearner(OffPolicyLearner):
    """The TD loss on replayed transitions: Huber (or C51 cross-entropy), weighted by the
    prioritized buffer's importance weights when there are any."""

    def check_module(self, module: Any) -> None:
        require_methods(module, Q_API, "DQN")

    def compute_losses(self, batch: Mapping[str, Any], timestep: int
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        module = self.rl_module
        t = self.config.training_settings
        online = module.compute_q_values({Columns.OBS: batch[Columns.OBS]})
        actions = batch[Columns.ACTIONS].long()
        with torch.no_grad():
            next_batch = {Columns.OBS: batch[Columns.NEXT_OBS]}
            target = module.forward_target(next_batch)
            chooser = module.compute_q_values(next_batch) if t["double_q"] else target
        if t["num_atoms"] > 1:
            per_sample, td_error = self._c51(online, target, chooser, batch, actions)
        else:
            q = online[Columns.QF_PREDS].gather(-1, actions[:, None]).squeeze(-1)
            with torch.no_grad():
                next_q = greedy_next_q(target[Columns.QF_PREDS],
                                       chooser[Columns.QF_PREDS] if t["double_q"] else None)
                y = td_targets(batch[Columns.REWARDS], batch["discounts"],
                               batch[Columns.TERMINATEDS], next_q)
            per_sample = huber_td_loss(q, y)
            td_error = (q - y).detach()
        weights = batch.get("weights")
        loss = per_sample.mean() if weights is None else (weights * per_sample).mean()
        metrics = {"qf_loss": loss.detach(), "qf_mean": online[Columns.QF_PREDS].detach().mean(),
                   "td_error_abs_mean": td_error.abs().mean(), TD_ERROR: td_error}
        return loss, metrics

    def _c51(self, online: Mapping[str, Any], target: Mapping[str, Any],
             chooser: Mapping[str, Any], batch: Mapping[str, Any], actions: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        for out, where in ((online, "compute_q_values"), (target, "forward_target")):
            if _QF_LOGITS not in out or _QF_PROBS not in out or _ATOMS not in out:
                raise ConfigError(
                    f"num_atoms > 1 needs a distributional module: {where}() must also return "
                    f"{_QF_LOGITS!r} [B, A, N], {_QF_PROBS!r} [B, A, N] and {_ATOMS!r} [N]; "
                    f"got {sorted(out)}"
                )
        atoms = target[_ATOMS]
        index = actions[:, None, None].expand(-1, 1, atoms.numel())
        logits = online[_QF_LOGITS].gather(1, index).squeeze(1)                    # [B, N]
        with torch.no_grad():
            next_actions = chooser[Columns.QF_PREDS].argmax(-1)
            next_index = next_actions[:, None, None].expand(-1, 1, atoms.numel())
            next_probs = target[_QF_PROBS].gather(1, next_index).squeeze(1)        # [B, N]
            projected = c51_projection(batch[Columns.REWARDS], batch["discounts"],
                                       batch[Columns.TERMINATEDS], next_probs, atoms)
        per_sample = c51_loss(logits, projected)
        return per_sample, per_sample.detach()


class DQN(OffPolicyAlgorithm):
    """Deep Q-learning over gymnasium vector envs with a replay buffer; built by
    ``DQNConfig``. Exploration is epsilon-greedy on the ``epsilon`` schedule.

    Example::

        algo = DQNConfig().environment("CartPole-v1").debugging(seed=0).build()
        while algo.train()["episode_return_mean"] < 475:
            pass
    """

    default_module_class = "rlmodules/dqn"
    learner_class = DQNLearner

    def exploration_fraction(self, timestep: int) -> float:
        return schedule_value(self.config.training_settings["epsilon"], timestep)
