"""The off-policy learner (DQN, SAC): one gradient step per replayed batch.

The learner trains the single-agent module under ``"default_policy"``. Its optimizers each
cover one part of it (DQN: the Q-network; SAC: actor, critics and the temperature) and its
target networks follow through the module's ``get_target_network_pairs()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from rlmodules.errors import ConfigError
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .learner import Learner
from .rollout import tree_map

__all__ = ["OffPolicyLearner", "TD_ERROR", "require_methods", "polyak_update"]

#: Metric key of the per-sample TD errors ``[B]`` a loss may report (they become the new
#: priorities of a prioritized replay buffer; RLlib's key).
TD_ERROR = "td_error"


def require_methods(module: Any, methods: Mapping[str, str], algorithm: str) -> None:
    """Raise a ``ConfigError`` naming the first of ``methods`` (name -> what it returns)
    that ``module`` lacks."""
    for name, contract in methods.items():
        if not callable(getattr(module, name, None)):
            raise ConfigError(
                f"{type(module).__name__} cannot be trained with {algorithm}: it has no "
                f"{name}() method. Implement {name}: {contract} (RLlib's QNetAPI / "
                f"TargetNetworkAPI), or use the default {algorithm.lower()!r} module"
            )


def polyak_update(pairs: list[tuple[torch.nn.Module, torch.nn.Module]], tau: float) -> None:
    """``target <- tau * online + (1 - tau) * target`` for every pair (1.0: a copy)."""
    with torch.no_grad():
        online = [p for o, _ in pairs for p in o.parameters()]
        target = [p for _, t in pairs for p in t.parameters()]
        if tau == 1.0:
            torch._foreach_copy_(target, online)
        else:
            torch._foreach_lerp_(target, online, tau)
        for o, t in pairs:
            for ob, tb in zip(o.buffers(), t.buffers()):
                tb.copy_(ob)


class OffPolicyLearner(Learner):
    """Gradient steps on replayed batches; an algorithm gives :meth:`compute_losses` (and
    may split the parameters into parts, see :meth:`Learner.parameter_parts`).

    Example (inside an algorithm)::

        metrics, td_errors = learner.update(buffer.sample(64), timestep=algo.timesteps)
    """

    def setup(self) -> None:
        self.rl_module = self.module[DEFAULT_MODULE_ID]
        self.check_module(self.rl_module)
        #: The timestep of the last target-network update (None: none yet).
        self.last_target_update: int | None = None

    def check_module(self, module: Any) -> None:
        """Raise a ``ConfigError`` if ``module`` lacks a method this algorithm needs."""

    def named_trainable_parameters(self) -> list[tuple[str, torch.nn.Parameter]]:
        return [(n, p) for n, p in self.rl_module.named_parameters() if p.requires_grad]

    def parameter_parts(self) -> dict[str, tuple[Callable[[str], bool], str]]:
        """One optimizer over everything with ``lr``, named ``default`` in checkpoints."""
        return {"default": (lambda name: True, "lr")}

    def update(self, batch: Mapping[str, Any], *, timestep: int
               ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """One gradient step on a replayed ``batch`` (numpy arrays, as the buffer gives);
        the target networks are updated first when ``target_network_update_freq`` env
        steps have passed since the last update. Returns the metrics and the per-sample
        TD errors the loss reported (None if it reported none)."""
        t = self.config.training_settings
        if (self.last_target_update is None
                or timestep - self.last_target_update >= t["target_network_update_freq"]):
            if self.last_target_update is not None:
                polyak_update(self.rl_module.get_target_network_pairs(), t["tau"])
            self.last_target_update = timestep
        tensors = self.to_device(tree_map(torch.from_numpy, dict(batch)))
        self.set_learning_rates(timestep)
        self.rl_module.train()
        self.check_parameters_linked()
        metrics = self._step(tensors, timestep)
        return metrics, metrics.pop(TD_ERROR, None)
