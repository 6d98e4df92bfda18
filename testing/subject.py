"""The thing under check: a spec that can rebuild the module, and one built instance."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import attrs
import torch
from rlmodules import registry
from rlmodules.errors import SpecError
from rlmodules.model_config import DefaultModelConfig
from rlmodules.rl_module import RLModule
from rlmodules.specs import RLModuleSpec

from .batches import acting_batch, train_batch
from .spaces import SpaceCase

__all__ = [
    "Subject", "make_subject", "spec_of", "eval_mode", "train_mode", "preserved_buffers",
]


@attrs.define
class Subject:
    """A module plus the spec that rebuilds it (fresh builds use other seeds).

    ``warnings`` collects the soft issues a check reports with :meth:`warn`.
    """

    spec: RLModuleSpec
    module: RLModule
    case: str = ""
    batch_size: int = 3
    seq_len: int = 4
    seed: int = 0
    warnings: list[str] = attrs.field(factory=list)
    #: Outputs computed once per run and shared by the checks (the module is not changed).
    cache: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def build(self, *, inference_only: bool = False, seed: int | None = None) -> RLModule:
        """A fresh module from the spec; the spec's model_config is copied so that a module
        that mutates its config cannot change later builds."""
        spec = attrs.evolve(
            self.spec,
            inference_only=inference_only,
            model_config=copy.deepcopy(self.spec.model_config),
        )
        torch.manual_seed(self.seed + 1 if seed is None else seed)
        return spec.build()

    def acting_batch(self, module: RLModule | None = None, *, time: int = 1) -> dict[str, Any]:
        return acting_batch(module or self.module, self.batch_size, self.seed, time=time)

    def train_batch(self, module: RLModule | None = None) -> dict[str, Any]:
        return train_batch(module or self.module, self.batch_size, self.seq_len, self.seed)

    def lead_shape(self, time: int | None = None) -> tuple[int, ...]:
        """Leading dims of per-row outputs: ``(B,)``, or ``(B, T)`` for a stateful module."""
        if not self.module.is_stateful():
            return (self.batch_size,)
        return (self.batch_size, self.seq_len if time is None else time)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def spec_of(module: RLModule) -> RLModuleSpec:
    """A spec that rebuilds ``module`` (same class, spaces, config and catalog)."""
    config = module.model_config
    if isinstance(config, DefaultModelConfig):
        config = config.to_dict()
    catalog_class = None
    if module.catalog is not None:
        default = module.default_catalog_class
        default = registry.get("catalog", default) if default is not None else None
        if type(module.catalog) is not default:
            catalog_class = type(module.catalog)
    return RLModuleSpec(
        module_class=type(module),
        observation_space=module.observation_space,
        action_space=module.action_space,
        model_config=copy.deepcopy(config),
        catalog_class=catalog_class,
    )


def make_subject(
    target: Any,
    case: SpaceCase | None = None,
    *,
    batch_size: int = 3,
    seq_len: int = 4,
    seed: int = 0,
) -> Subject:
    """A :class:`Subject` from a built module, an ``RLModuleSpec``, a class or a name."""
    if isinstance(target, RLModule):
        spec = spec_of(target)
        subject = Subject(spec, target, batch_size=batch_size, seq_len=seq_len, seed=seed)
        subject.case = SpaceCase(target.observation_space, target.action_space).id
        return subject
    if isinstance(target, RLModuleSpec):
        spec = attrs.evolve(target)
    elif isinstance(target, (str, type)):
        spec = RLModuleSpec(module_class=target)
    else:
        raise SpecError(
            f"cannot check {target!r}: pass a built RLModule, an RLModuleSpec, a module class, "
            f"a registered name such as 'ppo', or an import path 'pkg.mod:Class'"
        )
    if case is not None:
        spec.observation_space = case.observation_space
        spec.action_space = case.action_space
        if case.model_config is not None:
            spec.model_config = copy.deepcopy(case.model_config)
    subject = Subject(spec, None, batch_size=batch_size, seq_len=seq_len, seed=seed)  # type: ignore[arg-type]
    subject.module = subject.build(inference_only=bool(spec.inference_only), seed=seed)
    config = case.model_config if case is not None else None
    subject.case = SpaceCase(spec.observation_space, spec.action_space, config).id
    return subject


@contextlib.contextmanager
def preserved_buffers(module: Any) -> Iterator[Any]:
    """Restore the module's buffers after the block: train-mode forwards update batch-norm
    statistics, and a check must not change the module it checks."""
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        yield module
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


@contextlib.contextmanager
def _mode(module: Any, training: bool) -> Iterator[Any]:
    if not isinstance(module, torch.nn.Module):
        yield module
        return
    was_training = module.training
    module.train(training)
    try:
        with torch.no_grad(), preserved_buffers(module):
            yield module
    finally:
        module.train(was_training)


def eval_mode(module: Any) -> contextlib.AbstractContextManager[Any]:
    """``module.eval()`` and ``torch.no_grad()`` for a block; the mode is restored after."""
    return _mode(module, False)


def train_mode(module: Any) -> contextlib.AbstractContextManager[Any]:
    """``module.train()`` and ``torch.no_grad()`` for a block; the mode is restored after."""
    return _mode(module, True)
