"""The built-in structured distribution: one component per Tuple / Dict sub-space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import torch
from rlmodules.catalog import default_action_dist_cls
from rlmodules.distribution import Distribution
from rlmodules.errors import BatchError, SpaceError

from ._dist_checks import unsupported

__all__ = ["MultiDistribution"]


class MultiDistribution(Distribution):
    """One distribution per component of a Tuple or Dict action space.

    Configured with ``for_space``, each component gets the distribution the installed
    plugins choose for it (configured recursively); the logits are split in the space's
    order. Actions, and the values ``logp`` takes, have the space's structure (a tuple or
    dict of tensors); ``logp``, ``entropy`` and ``kl`` sum over the components.

    Example::

        space = gym.spaces.Dict({"move": gym.spaces.Discrete(3),
                                 "aim": gym.spaces.Box(-1, 1, (2,))})
        dist = MultiDistribution.for_space(space).from_logits(torch.zeros(8, 7))
        actions = dist.sample()          # {"aim": [8, 2], "move": [8]}
    """

    #: Component classes (a dict for Dict spaces, a tuple for Tuple spaces), or None.
    children: ClassVar[Mapping[str, type[Distribution]] | tuple[type[Distribution], ...] | None]
    children = None
    #: Width of each component's inputs, in the space's order.
    input_lens: ClassVar[tuple[int, ...] | None] = None

    def __init__(self, components: Mapping[str, Distribution] | Sequence[Distribution]) -> None:
        self.components = components

    @classmethod
    def from_logits(
        cls,
        logits: torch.Tensor,
        child_distribution_cls_struct: Any = None,
        input_lens: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> MultiDistribution:
        children = cls.children if child_distribution_cls_struct is None else (
            child_distribution_cls_struct
        )
        if children is None:
            raise SpaceError(
                "MultiDistribution.from_logits needs child_distribution_cls_struct (a dict or "
                "tuple of Distribution classes) unless the class was configured with "
                "MultiDistribution.for_space(space)"
            )
        classes = list(children.values()) if isinstance(children, Mapping) else list(children)
        if isinstance(input_lens, Mapping):  # RLlib's struct form, keyed like the children
            input_lens = list(input_lens.values())
        lens = _input_lens(classes, cls.input_lens if input_lens is None else input_lens)
        if logits.shape[-1:] != (sum(lens),):
            where = f"action space {cls.space}" if cls.space is not None else f"input_lens {lens}"
            raise SpaceError(
                f"MultiDistribution for {where} needs action_dist_inputs of width {sum(lens)} "
                f"on the last axis, got shape {tuple(logits.shape)}"
            )
        parts = logits.split(lens, dim=-1)
        dists = [c.from_logits(p) for c, p in zip(classes, parts)]
        if isinstance(children, Mapping):
            return cls(dict(zip(children, dists)))
        return cls(tuple(dists))

    @classmethod
    def required_input_dim(cls, space: Any, input_lens: Any = None, **kwargs: Any) -> int:
        if input_lens is not None:
            return sum(int(n) for n in _values(input_lens))
        return sum(_input_lens(list(_values(_child_classes(space))), None))

    @classmethod
    def _configured_attributes(cls, space: Any) -> dict[str, Any]:
        children = _child_classes(space)
        lens = tuple(_input_lens(list(_values(children)), None))
        return {"children": children, "input_lens": lens, "input_dim": sum(lens)}

    @classmethod
    def _configuration_key(cls, attributes: dict[str, Any]) -> Any:
        return tuple(_values(attributes["children"]))

    def _map(self, fn: Any) -> Any:
        if isinstance(self.components, Mapping):
            return {k: fn(d) for k, d in self.components.items()}
        return tuple(fn(d) for d in self.components)

    def _pairs(self, value: Any, what: str) -> list[tuple[Distribution, Any]]:
        if isinstance(self.components, Mapping):
            if not isinstance(value, Mapping) or set(value) != set(self.components):
                got = sorted(value) if isinstance(value, Mapping) else type(value).__name__
                raise BatchError(
                    f"MultiDistribution.{what} needs a dict with keys "
                    f"{sorted(self.components)}, got {got}"
                )
            return [(d, value[k]) for k, d in self.components.items()]
        if not isinstance(value, (tuple, list)) or len(value) != len(self.components):
            is_sequence = isinstance(value, (tuple, list))
            got = f"{len(value)} items" if is_sequence else type(value).__name__
            raise BatchError(
                f"MultiDistribution.{what} needs a tuple of {len(self.components)} "
                f"components, got {got}"
            )
        return list(zip(self.components, value))

    def sample(self) -> Any:
        return self._map(lambda d: d.sample())

    def rsample(self) -> Any:
        return self._map(lambda d: d.rsample())

    def logp(self, value: Any) -> torch.Tensor:
        return _total(d.logp(v) for d, v in self._pairs(value, "logp"))

    def entropy(self) -> torch.Tensor:
        return _total(d.entropy() for d in _values(self.components))

    def kl(self, other: Distribution) -> torch.Tensor:
        if not isinstance(other, MultiDistribution):
            raise SpaceError(
                f"MultiDistribution.kl needs another MultiDistribution, got {type(other).__name__}"
            )
        pairs = self._pairs(other.components, "kl")
        return _total(d.kl(o) for d, o in pairs)

    def to_deterministic(self) -> MultiDistribution:
        return MultiDistribution(self._map(lambda d: d.to_deterministic()))


def _values(struct: Any) -> Any:
    return struct.values() if isinstance(struct, Mapping) else struct


def _total(terms: Any) -> torch.Tensor:
    total = None
    for term in terms:
        total = term if total is None else total + term
    assert total is not None  # Tuple/Dict spaces with no components are rejected earlier
    return total


def _input_lens(classes: list[type[Distribution]], given: Sequence[int] | None) -> list[int]:
    if given is not None:
        lens = [int(n) for n in given]
    elif all(c.input_dim is not None for c in classes):
        lens = [int(c.input_dim) for c in classes]  # type: ignore[arg-type]
    else:
        raise SpaceError(
            "MultiDistribution.from_logits needs input_lens (one width per component) when "
            "its component classes are not configured with for_space(space)"
        )
    if len(lens) != len(classes):
        raise SpaceError(
            f"MultiDistribution got {len(lens)} input_lens {lens} for {len(classes)} components"
        )
    return lens


def _child_classes(space: Any) -> Any:
    """The configured distribution class of each component of a Tuple/Dict space."""
    if isinstance(space, gym.spaces.Dict):
        items = list(space.spaces.items())
    elif isinstance(space, gym.spaces.Tuple):
        items = list(enumerate(space.spaces))
    else:
        raise unsupported("MultiDistribution", space, "a Tuple or Dict")
    if not items:
        raise SpaceError(f"MultiDistribution needs at least one component, got {space!r}")
    classes = {}
    for key, child in items:
        try:
            classes[key] = default_action_dist_cls(child)
        except SpaceError as exc:
            raise SpaceError(f"component {key!r} of action space {space!r}: {exc}") from None
    if isinstance(space, gym.spaces.Dict):
        return classes
    return tuple(classes.values())
