"""An algorithm config as plain data: ``to_dict`` / ``from_dict`` JSON and the sections of a
TOML or JSON config file (``update_from_dict``).

Env classes, factories, ``policy_mapping_fn`` and module classes are written by registered
name or import path; reading them back goes through the registry's one import function,
inside the caller's trust scope. Importing this module does not import torch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from rlmodules.errors import ConfigError, UnknownNameError, did_you_mean
from rlmodules.model_config import DefaultModelConfig

from .config_checks import _no_extra
from .env_creation import _env_named, _import_named

__all__ = ["config_to_dict", "config_from_dict", "update_config", "map_class_refs",
           "DICT_SECTIONS", "FILE_SECTIONS"]

#: Top-level keys of :func:`config_to_dict` output.
DICT_SECTIONS = ("config_class", "env", "env_config", "env_runners", "training", "evaluation",
                 "rl_module_spec", "model_config", "policies", "policy_mapping_fn", "seed",
                 "not_serialised", "learners")
#: Sections of a config file, each a builder method's settings.
FILE_SECTIONS = ("environment", "env_runners", "training", "evaluation", "rl_module",
                 "debugging", "learners")


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain JSON data of ``config``. Callables that cannot be imported by name (lambdas,
    locals) are written as ``None`` and listed under ``"not_serialised"``."""
    skipped: list[str] = []
    spec = config.rl_module_spec
    policies = config.policies
    return {
        "config_class": f"{type(config).__module__}:{type(config).__qualname__}",
        "env": _callable_ref(config.env, "env", skipped),
        "env_config": dict(config.env_config),
        "env_runners": dict(config.env_runner_settings),
        "training": copy.deepcopy(config.training_settings),
        "evaluation": dict(config.evaluation_settings),
        "learners": dict(config.learner_settings),
        "rl_module_spec": None if spec is None else {
            "kind": type(spec).__name__, "spec": spec.to_dict()},
        "model_config": _model_config_ref(config.model_config_setting),
        "policies": sorted(policies) if isinstance(policies, (set, frozenset)) else policies,
        "policy_mapping_fn": _callable_ref(config.policy_mapping_fn, "policy_mapping_fn",
                                           skipped),
        "seed": config.seed,
        "not_serialised": skipped,
    }


def config_from_dict(config: Any, data: Mapping[str, Any]) -> Any:
    """``config`` (a fresh config of the saved class) with :func:`config_to_dict` output
    applied through its builder methods, so every value is checked as when it was set."""
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{type(config).__name__}.from_dict needs a dict, got {type(data).__name__}")
    for key in data:
        if key not in DICT_SECTIONS:
            raise ConfigError(
                f"unknown algorithm config section {key!r}."
                f"{did_you_mean(str(key), DICT_SECTIONS)} Known sections: "
                f"{', '.join(DICT_SECTIONS)}"
            )
    env = data.get("env")
    if isinstance(env, str) and ":" in env:
        env = _env_named(env)
    config.environment(env, env_config=data.get("env_config") or {})
    config.env_runners(**(data.get("env_runners") or {}))
    config.training(**(data.get("training") or {}))
    config.evaluation(**(data.get("evaluation") or {}))
    config.learners(**(data.get("learners") or {}))
    spec = data.get("rl_module_spec")
    if spec is not None:
        config.rl_module(rl_module_spec=_spec_from(spec))
    if data.get("model_config") is not None:
        config.rl_module(model_config=data["model_config"])
    mapping_fn = data.get("policy_mapping_fn")
    if isinstance(mapping_fn, str):
        mapping_fn = _import_named(mapping_fn, "policy_mapping_fn")
    config.multi_agent(policies=data.get("policies"), policy_mapping_fn=mapping_fn)
    config.debugging(seed=data.get("seed"))
    return config


def update_config(config: Any, settings: Mapping[str, Any]) -> Any:
    """Apply the sections of a config file (see ``AlgorithmConfig.update_from_dict``)."""
    for section, values in settings.items():
        if not isinstance(values, Mapping):
            raise ConfigError(
                f"config file section {section!r} must be a table of settings, "
                f"got {values!r}"
            )
        if section == "environment":
            config.environment(values.get("env"), env_config=values.get("env_config"))
            _no_extra(section, values, ("env", "env_config"))
        elif section == "rl_module":
            _no_extra(section, values, ("module_class", "model_config"))
            if "module_class" in values:
                from rlmodules.specs import RLModuleSpec

                config.rl_module(rl_module_spec=RLModuleSpec(module_class=values["module_class"]))
            config.rl_module(model_config=values.get("model_config"))
        elif section in FILE_SECTIONS:
            getattr(config, section)(**values)
        else:
            raise ConfigError(
                f"unknown config file section {section!r}."
                f"{did_you_mean(section, FILE_SECTIONS)} Known sections: "
                f"{', '.join(FILE_SECTIONS)}"
            )
    return config


def map_class_refs(spec: Mapping[str, Any], resolve: Callable[[str, Any], Any]
                   ) -> dict[str, Any]:
    """A spec dict (``to_dict`` output of an RLModuleSpec or MultiRLModuleSpec) with each
    class reference ``ref`` replaced by ``resolve(kind, ref)``."""
    out = dict(spec)
    for field, kind in (("module_class", "module"), ("catalog_class", "catalog"),
                        ("multi_rl_module_class", "module")):
        if out.get(field) is not None:
            out[field] = resolve(kind, out[field])
    subs = out.get("rl_module_specs")
    if isinstance(subs, Mapping) and "module_class" in subs:
        out["rl_module_specs"] = map_class_refs(subs, resolve)
    elif isinstance(subs, Mapping):
        out["rl_module_specs"] = {
            mid: map_class_refs(sub, resolve) if isinstance(sub, Mapping) else sub
            for mid, sub in subs.items()
        }
    return out


def _callable_ref(value: Any, field: str, skipped: list[str]) -> Any:
    if value is None or isinstance(value, str):
        return value
    qualname = getattr(value, "__qualname__", "")
    module = getattr(value, "__module__", None)
    if not qualname or "<" in qualname or module is None:
        skipped.append(field)
        return None
    return f"{module}:{qualname}"


def _model_config_ref(config: Any) -> Any:
    if config is None:
        return None
    return config.to_dict() if isinstance(config, DefaultModelConfig) else dict(config)


def _spec_from(data: Mapping[str, Any]) -> Any:
    """The spec in ``data``, its import paths resolved now (inside the caller's trust
    scope) so that no later ``build()`` imports what a file named."""
    from rlmodules.specs import MultiRLModuleSpec, RLModuleSpec

    kinds = {"RLModuleSpec": RLModuleSpec, "MultiRLModuleSpec": MultiRLModuleSpec}
    kind = data.get("kind")
    if kind not in kinds or not isinstance(data.get("spec"), Mapping):
        raise ConfigError(
            f"rl_module_spec must be {{'kind': one of {sorted(kinds)}, 'spec': {{...}}}}, "
            f"got {data!r:.200}"
        )
    return kinds[kind].from_dict(map_class_refs(data["spec"], _resolve_import_path))


def _resolve_import_path(kind: str, ref: Any) -> Any:
    if not (isinstance(ref, str) and ":" in ref):
        return ref  # a registered name (installed code) or a class: resolved at build
    from rlmodules import registry

    try:
        return registry.get(kind, ref)
    except UnknownNameError as exc:
        raise ConfigError(str(exc)) from None
