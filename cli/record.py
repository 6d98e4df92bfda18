"""``rlmodules record CHECKPOINT --env ENV --episodes N --out DIR``: record episodes.

Plays a trained policy (a module checkpoint, or an algorithm checkpoint's module) in an
env and writes the episodes in the recorded-episodes format behaviour cloning reads.
Importing this module is cheap: torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rlmodules.errors import ConfigError

from .train import checkpoint_dir

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``record`` command."""
    p = subparsers.add_parser(
        "record",
        help="record episodes of a trained policy (the data behaviour cloning learns from)",
        description="Play a module checkpoint (or an algorithm checkpoint's module) in an "
        "env and write the episodes to a new directory. Actions are greedy unless --explore.",
    )
    p.add_argument("checkpoint", help="a module or algorithm checkpoint directory")
    p.add_argument("--env", default=None,
                   help="a gymnasium id such as 'CartPole-v1', or 'pkg.mod:EnvClass' "
                   "(a single-agent gymnasium env or a PettingZoo-style parallel env); "
                   "default: the env an algorithm checkpoint (or run) was trained on")
    p.add_argument("--env-config", metavar="JSON", default=None,
                   help='env settings as JSON, e.g. \'{"num_agents": 2}\' (default: the '
                   'trained env\'s, when --env is left out)')
    p.add_argument("--episodes", type=int, required=True, help="number of episodes to record")
    p.add_argument("--out", required=True, help="a new (or empty) directory to write to")
    p.add_argument("--map", dest="mapping", action="append", default=[], metavar="AGENT=MODULE",
                   help="multi-agent: the module id an agent uses (repeatable); by default "
                   "an agent uses the module id equal to its id, or the only module")
    p.add_argument("--explore", action="store_true", help="sample actions instead of greedy")
    p.add_argument("--seed", type=int, default=None, help="seed of the env resets")
    p.set_defaults(func=_record)


def _record(args: argparse.Namespace) -> int:
    from rlmodules.algorithms.env_creation import make_env_creator
    from rlmodules.algorithms.episodes import record_episodes

    if args.episodes < 1:
        raise ConfigError(f"--episodes must be a positive number, got {args.episodes}")
    path = checkpoint_dir(Path(args.checkpoint))
    module = _load_module(path)
    env, env_config = _env(args, path)
    env_creator = make_env_creator(env, env_config)  # an id or a pkg.mod:Class path
    mapping = _mapping_fn(module, args.mapping)
    recorded = record_episodes(
        module, env_creator, args.out, num_episodes=args.episodes, env=env,
        policy_mapping_fn=mapping, explore=args.explore, seed=args.seed,
    )
    for agent_id in recorded.agent_ids:
        returns = recorded.returns(agent_id)
        mean = sum(returns) / max(len(returns), 1)
        who = "" if len(recorded.agent_ids) == 1 else f" agent {agent_id!r}:"
        print(f"recorded {len(recorded.episodes)} episodes to {args.out}{who} "
              f"mean return {mean:.2f}")
    return 0


def _is_algorithm_checkpoint(path: Path) -> bool:
    from rlmodules.algorithms.checkpoint import STATE_FILE

    return (path / STATE_FILE).is_file()


def module_checkpoint(path: Path) -> Path:
    """The module checkpoint in ``path``: a run directory's or an algorithm checkpoint's
    module component, or ``path`` itself."""
    path = checkpoint_dir(Path(path))
    if not _is_algorithm_checkpoint(path):
        return path
    from rlmodules.algorithms.algorithm import MODULE_COMPONENT
    from rlmodules.algorithms.obs_normalization import ObservationNormalizer

    if ObservationNormalizer.from_checkpoint(path) is not None:
        raise ConfigError(
            f"{path} was trained with observation_filter='MeanStdFilter': its module expects "
            f"normalised observations, which recording does not apply yet; evaluate it with "
            f"`rlmodules eval`, or export it (`rlmodules export` bakes the statistics in)"
        )
    return path / MODULE_COMPONENT


def _load_module(path: Path) -> Any:
    from rlmodules.rl_module import RLModule

    return RLModule.from_checkpoint(module_checkpoint(path))


def _env(args: argparse.Namespace, path: Path) -> tuple[str, dict[str, Any]]:
    """``--env`` with ``--env-config``, or else what the algorithm checkpoint trained on."""
    if args.env is not None:
        return args.env, _env_config(args.env_config)
    if not _is_algorithm_checkpoint(path):
        raise ConfigError(
            f"--env is needed: {path} is a module checkpoint, which does not record an env "
            f"(an algorithm checkpoint or a `rlmodules train` run directory does)"
        )
    from rlmodules.algorithms.checkpoint import saved_env

    env, env_config = saved_env(path)
    return env, {**env_config, **_env_config(args.env_config)}


def _env_config(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--env-config is not valid JSON ({exc.msg}): {text!r}; e.g. --env-config "
            f"'{{\"num_agents\": 2}}'"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"--env-config must be a JSON object, got {text!r}")
    return data


def _mapping_fn(module: Any, pairs: list[str]) -> Any:
    from rlmodules.multi_rl_module import MultiRLModule

    if not isinstance(module, MultiRLModule) or len(module) == 1:
        if pairs:
            raise ConfigError("--map needs a MultiRLModule checkpoint with several module ids")
        return None
    explicit = {}
    for pair in pairs:
        agent, sep, module_id = pair.partition("=")
        if not sep or module_id not in module:
            raise ConfigError(
                f"--map {pair!r} must be AGENT=MODULE with MODULE one of {module.keys()}"
            )
        explicit[agent] = module_id

    def mapping(agent_id: Any, episode: Any, **kwargs: Any) -> str:
        key = str(agent_id)
        if key in explicit:
            return explicit[key]
        if key in module:
            return key
        raise ConfigError(
            f"agent {agent_id!r} has no module: the checkpoint has module ids "
            f"{module.keys()}; pass --map {agent_id}=MODULE_ID"
        )

    return mapping
