"""MultiRLModuleSpec: plain data that builds a MultiRLModule anywhere (public as
``rlmodules.specs``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from rlmodules import registry

from ._module_spec import (
    MODULE_ID_RULE,
    RLModuleSpec,
    check_class_ref,
    check_keys,
    deprecated_alias,
    inherit_from_parent,
    is_valid_module_id,
)
from ._spec_json import class_ref, config_ref, space_from_ref, space_ref
from .errors import SpecError
from .rl_module import DEFAULT_MODULE_ID

__all__ = ["MultiRLModuleSpec"]


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
            deprecated_alias("module_specs", "rl_module_specs", "MultiRLModuleSpec")
            if rl_module_specs is not None:
                raise SpecError(
                    "MultiRLModuleSpec got both rl_module_specs and its deprecated alias "
                    "module_specs; pass only rl_module_specs"
                )
            rl_module_specs = module_specs
        check_class_ref("MultiRLModuleSpec", "multi_rl_module_class", multi_rl_module_class)
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
        deprecated_alias("module_specs", "rl_module_specs", "MultiRLModuleSpec")
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
        # torch is imported here, not with the module: specs are plain data to read and write
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
            "multi_rl_module_class": class_ref("module", self.multi_rl_module_class),
            "observation_space": space_ref(self.observation_space),
            "action_space": space_ref(self.action_space),
            "inference_only": self.inference_only,
            "model_config": config_ref(self.model_config),
            "rl_module_specs": (
                None if specs is None
                else specs.to_dict() if isinstance(specs, RLModuleSpec)
                else {mid: s.to_dict() for mid, s in specs.items()}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultiRLModuleSpec:
        check_keys(cls.__name__, data, [f.name for f in attrs.fields(MultiRLModuleSpec)])
        specs = data.get("rl_module_specs")
        if isinstance(specs, Mapping) and "module_class" in specs and not all(
            isinstance(v, Mapping) for v in specs.values()
        ):
            specs = RLModuleSpec.from_dict(specs)
        elif isinstance(specs, Mapping):
            specs = {mid: RLModuleSpec.from_dict(s) for mid, s in specs.items()}
        return cls(
            multi_rl_module_class=data.get("multi_rl_module_class"),
            observation_space=space_from_ref(data.get("observation_space")),
            action_space=space_from_ref(data.get("action_space")),
            inference_only=data.get("inference_only"),
            model_config=data.get("model_config"),
            rl_module_specs=specs,
        )
