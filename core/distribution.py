"""The action-distribution API (RLlib's ``Distribution``), lean on the per-step path.

Concrete distributions live in plugins and are registered by name (``"categorical"``,
``"diag_gaussian"``, ...). A class that needs to know its action space (e.g. the sizes of a
MultiDiscrete space) is configured with :meth:`Distribution.for_space`, which returns a
cached subclass whose ``from_logits`` knows the structure.
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["Distribution"]


class Distribution(abc.ABC):
    """An action distribution built from a module's ``action_dist_inputs``.

    Shapes: for inputs ``[B, D]`` (or ``[B, T, D]``), ``sample()`` returns actions of batch
    shape ``[B]`` (``[B, T]``) plus the action's own shape; ``logp`` and ``entropy`` reduce to
    the batch shape.

    Example::

        dist_cls = module.get_exploration_action_dist_cls()
        dist = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS])
        actions = dist.sample()
        logp = dist.logp(actions)
    """

    @classmethod
    @abc.abstractmethod
    def from_logits(cls, logits: Any, **kwargs: Any) -> Distribution:
        """Build the distribution from the flat network outputs (``action_dist_inputs``)."""

    @classmethod
    @abc.abstractmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        """Width of ``action_dist_inputs`` this class needs for ``space`` (raises if unsupported)."""

    @classmethod
    def for_space(cls, space: Any, **kwargs: Any) -> type[Distribution]:
        """This class configured for ``space`` (the class itself unless it needs structure)."""
        cls.required_input_dim(space, **kwargs)  # validates that the space is supported
        return cls

    @abc.abstractmethod
    def sample(self) -> Any:
        """Draw actions (no gradient)."""

    def rsample(self) -> Any:
        """Draw reparameterised actions (gradients flow to the inputs)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no reparameterised sample; use sample(), or a "
            f"continuous distribution such as 'diag_gaussian' for rsample()"
        )

    @abc.abstractmethod
    def logp(self, value: Any) -> Any:
        """Log-probability of ``value``, reduced to the batch shape."""

    @abc.abstractmethod
    def entropy(self) -> Any:
        """Entropy, reduced to the batch shape."""

    @abc.abstractmethod
    def kl(self, other: Distribution) -> Any:
        """KL(self || other), reduced to the batch shape."""

    @abc.abstractmethod
    def to_deterministic(self) -> Distribution:
        """The greedy counterpart (argmax / mean) whose ``sample()`` is deterministic."""
