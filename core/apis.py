"""RLlib's RLModule API mixins, under RLlib's names and signatures.

A module declares what it offers by inheriting these next to its base class
(``class MyModule(TorchRLModule, ValueFunctionAPI)``); algorithms and the library test for
them with ``isinstance``. Each is an abstract interface: an implementing module overrides
every abstract method.

Example::

    class ActorCritic(TorchRLModule, ValueFunctionAPI):
        def compute_values(self, batch, embeddings=None):
            return self.vf(batch[Columns.OBS]).squeeze(-1)
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = [
    "TARGET_NETWORK_ACTION_DIST_INPUTS",
    "InferenceOnlyAPI",
    "QNetAPI",
    "SelfSupervisedLossAPI",
    "TargetNetworkAPI",
    "ValueFunctionAPI",
]

#: Output key of ``forward_target`` for the target network's action-distribution inputs.
TARGET_NETWORK_ACTION_DIST_INPUTS = "target_network_action_dist_inputs"


class ValueFunctionAPI(abc.ABC):
    """A module with a state-value function (needed by PPO's GAE and value loss)."""

    @abc.abstractmethod
    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> Any:
        """Value estimates ``[B]`` (or ``[B, T]``) for ``batch``.

        ``embeddings`` (e.g. ``forward_train``'s ``embeddings`` output) let the module skip
        its encoder; ``None`` means: compute from ``batch``. PPO calls this on the train
        batch before ``forward_train`` (so a module may prepare the batch here).
        """


class InferenceOnlyAPI(abc.ABC):
    """A module whose ``inference_only`` build leaves out training-only sub-modules.

    The attributes named by :meth:`get_non_inference_attributes` (dotted paths for nested
    ones, e.g. ``"encoder.critic_encoder"``) are deleted from an ``inference_only`` build
    after ``setup()`` (RLlib 2.60's ``delattr``: ``hasattr`` is then False), and
    ``get_state(inference_only=True)`` of a full module drops their weights, so a full
    module's state loads into an inference-only build.
    """

    @abc.abstractmethod
    def get_non_inference_attributes(self) -> list[str]:
        """Attribute paths of the sub-modules that only training needs (e.g. ``["vf"]``)."""


class TargetNetworkAPI(abc.ABC):
    """A module with target networks (DQN, SAC, ...); the algorithm syncs them."""

    @abc.abstractmethod
    def make_target_networks(self) -> None:
        """Create the target networks as copies of their main networks
        (``rlmodules.compat.make_target_network`` makes one)."""

    @abc.abstractmethod
    def get_target_network_pairs(self) -> list[tuple[Any, Any]]:
        """``[(main_net, target_net), ...]``, the pairs the algorithm syncs."""

    @abc.abstractmethod
    def forward_target(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The forward pass through the target network(s)."""


class SelfSupervisedLossAPI(abc.ABC):
    """A module that computes its own loss (e.g. a curiosity or world model), called by
    the learner instead of the algorithm's loss for this module."""

    @abc.abstractmethod
    def compute_self_supervised_loss(
        self,
        *,
        learner: Any,
        module_id: str,
        config: Any,
        batch: dict[str, Any],
        fwd_out: dict[str, Any],
    ) -> Any:
        """The loss tensor for this module (a scalar)."""


class QNetAPI(abc.ABC):
    """A module with a Q-function (value-based algorithms such as DQN)."""

    @abc.abstractmethod
    def compute_q_values(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Q-values as ``{"qf_preds": [B, A], ...}``."""

    def compute_advantage_distribution(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Distributional (C51-style) advantage outputs; ``{}`` where not distributional."""
        return {}
