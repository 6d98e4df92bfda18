"""TorchRLModule: an RLModule that is also a ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .apis import InferenceOnlyAPI
from .errors import CheckpointError
from .rl_module import RLModule

__all__ = ["TorchRLModule", "checked_state", "mode_dependent_layers"]


class TorchRLModule(nn.Module, RLModule):
    """Base class of PyTorch RL modules; build layers in ``setup()``.

    Calling the module (``module(batch)``) runs ``forward_train``. Weights move with
    ``.to(device)``; :func:`rlmodules.compute_actions` feeds inputs on the module's device.
    """

    framework = "torch"

    def __init__(
        self,
        *,
        observation_space: Any = None,
        action_space: Any = None,
        inference_only: bool | None = False,
        learner_only: bool = False,
        model_config: Any = None,
        catalog_class: Any = None,
    ) -> None:
        nn.Module.__init__(self)
        RLModule.__init__(
            self,
            observation_space=observation_space,
            action_space=action_space,
            inference_only=inference_only,
            learner_only=learner_only,
            model_config=model_config,
            catalog_class=catalog_class,
        )

    def forward(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.forward_train(batch, **kwargs)

    def _set_mode(self, training: bool) -> Any:
        cached = self.__dict__.get("_mode_layers")
        if cached is None or cached[0] != len(self._modules):  # built, or a module added
            cached = self.__dict__["_mode_layers"] = (len(self._modules),
                                                     mode_dependent_layers(self))
        layers = cached[1]
        if not layers or all(layer.training == training for layer in layers):
            return None  # the common case: no dropout, batch norm, ...; or already in mode
        before = [(m, m.training) for m in self.modules()]
        self.train(training)  # through train(): a module that overrides it (e.g. to keep a
        # frozen encoder's batch norm in eval mode) keeps its say

        def restore() -> None:
            for module, flag in before:
                module.training = flag

        return restore

    def get_state(
        self,
        components: str | list[str] | None = None,
        *,
        not_components: str | list[str] | None = None,
        inference_only: bool = False,
    ) -> dict[str, Any]:
        """The weights as a flat ``{name: tensor}`` dict (detached, sharing memory).

        ``inference_only=True`` keeps only what an ``inference_only`` build of this module
        holds (e.g. no value function): without the sub-modules an ``InferenceOnlyAPI``
        module names, else the keys an ``inference_only`` build has. ``components`` /
        ``not_components`` name sub-components, which only a MultiRLModule has.

        Example::

            lean = module.get_state(inference_only=True)
        """
        self._check_no_components(components, not_components)
        state = {k: v.detach() for k, v in self.state_dict().items()}
        if inference_only and not self.inference_only:
            if isinstance(self, InferenceOnlyAPI):
                drop = tuple(self.get_non_inference_attributes())
                state = {k: v for k, v in state.items() if not _under(k, drop)}
            else:
                keep = self._inference_only_keys()
                state = {k: v for k, v in state.items() if k in keep}
        return state

    def _inference_only_keys(self) -> frozenset[str]:
        """State keys of an inference-only build, found by building one on the meta device."""
        keys = self.__dict__.get("_inference_keys")
        if keys is None:
            try:
                with torch.device("meta"):
                    twin = type(self)(
                        observation_space=self.observation_space,
                        action_space=self.action_space,
                        inference_only=True,
                        model_config=self.model_config,
                        catalog_class=None if self.catalog is None else type(self.catalog),
                    )
            except Exception as exc:
                raise CheckpointError(
                    f"cannot tell which weights {type(self).__name__} needs for inference: "
                    f"building it with inference_only=True failed ({type(exc).__name__}: "
                    f"{exc}); call get_state() for the full state instead"
                ) from exc
            keys = self.__dict__["_inference_keys"] = frozenset(twin.state_dict())
        return keys

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load weights from :meth:`get_state` output, strictly, all or nothing.

        Every expected key must be present with the right shape, and nothing else (an
        ``inference_only`` build ignores the training-only extras of a full state). Nothing
        is written unless everything fits; tensors are copied onto the module's device.
        """
        self._apply_state(self._validated_state(state))

    def _validated_state(self, state: Any) -> dict[str, Any]:
        """``state`` checked against this module; raises ``CheckpointError``, changes nothing."""
        return checked_state(
            self.state_dict(),
            state,
            owner=type(self).__name__,
            ignore_unexpected=self.inference_only,
        )

    def _apply_state(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.load_state_dict(state, strict=True)


def checked_state(
    expected: Mapping[str, torch.Tensor], state: Any, *, owner: str, ignore_unexpected: bool
) -> dict[str, Any]:
    """``state`` restricted to ``expected``'s keys, after checking keys, types and shapes."""
    if not isinstance(state, Mapping):
        raise CheckpointError(
            f"cannot load state into {owner}: expected a dict {{name: tensor}}, "
            f"got {type(state).__name__}"
        )
    missing = [k for k in expected if k not in state]
    unexpected = [] if ignore_unexpected else [k for k in state if k not in expected]
    not_tensors = [
        f"{k}: {type(v).__name__}" for k, v in state.items()
        if k in expected and not isinstance(v, torch.Tensor)
    ]
    wrong = [
        f"{k}: {tuple(v.shape)} (expected {tuple(expected[k].shape)})"
        for k, v in state.items()
        if k in expected and isinstance(v, torch.Tensor) and v.shape != expected[k].shape
    ]
    parts = [
        f"{label} {_first(items)}"
        for label, items in (
            ("missing keys", missing), ("unexpected keys", unexpected),
            ("values that are not tensors", not_tensors), ("shape mismatches", wrong),
        )
        if items
    ]
    if parts:
        raise CheckpointError(
            f"cannot load state into {owner}: {'; '.join(parts)}. Build the module with the "
            f"same spaces and model_config as the state's source"
        )
    return {k: state[k] for k in expected}


def _under(key: str, paths: tuple[str, ...]) -> bool:
    """True if state key ``key`` belongs to one of the attribute ``paths``."""
    return any(key == p or key.startswith(p + ".") for p in paths)


def _first(items: list[str], limit: int = 8) -> str:
    return f"{items[:limit]}{f' (and {len(items) - limit} more)' if len(items) > limit else ''}"


def mode_dependent_layers(module: nn.Module) -> list[nn.Module]:
    """The sub-modules whose code reads ``self.training`` (dropout, batch norm, RNNs with
    dropout, any custom layer that does), and ``module`` itself when any does: the only ones
    a change of mode affects, so switching modes costs nothing for plain MLPs."""
    layers = [m for m in module.modules() if m is not module and _reads_training(type(m))]
    if layers or _reads_training(type(module)):
        layers.insert(0, module)
    return layers


_READS_TRAINING: dict[type, bool] = {}


def _reads_training(cls: type) -> bool:
    found = _READS_TRAINING.get(cls)
    if found is None:
        skipped = {nn.Module, RLModule, TorchRLModule, object}
        found = any(
            "training" in _names(value)
            for klass in cls.__mro__ if klass not in skipped
            for value in vars(klass).values()
        )
        _READS_TRAINING[cls] = found
    return found


def _names(value: Any) -> set[str]:
    """Attribute names a function (or property, method wrapper) reads, nested code too."""
    value = getattr(value, "fget", None) or getattr(value, "__func__", None) or value
    code = getattr(value, "__code__", None)
    names: set[str] = set()
    stack = [code] if code is not None else []
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    return names
