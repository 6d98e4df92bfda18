"""Tuned settings ("presets") for well-known (algorithm, env) pairs, read from the TOML files
the package ships (``presets/<name>/<env>.toml`` in ``rlmodules.examples``).

A preset is data: a ``[preset]`` table (the algorithm, the env, the step budget its numbers
were tuned for, rl-zoo's published score and the benchmark's pass line) and the
config-file sections (``[training]``, ``[env_runners]``, ``[rl_module]``, ...) that
``rlmodules train --algo ALGO --env ENV`` applies before any ``--config`` file. The string
``"TIMESTEPS"`` in a schedule stands for the run's length. Each file's comments explain
where every number comes from. ``<name>`` is the algorithm (``ppo``, ``dqn``, ``sac``) for
the preset ``rlmodules train`` uses, or a variant such as ``dqn-dueling``.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path
from typing import Any

import attrs
from rlmodules.errors import ConfigError, did_you_mean

__all__ = ["Preset", "load_preset", "preset_names", "preset_for", "atari_preset", "read_toml"]

ALGORITHMS = ("ppo", "dqn", "sac")
#: The preset any ALE id gets (``environment.env_config.env_id`` is set to the id).
ATARI_PRESET = "ppo/atari"
#: ``[preset]`` keys: name -> (required, accepted types).
_PRESET_KEYS: dict[str, tuple[bool, tuple[type, ...]]] = {
    "algo": (True, (str,)),
    "env": (True, (str,)),
    "timesteps": (True, (int,)),
    "eval_interval": (True, (int,)),
    "threshold": (False, (int, float)),
    "reference": (False, (int, float)),
    "reference_std": (False, (int, float)),
    "reference_timesteps": (False, (int,)),
    "reference_source": (False, (str,)),
}


@attrs.frozen
class Preset:
    """One preset file: its ``[preset]`` table and its config sections.

    ``threshold`` is the mean greedy return over seeds the benchmark calls a pass;
    ``reference`` (± ``reference_std``) rl-zoo's published score after
    ``reference_timesteps`` steps, from ``reference_source``.

    Example::

        preset = load_preset("dqn/CartPole-v1")
        config = DQNConfig().environment(preset.env).update_from_dict(
            preset.settings(preset.timesteps))
    """

    name: str
    algo: str
    env: str
    timesteps: int
    eval_interval: int
    sections: dict[str, Any]
    threshold: float | None = None
    reference: float | None = None
    reference_std: float | None = None
    reference_timesteps: int | None = None
    reference_source: str | None = None

    def settings(self, timesteps: int) -> dict[str, Any]:
        """The config sections with ``"TIMESTEPS"`` replaced by ``timesteps``."""
        return _fill(self.sections, timesteps)


def preset_names() -> list[str]:
    """Names of the bundled presets (``"<name>/<env>"``), sorted."""
    return sorted(_preset_files())


def load_preset(name: str) -> Preset:
    """The bundled preset ``name`` (e.g. ``"dqn-dueling/CartPole-v1"``), checked."""
    paths = _preset_files()
    if name not in paths:
        raise ConfigError(
            f"no bundled preset {name!r}.{did_you_mean(name, list(paths))} Bundled presets: "
            f"{', '.join(sorted(paths))}"
        )
    return read_preset(paths[name], name=name)


def read_preset(path: Path, *, name: str) -> Preset:
    """Read and check the preset file ``path``."""
    data = read_toml(path, what="preset")
    table = data.pop("preset", None)
    if not isinstance(table, dict):
        raise ConfigError(f"preset {path} has no [preset] table naming its algo, env and budget")
    for key, value in table.items():
        if key not in _PRESET_KEYS:
            raise ConfigError(
                f"preset {path}: unknown [preset] key {key!r}.{did_you_mean(key, _PRESET_KEYS)} "
                f"Known keys: {', '.join(_PRESET_KEYS)}"
            )
        types = _PRESET_KEYS[key][1]
        if isinstance(value, bool) or not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in types)
            raise ConfigError(f"preset {path}: [preset] {key} must be {expected}, got {value!r}")
    missing = [k for k, (required, _) in _PRESET_KEYS.items() if required and k not in table]
    if missing:
        raise ConfigError(f"preset {path}: [preset] lacks {', '.join(missing)}")
    if table["algo"] not in ALGORITHMS:
        raise ConfigError(f"preset {path}: [preset] algo must be one of {ALGORITHMS}, got "
                          f"{table['algo']!r}")
    for key in ("timesteps", "eval_interval"):
        if table[key] < 1:
            raise ConfigError(f"preset {path}: [preset] {key} must be >= 1, got {table[key]}")
    floats = {k: float(v) for k, v in table.items() if isinstance(v, (int, float))
              and k in ("threshold", "reference", "reference_std")}
    return Preset(name=name, sections=data, **{**table, **floats})


def read_toml(path: Path, *, what: str) -> dict[str, Any]:
    """The tables of the TOML file ``path``; a ``ConfigError`` naming ``what`` it was
    meant to be when it cannot be read or parsed."""
    from rlmodules.textdata import loads_toml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read ({exc.strerror})") from None
    return loads_toml(raw, source=f"{what} {path}", error=ConfigError)  # type: ignore[no-any-return]


def preset_for(env: str, timesteps: int, *, algo: str = "ppo") -> dict[str, Any]:
    """The config sections of ``algo``'s preset for ``env`` with schedules ending at
    ``timesteps`` ({} if there is none); for PPO any ALE id (``"ALE/Pong-v5"``) gets
    :func:`atari_preset`."""
    from rlmodules.envs.atari import is_atari_id

    name = f"{algo}/{env}"
    if name in _preset_files():
        preset = load_preset(name)
        settings = preset.settings(timesteps)
        if algo.startswith("dqn"):
            # The training return keeps epsilon's random actions in it: judge (and stop on)
            # greedy evaluations instead, as rl-zoo does.
            settings.setdefault("evaluation", {
                "evaluation_interval_timesteps": preset.eval_interval, "evaluation_duration": 10})
        return settings
    if algo == "ppo" and is_atari_id(env):
        return _fill(atari_preset(env), timesteps)
    return {}


def atari_preset(env_id: str) -> dict[str, Any]:
    """rl-zoo's Atari PPO with the Nature CNN on the preprocessed game ``env_id``
    (``rlmodules.envs.AtariEnv``); see ``presets/ppo/atari.toml``."""
    settings = load_preset(ATARI_PRESET).sections
    settings["environment"]["env_config"]["env_id"] = env_id
    return settings


@functools.cache
def _preset_files() -> dict[str, Path]:
    root = Path(str(files("rlmodules.examples"))) / "presets"
    return {f"{path.parent.name}/{path.stem}": path for path in root.glob("*/*.toml")}


def _fill(value: Any, timesteps: int) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, timesteps) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, timesteps) for v in value]
    return timesteps if value == "TIMESTEPS" else value
