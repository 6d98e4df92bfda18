"""How an ``RLModule`` is built from spec fields, and what its constructor makes of them:
the model config (validated into a default module's config class), the catalog, and the
observation shape its cheap batch check compares against."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlmodules import registry

from .errors import ConfigError, SpecError
from .model_config import DefaultModelConfig
from .rl_module_compat import own_setup

__all__ = ["build_catalog", "coerce_model_config", "construct", "fixed_shape"]


def construct(module_class: Any, *, observation_space: Any, action_space: Any,
              inference_only: bool | None, learner_only: bool, model_config: Any,
              catalog_class: Any) -> Any:
    """``module_class`` built from spec fields, its spaces checked first: the one place
    modules are built from a spec (``RLModuleSpec.build``) or a checkpoint."""
    for field, space in (("observation_space", observation_space),
                         ("action_space", action_space)):
        if space is None:
            raise SpecError(
                f"RLModuleSpec for {module_class.__name__} has no {field}: set it on the spec "
                f"(e.g. env.{field}) or on the enclosing MultiRLModuleSpec"
            )
    return module_class(
        observation_space=observation_space,
        action_space=action_space,
        inference_only=bool(inference_only),
        model_config=model_config,
        catalog_class=catalog_class,
        # passed only when set: RLlib-style subclasses may not take the keyword
        **({"learner_only": True} if learner_only else {}),
    )


def coerce_model_config(module_class: Any, model_config: Any) -> Any:
    """``model_config`` as ``module_class`` keeps it: a ``DefaultModelConfig`` (subclass) for
    default modules, else the dict given (``{}`` for ``None``)."""
    config_class = module_class.default_model_config_class
    if config_class is not None:
        if (own_setup(module_class) and isinstance(model_config, Mapping)
                and not set(model_config) <= set(config_class.field_names())):
            # RLlib's meaning for a subclass that builds its own networks from keys of
            # its own: the defaults merged into the user's dict, extra keys welcome.
            return {**config_class().to_dict(), **model_config}
        try:
            return config_class.from_dict({} if model_config is None else model_config)
        except ConfigError as exc:
            raise ConfigError(f"{module_class.__name__}: {exc}") from None
    if model_config is None:
        return {}
    if not isinstance(model_config, (Mapping, DefaultModelConfig)):
        raise ConfigError(
            f"{module_class.__name__}: model_config must be a dict (or a DefaultModelConfig), "
            f"got {type(model_config).__name__}"
        )
    return model_config


def build_catalog(module: Any, catalog_class: Any) -> Any:
    """The catalog of ``module`` (its ``catalog_class``, else its class's default), or
    ``None`` without one or without spaces."""
    catalog_class = catalog_class if catalog_class is not None else module.default_catalog_class
    if catalog_class is None or module.observation_space is None or module.action_space is None:
        return None
    from .catalog import Catalog  # imports torch: a module without a catalog needs none

    cls = registry.get("catalog", catalog_class)
    if not (isinstance(cls, type) and issubclass(cls, Catalog)):
        raise SpecError(
            f"{type(module).__name__}: catalog_class {catalog_class!r} is {cls!r}, not a "
            f"Catalog subclass; pass a Catalog subclass or the registered name of one (see "
            f"`rlmodules list catalog`)"
        )
    config = module.model_config
    if type(config) is dict and module.default_model_config_class is not None:
        known = module.default_model_config_class.field_names()
        config = {k: v for k, v in config.items() if k in known}
    catalog = cls(
        observation_space=module.observation_space,
        action_space=module.action_space,
        model_config=config,
    )
    catalog.module_class = type(module)
    return catalog


def fixed_shape(space: Any) -> tuple[int, ...] | None:
    """The trailing observation shape to check, for array spaces only."""
    import gymnasium as gym  # on first use: importing rlmodules.rl_module stays quick

    if isinstance(space, (gym.spaces.Box, gym.spaces.MultiBinary, gym.spaces.MultiDiscrete)):
        return tuple(space.shape)
    return None
