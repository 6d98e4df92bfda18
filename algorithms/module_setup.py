"""The MultiRLModule an algorithm trains, built from its config and env: the module ids, the
policy mapping, and the spaces a spec leaves unset, taken from the env.

A single-agent env gets its module under ``"default_policy"``; a parallel multi-agent env
gets one module per id of ``multi_agent(policies=...)``, each agent's experience going to
the id ``policy_mapping_fn`` gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from rlmodules.envs import is_parallel_env
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID
from rlmodules.specs import (
    MODULE_ID_RULE,
    MultiRLModuleSpec,
    RLModuleSpec,
    is_valid_module_id,
)

from .episode_records import EpisodeInfo

__all__ = [
    "build_multi_module",
    "build_multi_agent_module",
    "module_ids_of",
    "resolve_policy_mapping_fn",
]


def build_multi_module(config: Any, env: Any, default_module_class: str) -> MultiRLModule:
    """The MultiRLModule for ``config`` on ``env`` (spaces from the env).

    An ``RLModuleSpec`` without ``module_class`` gets ``default_module_class``; the config's
    ``model_config`` fills an unset spec ``model_config``. A parallel multi-agent env is
    :func:`build_multi_agent_module`'s.
    """
    if is_parallel_env(env):
        return build_multi_agent_module(config, env, default_module_class)
    spec = config.rl_module_spec
    if isinstance(spec, MultiRLModuleSpec):
        multi_spec = spec
        if multi_spec.observation_space is None:
            multi_spec = attrs.evolve(multi_spec, observation_space=env.observation_space,
                                      action_space=env.action_space)
        return multi_spec.build()
    spec = spec or RLModuleSpec()
    filled = RLModuleSpec(
        module_class=spec.module_class or default_module_class,
        observation_space=_given_or(spec.observation_space, env.observation_space),
        action_space=_given_or(spec.action_space, env.action_space),
        inference_only=False,
        model_config=spec.model_config if spec.model_config is not None
        else config.model_config_setting,
        catalog_class=spec.catalog_class,
    )
    return filled.build().as_multi_rl_module()


def build_multi_agent_module(config: Any, env: Any, default_module_class: Any
                             ) -> MultiRLModule:
    """The MultiRLModule for ``config`` on a parallel multi-agent ``env``.

    Module ids come from :func:`module_ids_of`; ONE ``RLModuleSpec`` (given directly or as
    a ``MultiRLModuleSpec``'s ``rl_module_specs``) is used for every id. A sub-spec's unset
    spaces are those of the agents the mapping sends to it (probed on ``possible_agents``);
    an unset ``module_class`` is the algorithm's default; an unset ``model_config`` is the
    config's. The MultiRLModuleSpec's own unset spaces are the agents' common spaces.
    """
    module_ids = module_ids_of(config)
    mapping_fn = resolve_policy_mapping_fn(config, module_ids)
    given = config.rl_module_spec
    if isinstance(given, MultiRLModuleSpec):
        multi_spec = given
    else:
        multi_spec = MultiRLModuleSpec(rl_module_specs=given or RLModuleSpec())
    agent_spaces = _probe_agent_spaces(env, mapping_fn, module_ids)
    common = _common_spaces(env)
    obs_space = _given_or(multi_spec.observation_space, common[0])
    act_space = _given_or(multi_spec.action_space, common[1])
    filled = {}
    for module_id, spec in multi_spec.resolved_specs(module_ids).items():
        obs, act = agent_spaces.get(module_id, (obs_space, act_space))
        filled[module_id] = attrs.evolve(
            spec,
            module_class=_given_or(spec.module_class, default_module_class),
            observation_space=_given_or(spec.observation_space, obs),
            action_space=_given_or(spec.action_space, act),
            inference_only=False,
            model_config=_given_or(spec.model_config, config.model_config_setting),
        )
    return attrs.evolve(
        multi_spec, observation_space=obs_space, action_space=act_space, inference_only=False,
        rl_module_specs=filled,
    ).build()


def module_ids_of(config: Any) -> list[str]:
    """The module ids: ``multi_agent(policies=...)`` (a set is sorted), else the ids of a
    ``MultiRLModuleSpec``'s dict of specs, else ``["default_policy"]``."""
    policies = config.policies
    if policies is None:
        spec = config.rl_module_spec
        if isinstance(spec, MultiRLModuleSpec) and isinstance(spec.rl_module_specs, Mapping):
            return list(spec.rl_module_specs)
        return [DEFAULT_MODULE_ID]
    if isinstance(policies, str) or not isinstance(policies, (Mapping, set, frozenset, list,
                                                              tuple)):
        raise ConfigError(
            f"multi_agent(policies=...) must be a collection of module ids such as "
            f"{{'p0', 'p1'}}, got {type(policies).__name__}: {policies!r}"
        )
    ids = sorted(policies) if isinstance(policies, (set, frozenset)) else list(policies)
    if not ids or not all(is_valid_module_id(mid) for mid in ids):
        raise ConfigError(
            f"multi_agent(policies=...) needs at least one module id ({MODULE_ID_RULE}); "
            f"got {policies!r}"
        )
    return ids


def resolve_policy_mapping_fn(config: Any, module_ids: list[str]) -> Callable[..., str]:
    """``config.policy_mapping_fn``, or (one module id) a function mapping every agent to it."""
    if config.policy_mapping_fn is not None:
        return config.policy_mapping_fn
    if len(module_ids) == 1:
        only = module_ids[0]
        return lambda agent_id, episode, **kwargs: only
    raise ConfigError(
        f"multi_agent(policies={module_ids}) has several module ids but no policy_mapping_fn; "
        f"pass policy_mapping_fn=lambda agent_id, episode, **kw: ... returning one of them"
    )


def _given_or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _probe_agent_spaces(env: Any, mapping_fn: Callable[..., Any], module_ids: list[str]
                        ) -> dict[str, tuple[Any, Any]]:
    """``{module_id: (obs space, action space)}`` of the agents mapped to each id."""
    probe = EpisodeInfo(id_=-1, env_index=0)
    spaces: dict[str, tuple[Any, Any]] = {}
    owners: dict[str, Any] = {}
    for agent_id in env.possible_agents:
        module_id = mapping_fn(agent_id, probe)
        if module_id not in module_ids:
            raise ConfigError(
                f"policy_mapping_fn mapped agent {agent_id!r} to module id {module_id!r}, "
                f"which is not among the module ids {module_ids}; list it in "
                f"multi_agent(policies=...)"
            )
        pair = (env.observation_space(agent_id), env.action_space(agent_id))
        if module_id in spaces and spaces[module_id] != pair:
            raise ConfigError(
                f"agents {owners[module_id]!r} and {agent_id!r} both map to module id "
                f"{module_id!r} but have different spaces ({spaces[module_id]} vs {pair}); "
                f"map them to different module ids or give the RLModuleSpec explicit spaces"
            )
        spaces.setdefault(module_id, pair)
        owners.setdefault(module_id, agent_id)
    return spaces


def _common_spaces(env: Any) -> tuple[Any, Any]:
    """The agents' shared (obs, action) spaces, or ``None`` where they differ."""
    agents = list(env.possible_agents)
    obs = {repr(env.observation_space(a)) for a in agents}
    act = {repr(env.action_space(a)) for a in agents}
    return (
        env.observation_space(agents[0]) if len(obs) == 1 else None,
        env.action_space(agents[0]) if len(act) == 1 else None,
    )
