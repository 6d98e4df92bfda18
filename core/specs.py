"""RLModuleSpec and MultiRLModuleSpec: plain data that builds modules anywhere.

``module_class`` / ``catalog_class`` accept a class, a registered name (``"ppo"``), a
qualified name (``"rlmodules/ppo"``) or an import path (``"pkg.mod:Class"``); they are
resolved through the registry at ``build()``. ``to_dict()`` gives plain JSON.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ConfigError, SpecError
from .model_config import DefaultModelConfig
from .rl_module import DEFAULT_MODULE_ID, RLModule
from .spaces import space_from_json, space_to_json

__all__ = [
    "MODULE_ID_RULE", "MultiRLModuleSpec", "RLModuleSpec", "inherit_from_parent",
    "is_valid_module_id",
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


def _deprecated_alias(old: str, new: str, owner: str) -> None:
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
            _deprecated_alias("model_config_dict", "model_config", "RLModuleSpec")
            if model_config is not None:
                raise SpecError(
                    "RLModuleSpec got both model_config and its deprecated alias "
                    "model_config_dict; pass only model_config"
                )
            model_config = model_config_dict
        for field, value in (("module_class", module_class), ("catalog_class", catalog_class)):
            _check_class_ref("RLModuleSpec", field, value)
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
        _deprecated_alias("model_config_dict", "model_config", "RLModuleSpec")
        return self.model_config

    def build(self) -> RLModule:
        """Resolve the module class through the registry and construct the module."""
        from rlmodules import registry

        if self.module_class is None:
            raise SpecError(
                "RLModuleSpec has no module_class: pass a class, a registered name such as "
                "'ppo' (see `rlmodules list module`), or an import path 'pkg.mod:Class'"
            )
        cls = registry.get("module", self.module_class)
        if not (isinstance(cls, type) and issubclass(cls, RLModule)):
            raise SpecError(f"module_class {self.module_class!r} is {cls!r}, not an RLModule class")
        for field in ("observation_space", "action_space"):
            if getattr(self, field) is None:
                raise SpecError(
                    f"RLModuleSpec for {cls.__name__} has no {field}: set it on the spec "
                    f"(e.g. env.{field}) or on the enclosing MultiRLModuleSpec"
                )
        return cls(
            observation_space=self.observation_space,
            action_space=self.action_space,
            inference_only=bool(self.inference_only),
            model_config=self.model_config,
            catalog_class=self.catalog_class,
            **({"learner_only": True} if self.learner_only else {}),
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
            "module_class": _class_ref("module", self.module_class),
            "observation_space": _space_ref(self.observation_space),
            "action_space": _space_ref(self.action_space),
            "inference_only": self.inference_only,
            "model_config": _config_ref(self.model_config),
            "catalog_class": _class_ref("catalog", self.catalog_class),
            "learner_only": self.learner_only,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RLModuleSpec:
        _check_keys(cls.__name__, data, [f.name for f in attrs.fields(RLModuleSpec)])
        return cls(
            module_class=data.get("module_class"),
            observation_space=_space_from(data.get("observation_space")),
            action_space=_space_from(data.get("action_space")),
            inference_only=data.get("inference_only"),
            model_config=data.get("model_config"),
            catalog_class=data.get("catalog_class"),
            learner_only=_flag(data.get("learner_only", False), "learner_only"),
        )


@attrs.define(init=False, eq=True)
class MultiRLModuleSpec:
    """How to build a MultiRLModule.

    ``rl_module_specs`` is ``{module_id: RLModuleSpec}`` or ONE spec shared by every module
    id. A sub-spec that leaves its spaces or ``inference_only`` unset takes them from here.
    """

    multi_rl_module_class: Any = None
    observation_space: Any = None
    action_space: Any = None
    inference_only: bool | None = None
    model_config: Any = None
    rl_module_specs: Any = None

    def __init__(
        self,
        *,
        multi_rl_module_class: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        inference_only: bool | None = None,
        model_config: Any = None,
        rl_module_specs: Mapping[str, RLModuleSpec] | RLModuleSpec | None = None,
        module_specs: Mapping[str, RLModuleSpec] | RLModuleSpec | None = None,
    ) -> None:
        if module_specs is not None:
            _deprecated_alias("module_specs", "rl_module_specs", "MultiRLModuleSpec")
            if rl_module_specs is not None:
                raise SpecError(
                    "MultiRLModuleSpec got both rl_module_specs and its deprecated alias "
                    "module_specs; pass only rl_module_specs"
                )
            rl_module_specs = module_specs
        _check_class_ref("MultiRLModuleSpec", "multi_rl_module_class", multi_rl_module_class)
        if rl_module_specs is not None and not isinstance(rl_module_specs, RLModuleSpec):
            if not isinstance(rl_module_specs, Mapping):
                raise SpecError(
                    "rl_module_specs must be a dict {module_id: RLModuleSpec} or one "
                    f"RLModuleSpec shared by all module ids, got {type(rl_module_specs).__name__}"
                )
            for module_id, sub in rl_module_specs.items():
                if not is_valid_module_id(module_id):
                    raise SpecError(f"rl_module_specs: {MODULE_ID_RULE}; got {module_id!r}")
                if not isinstance(sub, RLModuleSpec):
                    raise SpecError(
                        f"rl_module_specs[{module_id!r}] must be an RLModuleSpec, "
                        f"got {type(sub).__name__}"
                    )
            rl_module_specs = dict(rl_module_specs)
        self.__attrs_init__(
            multi_rl_module_class=multi_rl_module_class,
            observation_space=observation_space,
            action_space=action_space,
            inference_only=inference_only,
            model_config=model_config,
            rl_module_specs=rl_module_specs,
        )

    @property
    def module_specs(self) -> Any:
        """Deprecated alias of ``rl_module_specs``."""
        _deprecated_alias("module_specs", "rl_module_specs", "MultiRLModuleSpec")
        return self.rl_module_specs

    def resolved_specs(self, module_ids: Any = None) -> dict[str, RLModuleSpec]:
        """``{module_id: spec}`` with unset fields inherited from this spec.

        A single shared spec is used for each id in ``module_ids`` (``["default_policy"]``
        when none are given).
        """
        specs = self.rl_module_specs
        if specs is None:
            raise SpecError(
                "MultiRLModuleSpec has no rl_module_specs: give {module_id: RLModuleSpec} or "
                "one RLModuleSpec shared by all modules"
            )
        if isinstance(specs, RLModuleSpec):
            ids = list(module_ids) if module_ids is not None else [DEFAULT_MODULE_ID]
            specs = {mid: specs for mid in ids}
        elif module_ids is not None:
            unknown = sorted(set(module_ids) - set(specs))
            if unknown:
                raise SpecError(
                    f"module ids {unknown} have no spec in rl_module_specs "
                    f"(which has {sorted(specs)})"
                )
        return {mid: inherit_from_parent(spec, self) for mid, spec in specs.items()}

    def build(self, module_ids: Any = None) -> Any:
        """Build the MultiRLModule (class resolved through the registry)."""
        from rlmodules import registry

        from .multi_rl_module import MultiRLModule

        cls = registry.get("module", self.multi_rl_module_class or MultiRLModule)
        if not (isinstance(cls, type) and issubclass(cls, MultiRLModule)):
            raise SpecError(
                f"multi_rl_module_class {self.multi_rl_module_class!r} is not a MultiRLModule class"
            )
        return cls(
            observation_space=self.observation_space,
            action_space=self.action_space,
            inference_only=bool(self.inference_only),
            model_config=self.model_config,
            rl_module_specs=self.resolved_specs(module_ids),
        )

    def to_dict(self) -> dict[str, Any]:
        specs = self.rl_module_specs
        return {
            "multi_rl_module_class": _class_ref("module", self.multi_rl_module_class),
            "observation_space": _space_ref(self.observation_space),
            "action_space": _space_ref(self.action_space),
            "inference_only": self.inference_only,
            "model_config": _config_ref(self.model_config),
            "rl_module_specs": (
                None if specs is None
                else specs.to_dict() if isinstance(specs, RLModuleSpec)
                else {mid: s.to_dict() for mid, s in specs.items()}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultiRLModuleSpec:
        _check_keys(cls.__name__, data, [f.name for f in attrs.fields(MultiRLModuleSpec)])
        specs = data.get("rl_module_specs")
        if isinstance(specs, Mapping) and "module_class" in specs and not all(
            isinstance(v, Mapping) for v in specs.values()
        ):
            specs = RLModuleSpec.from_dict(specs)
        elif isinstance(specs, Mapping):
            specs = {mid: RLModuleSpec.from_dict(s) for mid, s in specs.items()}
        return cls(
            multi_rl_module_class=data.get("multi_rl_module_class"),
            observation_space=_space_from(data.get("observation_space")),
            action_space=_space_from(data.get("action_space")),
            inference_only=data.get("inference_only"),
            model_config=data.get("model_config"),
            rl_module_specs=specs,
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


def _check_class_ref(owner: str, field: str, value: Any) -> None:
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


def _class_ref(kind: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    from rlmodules import registry

    name = registry.name_of(kind, value)
    if name is not None:
        return name
    qualname = getattr(value, "__qualname__", "")
    if "<locals>" in qualname or not qualname:
        raise SpecError(
            f"cannot write {value!r} to JSON: it is neither registered nor importable "
            f"(defined inside a function). Register it with a plugin, or define it at module level"
        )
    return f"{value.__module__}:{qualname}"


def _space_ref(space: Any) -> Any:
    return None if space is None else space_to_json(space)


def _space_from(data: Any) -> Any:
    return None if data is None else space_from_json(data)


def _config_ref(config: Any) -> Any:
    if config is None:
        return None
    data = config.to_dict() if isinstance(config, DefaultModelConfig) else dict(config)
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"model_config cannot be written as JSON ({exc}); use plain numbers, strings, "
            f"lists and dicts in it"
        ) from None
    return data


def _check_keys(owner: str, data: Any, known: list[str]) -> None:
    from .errors import did_you_mean

    if not isinstance(data, Mapping):
        raise SpecError(f"{owner}.from_dict needs a dict, got {type(data).__name__}")
    for key in data:
        if key not in known:
            raise SpecError(
                f"unknown {owner} field {key!r}.{did_you_mean(str(key), known)} "
                f"Known fields: {', '.join(known)}"
            )
