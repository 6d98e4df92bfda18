"""The action-distribution API (RLlib's ``Distribution``), lean on the per-step path.

Concrete distributions live in plugins and are registered by name (``"categorical"``,
``"diag_gaussian"``, ...). :meth:`Distribution.for_space` returns a cached subclass that knows
its action space (widths, MultiDiscrete sizes, Tuple/Dict children, Box bounds), so that
``module.get_exploration_action_dist_cls().from_logits(logits)`` needs no other argument and
checks the width of ``logits``.
"""

from __future__ import annotations

import abc
import json
from typing import Any, ClassVar

from .errors import ConfigError, SpaceError

__all__ = ["Distribution"]

# (unconfigured class, space as canonical JSON, configuration key) -> configured subclass.
_CONFIGURED: dict[tuple[type, str, Any], type] = {}


class Distribution(abc.ABC):
    """An action distribution built from a module's ``action_dist_inputs``.

    Shapes: for inputs ``[B, D]`` (or ``[B, T, D]``), ``sample()`` returns actions of batch
    shape ``[B]`` (``[B, T]``) plus the action's own shape; ``logp`` and ``entropy`` reduce to
    the batch shape.

    A distribution knows its action space, built-in or a plugin's alike: every class a
    module acts or learns with is ``YourDist.for_space(action_space)``, a partial class (as
    RLlib's ``get_partial_dist_cls``) whose ``space`` is the action space and ``input_dim``
    its width. So ``from_logits`` reads what it needs from ``cls.space`` (a Beta scales to
    ``cls.space.low`` / ``cls.space.high``), and ``required_input_dim(space)`` refuses a
    space it cannot serve with a ``SpaceError``. (A module that sets ``self.action_dist_cls``
    itself sets ``YourDist.for_space(self.action_space)``.)

    Example::

        dist_cls = module.get_exploration_action_dist_cls()
        dist = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS])
        actions = dist.sample()
        logp = dist.logp(actions)
    """

    #: The action space a class made by :meth:`for_space` serves (``None`` if unconfigured).
    space: ClassVar[Any] = None
    #: Width of ``action_dist_inputs`` for :attr:`space` (``None`` if unconfigured).
    input_dim: ClassVar[int | None] = None
    #: True where the inputs are means then log-stds (the Gaussians): the default
    #: catalogs then build a policy head that clips log-stds and honours ``free_log_std``.
    inputs_are_mean_and_log_std: ClassVar[bool] = False

    @classmethod
    @abc.abstractmethod
    def from_logits(cls, logits: Any, **kwargs: Any) -> Distribution:
        """Build the distribution from the flat network outputs (``action_dist_inputs``)."""

    @classmethod
    @abc.abstractmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        """Width of ``action_dist_inputs`` this class needs for ``space``.

        Raises :class:`~rlmodules.SpaceError` naming the space if it is unsupported.
        """

    @classmethod
    def for_space(cls, space: Any) -> type[Distribution]:
        """This class configured for ``space``: a cached subclass with ``space`` and ``input_dim``.

        Its ``from_logits`` needs only the logits and rejects a wrong width. Subclasses that
        need more structure (sizes, children, bounds) add class attributes by overriding
        ``_configured_attributes``. The same space gives the same class.

        Example::

            dist_cls = registry.get("distribution", "multi_categorical").for_space(
                gym.spaces.MultiDiscrete([3, 4]))
            dist = dist_cls.from_logits(torch.zeros(8, 7))
        """
        base = cls.base_class()
        attributes = base._configured_attributes(space)  # validates the space
        key = (base, _space_key(space), base._configuration_key(attributes))
        configured = _CONFIGURED.get(key)
        if configured is None:
            configured = type(
                f"{base.__name__}[{space}]",
                (base,),
                {"__module__": base.__module__, "space": space, **attributes,
                 "from_logits": _width_checked(base)},
            )
            _CONFIGURED[key] = configured
        return configured

    @classmethod
    def base_class(cls) -> type[Distribution]:
        """The class :meth:`for_space` configured (``cls`` itself if unconfigured): the one
        registered by name, which checkpoints record."""
        base = cls
        while "space" in vars(base) and base.space is not None:
            base = base.__mro__[1]
        return base

    @classmethod
    def get_partial_dist_cls(cls, **partial_kwargs: Any) -> type[Distribution]:
        """A subclass whose ``from_logits`` and ``required_input_dim`` get ``partial_kwargs``
        (RLlib's: for arguments known before the logits, e.g. a MultiDistribution's
        ``child_distribution_cls_struct`` and ``input_lens``). Passing one of them again
        is a ``ConfigError``.

        Example::

            dist_cls = MultiDistribution.get_partial_dist_cls(
                child_distribution_cls_struct={"a": Categorical, "b": DiagGaussian},
                input_lens={"a": 3, "b": 4})
            dist = dist_cls.from_logits(torch.zeros(8, 7))
        """
        parent = cls

        def merged(kwargs: dict[str, Any]) -> dict[str, Any]:
            overlap = sorted(set(kwargs) & set(partial_kwargs))
            if overlap:
                raise ConfigError(
                    f"{parent.__name__}Partial already fixes {overlap}; pass them when "
                    f"calling get_partial_dist_cls, not again"
                )
            return {**partial_kwargs, **kwargs}

        def from_logits(sub: type, logits: Any, **kwargs: Any) -> Distribution:
            dist = parent.from_logits(logits, **merged(kwargs))
            dist.__class__ = sub  # type(dist) is the partial class, as in RLlib
            return dist

        def required_input_dim(sub: type, space: Any, **kwargs: Any) -> int:
            given = {k: v for k, v in merged(kwargs).items() if k != "space"}
            return parent.required_input_dim(space, **given)

        return type(f"{parent.__name__}Partial", (parent,), {
            "__module__": parent.__module__,
            "from_logits": classmethod(from_logits),
            "required_input_dim": classmethod(required_input_dim),
        })

    @classmethod
    def _configured_attributes(cls, space: Any) -> dict[str, Any]:
        """Class attributes of the subclass :meth:`for_space` makes (validating ``space``)."""
        return {"input_dim": int(cls.required_input_dim(space))}

    @classmethod
    def _configuration_key(cls, attributes: dict[str, Any]) -> Any:
        """What besides the space tells configurations apart (hashable), e.g. the component
        classes that the installed plugins chose for a structured space."""
        return None

    @classmethod
    def _check_width(cls, logits: Any) -> None:
        """Raise SpaceError if ``logits`` does not have the configured width."""
        shape = getattr(logits, "shape", None)
        if shape is None or len(shape) == 0 or shape[-1] != cls.input_dim:
            base = cls.__mro__[1].__name__
            got = f"shape {tuple(shape)}" if shape is not None else type(logits).__name__
            raise SpaceError(
                f"{base} for action space {cls.space} needs action_dist_inputs of width "
                f"{cls.input_dim} on the last axis ([B, {cls.input_dim}] or "
                f"[B, T, {cls.input_dim}]), got {got}"
            )

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


def _width_checked(base: type[Distribution]) -> Any:
    """``base.from_logits`` for a class configured by ``for_space``: the logits' width is
    checked first, so every distribution keeps that promise without repeating the check."""
    build = base.from_logits.__func__  # type: ignore[attr-defined]

    def from_logits(cls: type[Distribution], logits: Any, *args: Any, **kwargs: Any) -> Any:
        # Explicit structure (e.g. input_lens) sets its own width; the common call has none.
        if (not args and not kwargs) or all(a is None for a in (*args, *kwargs.values())):
            cls._check_width(logits)
        return build(cls, logits, *args, **kwargs)

    return classmethod(from_logits)


def _space_key(space: Any) -> str:
    from .spaces import space_to_json  # gymnasium on first use: importing this stays quick

    try:
        return json.dumps(space_to_json(space), sort_keys=True)
    except SpaceError:
        # A plugin's own space type: keyed by identity (the cached class keeps it alive).
        return f"{type(space).__qualname__}@{id(space)}"
