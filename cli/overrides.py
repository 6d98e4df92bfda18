"""``rlmodules train --set SECTION.KEY=VALUE``: one setting from the command line (RL-Zoo's
``-params`` habit), applied after the preset and the config file.

``SECTION`` is a config-file section (``training``, ``env_runners``, ``evaluation``, ...);
deeper keys change one entry of a table (``rl_module.model_config.fcnet_hiddens=[64,64]``,
``training.replay_buffer_config.capacity=50000``) and keep the rest. ``VALUE`` is read as a
TOML value (``3e-4``, ``true``, ``[[0, 1e-3], [100000, 0]]``, ``{type = "uniform"}``);
anything else is a string (``environment.env=Pendulum-v1``). Unknown sections and keys get
the config's did-you-mean errors.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from rlmodules.errors import ConfigError, did_you_mean

__all__ = ["parse_override", "apply_overrides"]

#: Sections whose settings live in a dict attribute of the config.
_SETTINGS = {"training": "training_settings", "env_runners": "env_runner_settings",
             "evaluation": "evaluation_settings", "learners": "learner_settings",
             "reporting": "reporting_settings"}


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"training.lr=3e-4"`` -> ``(["training", "lr"], 0.0003)``."""
    path, sep, raw = text.partition("=")
    keys = path.strip().split(".")
    if not sep or len(keys) < 2 or not all(keys):
        raise ConfigError(
            f"--set {text!r}: expected SECTION.KEY=VALUE, e.g. --set training.lr=3e-4 or "
            f"--set env_runners.num_envs_per_env_runner=16"
        )
    import tomllib

    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return keys, value


def apply_overrides(config: Any, items: Sequence[str]) -> None:
    """Apply each ``--set`` item to ``config`` in order (see the module docstring)."""
    from rlmodules.algorithms.config_data import FILE_SECTIONS

    for text in items:
        keys, value = parse_override(text)
        section, key, deeper = keys[0], keys[1], keys[2:]
        if section not in FILE_SECTIONS:
            raise ConfigError(
                f"--set {text!r}: unknown section {section!r}."
                f"{did_you_mean(section, FILE_SECTIONS)} Sections: {', '.join(FILE_SECTIONS)}"
            )
        if deeper:
            value = _merged(_current(config, section, key, text), deeper, value)
        try:
            config.update_from_dict({section: {key: value}})
        except ConfigError as exc:
            raise ConfigError(f"--set {text!r}: {exc}") from None


def _current(config: Any, section: str, key: str, text: str) -> dict[str, Any]:
    """The table ``section.key`` holds now, to change one entry of."""
    if (section, key) == ("rl_module", "model_config"):
        given = config.model_config_setting
        current: Any = given.to_dict() if hasattr(given, "to_dict") else given or {}
    elif (section, key) == ("environment", "env_config"):
        current = config.env_config
    elif section in _SETTINGS:
        settings = getattr(config, _SETTINGS[section])
        if key not in settings:
            raise ConfigError(
                f"--set {text!r}: {section}() has no setting {key!r}."
                f"{did_you_mean(key, settings)} Known settings: {', '.join(sorted(settings))}"
            )
        current = settings[key]
    else:
        current = None
    if not isinstance(current, dict):
        raise ConfigError(
            f"--set {text!r}: {section}.{key} is not a table of settings; set it whole with "
            f"--set {section}.{key}=VALUE"
        )
    return copy.deepcopy(current)


def _merged(table: dict[str, Any], keys: list[str], value: Any) -> dict[str, Any]:
    node = table
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set: {key!r} is not a table of settings")
    node[keys[-1]] = value
    return table
