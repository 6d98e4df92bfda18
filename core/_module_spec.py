"""RLModuleSpec: plain data that builds one module anywhere (public as ``rlmodules.specs``).

``module_class`` / ``catalog_class`` accept a class, a registered name (``"ppo"``), a
qualified name (``"rlmodules/ppo"``) or an import path (``"pkg.mod:Class"``); they are
resolved through the registry at ``build()``. ``to_dict()`` gives plain JSON.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import attrs
from rlmodules import registry

from ._module_args import construct
from ._spec_json import class_ref, config_ref, space_from_ref, space_ref
from .errors import SpecError, did_you_mean
from .rl_module import RLModule

__all__ = [
    "MODULE_ID_RULE", "RLModuleSpec", "check_class_ref", "check_keys", "deprecated_alias",
    "inherit_from_parent", "is_valid_module_id",
]

_REMOVAL = "0.4.0"

#: What a module id may be, for error messages.
MODULE_ID_RULE = (
    "module ids are non-empty strings without '.' or '/' (a path such as 'a/b' addresses a "
    "nested component) and other than '__multi__' (a MultiRLModule's shared weights)"
)


def is_valid_module_id(module_id: Any) -> bool:
    """True where ``module_id`` can name a module of a MultiRLModule (see ``MODULE_ID_RULE``)."""
    return (
        isinstance(module_id, str) and bool(module_id) and "." not in module_id
        and "/" not in module_id and module_id != "__multi__"
    )


def deprecated_alias(old: str, new: str, owner: str) -> None:
    """The one place renamed keyword arguments are handled."""
    warnings.warn(
        f"{owner}({old}=...) is deprecated and will be removed in rlmodules {_REMOVAL}; "
        f"use {new}=...",
        DeprecationWarning,
        stacklevel=4,
    )


@attrs.define(init=False, eq=True)
class RLModuleSpec:
    """How to build one RLModule.

    Example::

        spec = RLModuleSpec(
            module_class="ppo",
            observation_space=env.observation_space,
            action_space=env.action_space,
            model_config={"fcnet_hiddens": [64]},
        )
        module = spec.build()
        same = RLModuleSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    """

    module_class: Any = None
    observation_space: Any = None
    action_space: Any = None
    inference_only: bool | None = None
    model_config: Any = None
    catalog_class: Any = None
    #: RLlib's meaning: the module exists on learners only (inference builds leave it out).
    learner_only: bool = False

    def __init__(
        self,
        *,
        module_class: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        inference_only: bool | None = None,
        learner_only: bool = False,
        model_config: Any = None,
        catalog_class: Any = None,
        model_config_dict: Any = None,
    ) -> None:
        if model_config_dict is not None:
            deprecated_alias("model_config_dict", "model_config", "RLModuleSpec")
            if model_config is not None:
                raise SpecError(
                    "RLModuleSpec got both model_config and its deprecated alias "
                    "model_config_dict; pass only model_config"
                )
            model_config = model_config_dict
        for field, value in (("module_class", module_class), ("catalog_class", catalog_class)):
            check_class_ref("RLModuleSpec", field, value)
        self.__attrs_init__(
            module_class=module_class,
            observation_space=observation_space,
            action_space=action_space,
            inference_only=inference_only,
            model_config=model_config,
            catalog_class=catalog_class,
            learner_only=bool(learner_only),
        )

    @property
    def model_config_dict(self) -> Any:
        """Deprecated alias of ``model_config``."""
        deprecated_alias("model_config_dict", "model_config", "RLModuleSpec")
        return self.model_config

    def build(self) -> RLModule:
        """Resolve the module class through the registry and construct the module."""
        if self.module_class is None:
            raise SpecError(
                "RLModuleSpec has no module_class: pass a class, a registered name such as "
                "'ppo' (see `rlmodules list module`), or an import path 'pkg.mod:Class'"
            )
        cls = registry.get("module", self.module_class)
        if not (isinstance(cls, type) and issubclass(cls, RLModule)):
            raise SpecError(f"module_class {self.module_class!r} is {cls!r}, not an RLModule class")
        return construct(
            cls,
            observation_space=self.observation_space,
            action_space=self.action_space,
            inference_only=self.inference_only,
            learner_only=self.learner_only,
            model_config=self.model_config,
            catalog_class=self.catalog_class,
        )

    def update(self, other: RLModuleSpec, *, override: bool = True) -> RLModuleSpec:
        """Fill (``override=False``) or overwrite this spec's fields from ``other``'s set ones."""
        if not isinstance(other, RLModuleSpec):
            raise SpecError(
                f"RLModuleSpec.update needs an RLModuleSpec, got {type(other).__name__}"
            )
        for field in attrs.fields(RLModuleSpec):
            value = getattr(other, field.name)
            if field.name == "learner_only":
                value = value or None  # a default False never overwrites
            if value is not None and (override or getattr(self, field.name) is None):
                setattr(self, field.name, value)
        return self

    # --- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; classes are stored by registered name or import path."""
        return {
            "module_class": class_ref("module", self.module_class),
            "observation_space": space_ref(self.observation_space),
            "action_space": space_ref(self.action_space),
            "inference_only": self.inference_only,
            "model_config": config_ref(self.model_config),
            "catalog_class": class_ref("catalog", self.catalog_class),
            "learner_only": self.learner_only,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RLModuleSpec:
        check_keys(cls.__name__, data, [f.name for f in attrs.fields(RLModuleSpec)])
        return cls(
            module_class=data.get("module_class"),
            observation_space=space_from_ref(data.get("observation_space")),
            action_space=space_from_ref(data.get("action_space")),
            inference_only=data.get("inference_only"),
            model_config=data.get("model_config"),
            catalog_class=data.get("catalog_class"),
            learner_only=_flag(data.get("learner_only", False), "learner_only"),
        )


def inherit_from_parent(spec: RLModuleSpec, parent: Any) -> RLModuleSpec:
    """A copy of ``spec`` whose unset spaces / inference_only come from ``parent``."""
    return attrs.evolve(
        spec,
        observation_space=(
            spec.observation_space if spec.observation_space is not None
            else parent.observation_space
        ),
        action_space=spec.action_space if spec.action_space is not None else parent.action_space,
        inference_only=(
            spec.inference_only if spec.inference_only is not None else parent.inference_only
        ),
    )


def check_class_ref(owner: str, field: str, value: Any) -> None:
    """Raise :class:`SpecError` unless ``value`` is ``None``, a class or a name."""
    if value is not None and not isinstance(value, (str, type)):
        raise SpecError(
            f"{owner}.{field} must be a class, a registered name (see `rlmodules list "
            f"{field.split('_')[-2]}`) or an import path 'pkg.mod:Class', got "
            f"{type(value).__name__} {value!r}"
        )


# --- JSON helpers ------------------------------------------------------------------------------
def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"RLModuleSpec {name} must be true or false, got {value!r}")
    return value


def check_keys(owner: str, data: Any, known: list[str]) -> None:
    """Raise :class:`SpecError` for a key of ``data`` that is not a field of ``owner``."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{owner}.from_dict needs a dict, got {type(data).__name__}")
    for key in data:
        if key not in known:
            raise SpecError(
                f"unknown {owner} field {key!r}.{did_you_mean(str(key), known)} "
                f"Known fields: {', '.join(known)}"
            )
