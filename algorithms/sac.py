"""SAC (Haarnoja et al. 2018): soft Q-learning with twin critics, a reparameterised actor
and an automatically tuned temperature ``alpha``.

Any module with RLlib's Q and target-network methods trains: ``compute_q_values(batch)``
and ``forward_target(batch)`` return ``{"qf_preds", "qf_twin_preds"?}`` (``[B]`` for
``batch["actions"]`` with Box actions, ``[B, A]`` with Discrete ones), the actor's
``action_dist_inputs`` come from ``forward_train``, and ``get_target_network_pairs()``
names the critics' targets. Parameters of the pairs' online networks form the critic
part (``critic_lr``); the others the actor (``actor_lr``); ``log_alpha`` is the learner's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import torch
from rlmodules.columns import Columns

from .offpolicy import OffPolicyAlgorithm
from .offpolicy_config import SACConfig
from .offpolicy_learner import TD_ERROR, OffPolicyLearner, require_methods
from .rollout import tree_map
from .sac_math import (
    actor_loss,
    actor_loss_discrete,
    alpha_loss,
    soft_next_value_discrete,
    soft_td_targets,
    target_entropy_auto,
)

__all__ = ["SAC", "SACConfig", "SACLearner", "SAC_API"]

#: The methods SAC calls on a module besides ``forward_train``, and what each returns.
SAC_API = {
    "compute_q_values": "batch with 'obs' and 'actions' -> {'qf_preds': [B], "
                        "'qf_twin_preds': [B]} (online critics; [B, A] for Discrete actions)",
    "forward_target": "the same from the target critics",
    "get_target_network_pairs": "() -> [(online_critic, target_critic), ...]",
}
_TWIN = "qf_twin_preds"


class SACLearner(OffPolicyLearner):
    """Critic, actor and temperature losses from one replayed batch, one optimizer each."""

    def check_module(self, module: Any) -> None:
        require_methods(module, SAC_API, "SAC")

    def setup(self) -> None:
        super().setup()
        t = self.config.training_settings
        self.log_alpha = torch.nn.Parameter(torch.tensor(math.log(t["initial_alpha"])))
        target = t["target_entropy"]
        space = self.rl_module.action_space
        self.target_entropy = target_entropy_auto(space) if target == "auto" else float(target)
        self.discrete = isinstance(space, gym.spaces.Discrete)
        self.critic_params = [p for online, _ in self.rl_module.get_target_network_pairs()
                              for p in online.parameters()]

    def parameter_parts(self) -> dict[str, tuple[Callable[[str], bool], str]]:
        critic = {id(p) for p in self.critic_params}
        names = {n for n, p in self.rl_module.named_parameters() if id(p) in critic}
        return {"critic": (lambda name: name in names, "critic_lr"),
                "actor": (lambda name: name not in names and name != "log_alpha", "actor_lr"),
                "alpha": (lambda name: name == "log_alpha", "alpha_lr")}

    def named_trainable_parameters(self) -> list[tuple[str, torch.nn.Parameter]]:
        return [*super().named_trainable_parameters(), ("log_alpha", self.log_alpha)]

    def compute_losses(self, batch: Mapping[str, Any], timestep: int
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        module = self.rl_module
        alpha = self.log_alpha.exp().detach()
        obs, next_obs = batch[Columns.OBS], batch[Columns.NEXT_OBS]
        dist_cls = module.get_train_action_dist_cls()
        # One actor pass over s and s' together: the policy at s trains, at s' bootstraps.
        both = tree_map(lambda now, later: torch.cat([now, later]), obs, next_obs)
        dist_inputs = module.forward_train({Columns.OBS: both})[Columns.ACTION_DIST_INPUTS]
        size = batch[Columns.REWARDS].shape[0]
        inputs_now, inputs_next = dist_inputs[:size], dist_inputs[size:].detach()
        if self.discrete:
            return self._discrete_losses(batch, inputs_now, inputs_next, alpha)
        with torch.no_grad():
            next_dist = dist_cls.from_logits(inputs_next)
            next_actions = next_dist.sample()
            next_logp = next_dist.logp(next_actions)
            target = module.forward_target({Columns.OBS: next_obs, Columns.ACTIONS: next_actions})
            y = soft_td_targets(batch[Columns.REWARDS], batch["discounts"],
                                batch[Columns.TERMINATEDS], _q_min(target), next_logp, alpha)
        q = module.compute_q_values({Columns.OBS: obs, Columns.ACTIONS: batch[Columns.ACTIONS]})
        critic_loss, td_error = self._critic_loss(q, y, batch.get("weights"))
        dist = dist_cls.from_logits(inputs_now)
        actions = dist.rsample()
        logp = dist.logp(actions)
        with _frozen(self.critic_params):
            q_pi = _q_min(module.compute_q_values({Columns.OBS: obs, Columns.ACTIONS: actions}))
        policy_loss = actor_loss(logp, q_pi, alpha)
        temperature_loss = alpha_loss(self.log_alpha, logp, self.target_entropy)
        return critic_loss + policy_loss + temperature_loss, self._metrics(
            critic_loss, policy_loss, temperature_loss, alpha, logp, q, td_error)

    def _discrete_losses(self, batch: Mapping[str, Any], inputs_now: torch.Tensor,
                         inputs_next: torch.Tensor, alpha: torch.Tensor
                         ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        module = self.rl_module
        obs = batch[Columns.OBS]
        with torch.no_grad():
            target = module.forward_target({Columns.OBS: batch[Columns.NEXT_OBS]})
            next_v = soft_next_value_discrete(inputs_next.softmax(-1), _q_min(target), alpha)
            y = batch[Columns.REWARDS] + batch["discounts"] * \
                (~batch[Columns.TERMINATEDS]).float() * next_v
        q_all = module.compute_q_values({Columns.OBS: obs})
        index = batch[Columns.ACTIONS].long()[:, None]
        q = {k: v.gather(-1, index).squeeze(-1) for k, v in q_all.items()}
        critic_loss, td_error = self._critic_loss(q, y, batch.get("weights"))
        probs = inputs_now.softmax(-1)
        policy_loss, expected_logp = actor_loss_discrete(
            probs, _q_min({k: v.detach() for k, v in q_all.items()}), alpha)
        temperature_loss = alpha_loss(self.log_alpha, expected_logp, self.target_entropy)
        return critic_loss + policy_loss + temperature_loss, self._metrics(
            critic_loss, policy_loss, temperature_loss, alpha, expected_logp, q, td_error)

    @staticmethod
    def _critic_loss(q: Mapping[str, torch.Tensor], y: torch.Tensor,
                     weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``0.5 sum_j E[w (Q_j - y)^2]`` over the critics; TD errors of the first."""
        loss = q[Columns.QF_PREDS].new_zeros(())
        for values in q.values():
            squared = (values - y) ** 2
            loss = loss + 0.5 * (squared.mean() if weights is None else (weights * squared).mean())
        return loss, (q[Columns.QF_PREDS] - y).detach()

    @staticmethod
    def _metrics(critic_loss: torch.Tensor, policy_loss: torch.Tensor,
                 temperature_loss: torch.Tensor, alpha: torch.Tensor, logp: torch.Tensor,
                 q: Mapping[str, torch.Tensor], td_error: torch.Tensor
                 ) -> dict[str, torch.Tensor]:
        return {"qf_loss": critic_loss.detach(), "policy_loss": policy_loss.detach(),
                "alpha_loss": temperature_loss.detach(), "alpha_value": alpha,
                "entropy": -logp.detach().mean(), "qf_mean": q[Columns.QF_PREDS].detach().mean(),
                TD_ERROR: td_error}

    # --- the temperature: its own optimizer and checkpointed value ---------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"log_alpha": self.log_alpha.detach().clone()}

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        with torch.no_grad():
            self.log_alpha.copy_(tensors["log_alpha"])


def _q_min(out: Mapping[str, torch.Tensor]) -> torch.Tensor:
    q = out[Columns.QF_PREDS]
    return torch.minimum(q, out[_TWIN]) if _TWIN in out else q


class _frozen:
    """Within the block, ``params`` take no gradient (the actor's loss flows through the
    critics to the actions without training them)."""

    def __init__(self, params: list[torch.nn.Parameter]) -> None:
        self.params = params

    def __enter__(self) -> None:
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc: Any) -> None:
        for p in self.params:
            p.requires_grad_(True)


class SAC(OffPolicyAlgorithm):
    """Soft Actor-Critic over gymnasium vector envs with a replay buffer; built by
    ``SACConfig``. Box actions (squashed Gaussian) or Discrete ones (categorical).

    Example::

        algo = SACConfig().environment("Pendulum-v1").debugging(seed=0).build()
        while algo.train()["episode_return_mean"] < -200:
            pass
    """

    default_module_class = "rlmodules/sac"
    learner_class = SACLearner
