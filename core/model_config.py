"""DefaultModelConfig: the settings every default module (and catalog) understands.

Field names and defaults are RLlib's. Plugins interpret the fields they own (``use_lstm``,
``lstm_*`` by an LSTM plugin, ``conv_*`` by a CNN plugin). Custom modules use a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ConfigError, did_you_mean

__all__ = ["DefaultModelConfig", "ACTIVATIONS"]

#: Activation names accepted by ``fcnet_activation`` / ``head_fcnet_activation`` /
#: ``conv_activation`` (``None`` and ``"linear"`` mean no activation).
ACTIVATIONS = ("tanh", "relu", "swish", "silu", "elu", "gelu", "sigmoid", "linear", None)


def _layer_sizes(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be a list of positive ints "
            f"(layer sizes), got {value!r}"
        )


def _activation(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value not in ACTIVATIONS:
        hint = did_you_mean(str(value), [a for a in ACTIVATIONS if a])
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name}={value!r} is not a known activation; "
            f"expected one of {[a for a in ACTIVATIONS]}.{hint}"
        )


def _positive_int(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be a positive int, got {value!r}"
        )


def _boolean(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"DefaultModelConfig.{attribute.name} must be True or False, got {value!r}")


def _conv_filters(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(f, (list, tuple)) and len(f) == 3 for f in value
    )
    if not ok:
        raise ConfigError(
            "DefaultModelConfig.conv_filters must be None (plugin default) or a list of "
            f"[out_channels, kernel, stride] triples, e.g. [[16, 4, 2], [32, 4, 2]]; got {value!r}"
        )


_sizes = attrs.field(factory=lambda: [256, 256], validator=_layer_sizes, converter=list)


@attrs.define(kw_only=True, slots=True)
class DefaultModelConfig:
    """Configuration of the default modules' networks (RLlib's names and defaults).

    ``cfg | {"fcnet_hiddens": [32]}`` returns an updated copy; unknown keys are a
    ``ConfigError`` suggesting the closest field. ``cfg["fcnet_hiddens"]`` reads a field, so
    code written for dict configs keeps working.

    Example::

        cfg = DefaultModelConfig(fcnet_hiddens=[64, 64]) | {"vf_share_layers": False}
    """

    # Fully connected encoder stack.
    fcnet_hiddens: list[int] = _sizes
    fcnet_activation: str | None = attrs.field(default="tanh", validator=_activation)
    fcnet_kernel_initializer: str | None = None
    fcnet_kernel_initializer_kwargs: dict | None = None
    fcnet_bias_initializer: str | None = None
    fcnet_bias_initializer_kwargs: dict | None = None
    # Convolutional encoder (interpreted by a CNN plugin).
    conv_filters: list | None = attrs.field(default=None, validator=_conv_filters)
    conv_activation: str | None = attrs.field(default="relu", validator=_activation)
    conv_kernel_initializer: str | None = None
    conv_kernel_initializer_kwargs: dict | None = None
    conv_bias_initializer: str | None = None
    conv_bias_initializer_kwargs: dict | None = None
    # Heads (policy, value) on top of the encoder.
    head_fcnet_hiddens: list[int] = attrs.field(
        factory=list, validator=_layer_sizes, converter=list
    )
    head_fcnet_activation: str | None = attrs.field(default="relu", validator=_activation)
    head_fcnet_kernel_initializer: str | None = None
    head_fcnet_kernel_initializer_kwargs: dict | None = None
    head_fcnet_bias_initializer: str | None = None
    head_fcnet_bias_initializer_kwargs: dict | None = None
    # Continuous actions.
    free_log_std: bool = attrs.field(default=False, validator=_boolean)
    log_std_clip_param: float = 20.0
    # Value function.
    vf_share_layers: bool = attrs.field(default=True, validator=_boolean)
    # Recurrence (interpreted by an LSTM plugin).
    use_lstm: bool = attrs.field(default=False, validator=_boolean)
    max_seq_len: int = attrs.field(default=20, validator=_positive_int)
    lstm_cell_size: int = attrs.field(default=256, validator=_positive_int)
    lstm_use_prev_action: bool = attrs.field(default=False, validator=_boolean)
    lstm_use_prev_reward: bool = attrs.field(default=False, validator=_boolean)
    lstm_kernel_initializer: str | None = None
    lstm_kernel_initializer_kwargs: dict | None = None
    lstm_bias_initializer: str | None = None
    lstm_bias_initializer_kwargs: dict | None = None

    # --- construction -------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(a.name for a in attrs.fields(cls))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DefaultModelConfig:
        """Build from a mapping; unknown keys are a ``ConfigError`` with a did-you-mean."""
        if isinstance(data, DefaultModelConfig):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"a model config must be a dict or a DefaultModelConfig, got "
                f"{type(data).__name__}: {data!r}"
            )
        cls._check_keys(data)
        return cls(**data)

    @classmethod
    def _check_keys(cls, data: Mapping[str, Any]) -> None:
        names = cls.field_names()
        for key in data:
            if key not in names:
                raise ConfigError(
                    f"unknown model config key {key!r} for {cls.__name__}."
                    f"{did_you_mean(str(key), names)} Known keys: {', '.join(names)}"
                )

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of every field."""
        return attrs.asdict(self, recurse=True)

    def __or__(self, other: Mapping[str, Any] | DefaultModelConfig) -> DefaultModelConfig:
        if isinstance(other, DefaultModelConfig):
            other = other.to_dict()
        if not isinstance(other, Mapping):
            return NotImplemented
        self._check_keys(other)
        return attrs.evolve(self, **other)

    # --- read access like a dict ----------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key not in self.field_names():
            raise KeyError(
                f"{key!r} is not a DefaultModelConfig field."
                f"{did_you_mean(str(key), self.field_names())}"
            )
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in self.field_names() else default

    def __contains__(self, key: object) -> bool:
        return key in self.field_names()
