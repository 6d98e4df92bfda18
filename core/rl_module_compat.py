"""RLlib compatibility pieces of ``RLModule``: the deprecated ``RLModuleConfig`` (and
``module.config``), the removal of an ``InferenceOnlyAPI`` module's training-only parts,
and the test for "a default module's subclass that builds its own networks"."""

from __future__ import annotations

import warnings
from typing import Any

from .apis import InferenceOnlyAPI

__all__ = ["RLModuleConfig", "deprecated_config", "drop_non_inference_attributes", "own_setup"]


def own_setup(cls: type) -> bool:
    """True when ``cls`` (a default module's subclass) replaces the default ``setup``."""
    for base in cls.__mro__:
        if "default_model_config_class" in vars(base):
            return cls.setup is not base.setup  # type: ignore[attr-defined]
    return False


def drop_non_inference_attributes(module: Any) -> None:
    """Remove the training-only sub-modules an ``InferenceOnlyAPI`` module names."""
    if not isinstance(module, InferenceOnlyAPI):
        return
    for path in module.get_non_inference_attributes():
        *parents, name = path.split(".")
        owner: Any = module
        for part in parents:
            owner = getattr(owner, part, None)
        if owner is not None and getattr(owner, name, None) is not None:
            setattr(owner, name, None)


class RLModuleConfig:
    """Deprecated (as in RLlib 2.60): a module's constructor arguments in one object.

    Construct modules by keyword instead: ``RLModule(observation_space=..., ...)``.
    """

    def __init__(
        self,
        observation_space: Any = None,
        action_space: Any = None,
        inference_only: bool = False,
        learner_only: bool = False,
        model_config_dict: Any = None,
        catalog_class: Any = None,
        *,
        _warn: bool = True,
    ) -> None:
        if _warn:
            warnings.warn(
                "RLModuleConfig is deprecated (as in RLlib); construct modules with "
                "RLModule(observation_space=..., action_space=..., inference_only=..., "
                "learner_only=..., model_config=..., catalog_class=...)",
                DeprecationWarning,
                stacklevel=2,
            )
        self.observation_space = observation_space
        self.action_space = action_space
        self.inference_only = inference_only
        self.learner_only = learner_only
        self.model_config_dict = {} if model_config_dict is None else model_config_dict
        self.catalog_class = catalog_class

    def get_catalog(self) -> Any:
        """A catalog built from these settings, or None without a catalog class."""
        if self.catalog_class is None:
            return None
        return self.catalog_class(
            observation_space=self.observation_space,
            action_space=self.action_space,
            model_config=self.model_config_dict,
        )


def deprecated_config(module: Any) -> RLModuleConfig:
    """``module.config`` (deprecated, as in RLlib 2.60): its constructor arguments in one
    object, or what was assigned to ``module.config``; warns."""
    warnings.warn(
        f"{type(module).__name__}.config is deprecated (as in RLlib); use "
        f"self.observation_space, self.action_space, self.inference_only, "
        f"self.learner_only, self.model_config and self.catalog",
        DeprecationWarning,
        stacklevel=3,
    )
    override = module.__dict__.get("_config_override")
    if override is not None:
        return override
    return RLModuleConfig(
        observation_space=module.observation_space,
        action_space=module.action_space,
        inference_only=module.inference_only,
        learner_only=module.learner_only,
        model_config_dict=module.model_config,
        catalog_class=None if module.catalog is None else type(module.catalog),
        _warn=False,
    )
