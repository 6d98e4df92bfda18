"""A ``model_config`` key that a plugin declares: its type, default and one line of doc.

Plain data, checked when declared, so that a plugin's mistake is reported as the plugin's
(``rlmodules doctor``) and a user's wrong value as the user's (a ``ConfigError``).
"""

from __future__ import annotations

import math

from rlmodules.errors import ConfigError, PluginError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from typing import Any

__all__ = ["ConfigKey"]

#: The value types a key may declare: what a model config's JSON can hold.
_JSON_TYPES = (bool, int, float, str, list, dict, type(None))


class ConfigKey:
    """A ``model_config`` key declared by a plugin's ``rlmodules_config_keys`` hook.

    ``type`` is one of ``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``,
    ``type(None)`` or a tuple of them (values are stored in checkpoints as JSON); ``default``
    must be of that type; ``doc`` is one line for ``rlmodules info``. An ``int`` is accepted
    for ``float`` (and stored as a float; ``nan`` and ``inf`` are refused); ``bool`` is never an
    ``int``.

    Example::

        ConfigKey(type=bool, default=False, doc="Use a Beta distribution for bounded Box actions")
    """

    __slots__ = ("default", "doc", "type")

    def __init__(self, *, type: Any, default: Any, doc: str) -> None:  # noqa: A002
        types = type if isinstance(type, tuple) else (type,)
        if not types or not all(t in _JSON_TYPES for t in types):
            raise PluginError(
                f"ConfigKey type={type!r} is not supported; use bool, int, float, str, list, "
                f"dict, type(None) or a tuple of them (values must be JSON)"
            )
        if not isinstance(doc, str) or not doc.strip() or "\n" in doc.strip():
            raise PluginError(f"ConfigKey doc must be one non-empty line of text, got {doc!r}")
        self.type = types
        self.doc = doc.strip()
        self.default = self._converted(default)
        if self.default is _WRONG:
            raise PluginError(
                f"ConfigKey default={default!r} ({_type_name(default)}) is not of its declared "
                f"type {self.type_name}"
            )

    @property
    def type_name(self) -> str:
        """The declared type as text: ``"bool"``, ``"int | None"``."""
        return " | ".join("None" if t is type(None) else t.__name__ for t in self.type)

    def check(self, key: str, value: Any) -> Any:
        """``value`` as stored for the key named ``key``, or a ``ConfigError`` saying which
        type the plugin declared."""
        converted = self._converted(value)
        if converted is _WRONG:
            raise ConfigError(
                f"model_config key {key!r} must be {self.type_name} ({self.doc}), got "
                f"{value!r} ({_type_name(value)})"
            )
        return converted

    def _converted(self, value: Any) -> Any:
        for t in self.type:
            if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value) if math.isfinite(value) else _WRONG
            if t is int and isinstance(value, bool):
                continue
            if isinstance(value, t):
                return value
        return _WRONG

    def __repr__(self) -> str:
        return f"ConfigKey(type={self.type_name}, default={self.default!r}, doc={self.doc!r})"


_WRONG = object()


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__
