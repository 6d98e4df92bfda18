"""``rlmodules check NAME``: run the conformance kit and print one line per check.

The exit status is non-zero when a check fails. Importing this module is cheap: the kit
(and torch) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

from rlmodules.errors import ConfigError, SpaceError, UnknownNameError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``check`` command."""
    p = subparsers.add_parser(
        "check",
        help="check a module against the RLModule contract (non-zero exit on failure)",
        description="Run the conformance kit on a registered module name, 'plugin/name' or "
        "'pkg.mod:Class'. Without spaces, every space case the module declares (or the "
        "default grid) is checked.",
    )
    p.add_argument("name", nargs="?",
                   help="a module name such as 'ppo', 'plugin/name' or 'pkg.mod:Class'")
    p.add_argument("--obs-space", metavar="JSON",
                   help='observation space as JSON, e.g. \'{"type": "Box", "shape": [4], '
                   '"low": -1, "high": 1}\'')
    p.add_argument("--action-space", metavar="JSON",
                   help='action space as JSON, e.g. \'{"type": "Discrete", "n": 2}\'')
    p.add_argument("--model-config", metavar="JSON",
                   help='model_config as JSON, e.g. \'{"fcnet_hiddens": [32]}\'')
    p.add_argument("--check", dest="checks", action="append", metavar="CHECK",
                   help="run only this check (repeatable); see --list-checks")
    p.add_argument("--list-checks", action="store_true", help="list the checks and exit")
    p.set_defaults(func=_check)


def _json_arg(text: str | None, option: str, error: type[Exception]) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{option} is not valid JSON ({exc.msg} at position {exc.pos}): {text!r}; "
                    f"quote it for the shell, e.g. {option} '{{\"type\": \"Discrete\", \"n\": 2}}'"
                    ) from None


def _space_arg(text: str | None, option: str) -> Any:
    data = _json_arg(text, option, SpaceError)
    if data is None:
        return None
    from rlmodules.spaces import space_from_json

    return space_from_json(data)


def _check(args: argparse.Namespace) -> int:
    from rlmodules.testing import ALL_CHECKS, ConformanceWarning, check_module

    if args.list_checks:
        for check in ALL_CHECKS:
            print(f"{check.name:24} {check.description}")
        return 0
    if args.name is None:
        raise UnknownNameError(
            "rlmodules check needs a module NAME such as 'ppo' (see `rlmodules list module`), "
            "or --list-checks"
        )
    if (args.obs_space is None) != (args.action_space is None):
        raise SpaceError(
            "rlmodules check needs both --obs-space and --action-space, or neither (then "
            "every space case the module declares is checked); got only "
            f"{'--obs-space' if args.obs_space else '--action-space'}"
        )
    config = _json_arg(args.model_config, "--model-config", ConfigError)
    if config is not None and not isinstance(config, dict):
        raise ConfigError(f"--model-config must be a JSON object, got {args.model_config!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConformanceWarning)
        report = check_module(
            args.name,
            _space_arg(args.obs_space, "--obs-space"),
            _space_arg(args.action_space, "--action-space"),
            model_config=config,
            checks=args.checks,
            raise_on_failure=False,
        )
    for result in report:
        print(result.line())
        for message in result.warnings:
            print(f"WARN  {result.name} [{result.case}]: {message}")
    for warning in caught:
        if not issubclass(warning.category, ConformanceWarning):
            print(f"warning: {warning.message}", file=sys.stderr)
    print(report.summary().splitlines()[-1])
    return 0 if report.ok else 1
