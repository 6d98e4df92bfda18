"""How a spec field is written as plain JSON: classes by registered name (or import path),
gymnasium spaces, model configs. ``RLModuleSpec.to_dict`` and module checkpoints write them
the same way."""

from __future__ import annotations

import json
from typing import Any

from rlmodules import registry

from .errors import ConfigError, SpecError
from .model_config import DefaultModelConfig

__all__ = ["class_ref", "config_ref", "space_from_ref", "space_ref"]


def class_ref(kind: str, value: Any) -> str | None:
    """A class (or a name, kept as it is) as its registered name, else its import path."""
    if value is None or isinstance(value, str):
        return value
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


def space_ref(space: Any) -> Any:
    """A space as JSON (``None`` stays ``None``)."""
    from .spaces import space_to_json  # gymnasium on first use: `import rlmodules` stays quick

    return None if space is None else space_to_json(space)


def space_from_ref(data: Any) -> Any:
    """The space :func:`space_ref` wrote (``None`` stays ``None``)."""
    from .spaces import space_from_json  # gymnasium on first use, as above

    return None if data is None else space_from_json(data)


def config_ref(config: Any) -> Any:
    """A model config (a dict or a ``DefaultModelConfig``) as a JSON-checked dict."""
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
