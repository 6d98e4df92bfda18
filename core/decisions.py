"""Asking the plugins' decision hooks: which encoder, which action distribution.

One implementation at a time (see ``Registry.decide``): one that raises or answers garbage
is reported and skipped, so a broken plugin never breaks every default module. Each hook
receives the module class and its own ``model_config``, so a plugin can scope itself. A
distribution name a hook returns resolves in that plugin's namespace first.

A checkpoint records the distributions its module was built with; loading it builds the
module inside :func:`pinned_action_dists`, so exactly those are chosen again.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator, Mapping
from typing import Any

from rlmodules import registry

from .distribution import Distribution
from .errors import PluginError, RLModulesError, SpaceError

__all__ = ["action_dist_cls_for", "encoder_for", "pin_key", "pinned_action_dists", "space_key"]

#: (module_class, model_config, catalog) of the decision being made, for nested ones (the
#: components of a Tuple/Dict action space are decided with their parent's context).
_context: contextvars.ContextVar[tuple[Any, Any, Any] | None] = contextvars.ContextVar(
    "rlmodules_decision_context", default=None
)
#: pin key -> unconfigured Distribution class, while a checkpoint's module is rebuilt.
_pinned: contextvars.ContextVar[Mapping[Any, type] | None] = contextvars.ContextVar(
    "rlmodules_pinned_action_dists", default=None
)


def space_key(space: Any) -> str:
    """A space as canonical JSON text (its identity for pinning); ``repr`` for spaces
    that have no JSON form."""
    from .spaces import space_to_json  # gymnasium on first use: importing this stays quick

    try:
        return json.dumps(space_to_json(space), sort_keys=True)
    except RLModulesError:
        return repr(space)


def pin_key(module_class: Any, space: Any) -> tuple[str, str]:
    """What a pinned choice is keyed by: the module class (by import path) and the space."""
    path = f"{getattr(module_class, '__module__', '')}:{getattr(module_class, '__qualname__', '')}"
    return path, space_key(space)


@contextlib.contextmanager
def pinned_action_dists(choices: Mapping[Any, type]) -> Iterator[None]:
    """Inside the block, the action space of a module of a class with ``choices`` under
    :func:`pin_key` gets that distribution class without asking any plugin."""
    token = _pinned.set(dict(choices))
    try:
        yield
    finally:
        _pinned.reset(token)


def encoder_for(observation_space: Any, model_config: Any, catalog: Any) -> Any:
    """The encoder the installed plugins build for ``observation_space`` (``None`` if no
    plugin can)."""
    encoder, _ = registry.current().decide(
        "rlmodules_build_encoder", _checked_encoder,
        observation_space=observation_space, model_config=model_config, catalog=catalog,
        module_class=getattr(catalog, "module_class", None),
    )
    return encoder


def _checked_encoder(answer: Any, plugin: str) -> Any:
    import torch

    if not isinstance(answer, torch.nn.Module) or not isinstance(
        getattr(answer, "output_dim", None), int
    ):
        raise PluginError(
            "expected an rlmodules.Encoder: a torch.nn.Module with an int output_dim"
        )
    return answer


def action_dist_cls_for(
    action_space: Any, model_config: Any = None, catalog: Any = None, module_class: Any = None
) -> Any:
    """The distribution class (configured for ``action_space``) the installed plugins
    choose, asked with the module class and ``model_config`` of the decision under way
    when none are given (the components of a Tuple/Dict space)."""
    context = _context.get()
    if context is not None and model_config is None and catalog is None and module_class is None:
        module_class, model_config, catalog = context
    if catalog is not None:
        module_class = module_class or getattr(catalog, "module_class", None)
        model_config = catalog.model_config if model_config is None else model_config
    pinned = _pinned.get()
    chosen = None if not pinned else pinned.get(pin_key(module_class, action_space))
    token = _context.set((module_class, model_config, catalog))
    try:
        if chosen is not None:
            return chosen.for_space(action_space)  # type: ignore[attr-defined]
        configured, _ = registry.current().decide(
            "rlmodules_action_dist_cls",
            lambda answer, plugin: _resolved_distribution(answer, plugin).for_space(action_space),
            action_space=action_space, model_config=model_config, catalog=catalog,
            module_class=module_class,
        )
    finally:
        _context.reset(token)
    if configured is None:
        raise SpaceError(
            f"no installed plugin provides an action distribution for {action_space}; the "
            f"built-ins cover Discrete, MultiDiscrete, Box (1-D), and Dict and Tuple of "
            f"those. Write a plugin implementing the rlmodules_action_dist_cls hook to "
            f"support it, or wrap the env to change its action space"
        )
    return configured


def _resolved_distribution(answer: Any, plugin: str) -> Any:
    cls = registry.current().get_for_plugin("distribution", answer, plugin)
    if not (isinstance(cls, type) and issubclass(cls, Distribution)):
        raise PluginError("expected a registered distribution name or a Distribution subclass")
    return cls.base_class()
