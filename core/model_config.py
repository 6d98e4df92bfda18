"""DefaultModelConfig: the settings every default module (and catalog) understands.

Field names and defaults are RLlib's. Plugins interpret the fields they own (``use_lstm``,
``lstm_*`` by an LSTM plugin, ``conv_*`` by a CNN plugin). Custom modules use a plain dict.
This module is plain data: it never imports torch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .config_keys import checked_values, plugin_value, split_config
from .errors import ConfigError, did_you_mean
from .textdata import loads_json

__all__ = [
    "ACTIVATIONS", "ACTIVATION_LAYERS", "BIAS_INITIALIZERS", "INITIALIZERS", "DefaultModelConfig",
]

#: The one table of activation names, each with the ``torch.nn`` layer it builds. Every
#: builder accepts exactly these (``fcnet_activation``, ``head_fcnet_activation``,
#: ``conv_activation``, ``rlmodules.models``' ``*_activation`` fields,
#: ``rlmodules.compat.get_activation_fn``), in any case as RLlib does; ``None`` and
#: ``"linear"`` mean no activation. Names, not classes: checking a config needs no torch.
ACTIVATION_LAYERS: dict[str, str] = {
    "tanh": "Tanh", "relu": "ReLU", "swish": "SiLU", "silu": "SiLU", "elu": "ELU",
    "gelu": "GELU", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "softplus": "Softplus",
}
#: Every accepted activation value, ``"linear"`` and ``None`` included.
ACTIVATIONS = (*ACTIVATION_LAYERS, "linear", None)

#: Initializer names (``torch.nn.init`` functions without the trailing ``_``) and the
#: keyword arguments each accepts in ``*_initializer_kwargs``.
INITIALIZERS: dict[str, tuple[str, ...]] = {
    "uniform": ("a", "b"),
    "normal": ("mean", "std"),
    "trunc_normal": ("mean", "std", "a", "b"),
    "constant": ("val",),
    "zeros": (),
    "ones": (),
    "orthogonal": ("gain",),
    "xavier_uniform": ("gain",),
    "xavier_normal": ("gain",),
    "kaiming_uniform": ("a", "mode", "nonlinearity"),
    "kaiming_normal": ("a", "mode", "nonlinearity"),
    "sparse": ("sparsity", "std"),
    "eye": (),
}

#: Values the non-numeric initializer kwargs take (every other kwarg is a number).
_KWARG_CHOICES: dict[str, tuple[str, ...]] = {
    "mode": ("fan_in", "fan_out"),
    "nonlinearity": ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                     "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                     "leaky_relu", "selu"),
}

#: The initializers that work on 1-D bias vectors.
BIAS_INITIALIZERS = ("uniform", "normal", "trunc_normal", "constant", "zeros", "ones")

_LAYER_GROUPS = ("fcnet", "conv", "head_fcnet", "lstm")
_PADDINGS = ("same", "valid")


def _layer_sizes(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be a list of positive ints "
            f"(layer sizes), e.g. [256, 256]; got {value!r}"
        )


def _to_list(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_to_list(v) for v in value]
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        return value
    return [_to_list(v) for v in value]


def _sizes_converter(value: Any) -> Any:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise ConfigError(
            f"a layer-size field must be a list of positive ints, e.g. [256, 256]; got {value!r}"
        )
    return list(value)


def _activation(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or value.lower() not in ACTIVATIONS):
        hint = did_you_mean(str(value), [a for a in ACTIVATIONS if a])
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name}={value!r} is not a known activation; "
            f"expected one of {list(ACTIVATIONS)}.{hint}"
        )


def _initializer(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    allowed = BIAS_INITIALIZERS if "bias" in attribute.name else tuple(INITIALIZERS)
    name = value[:-1] if isinstance(value, str) and value.endswith("_") else value
    if name not in allowed:
        what = "a bias initializer" if "bias" in attribute.name else "an initializer"
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name}={value!r} is not {what}; expected None "
            f"(the module's default) or one of {list(allowed)}.{did_you_mean(str(value), allowed)}"
        )


def _kwargs(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not (
        isinstance(value, Mapping) and all(isinstance(k, str) for k in value)
    ):
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be None or a dict of keyword "
            f"arguments, e.g. {{'gain': 1.0}}; got {value!r}"
        )


def _positive_int(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be a positive int, got {value!r}"
        )


def _boolean(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be True or False, got {value!r}"
        )


def _positive_float(value: Any) -> float:
    """Converter: a positive number, ``float('inf')`` or its JSON form ``"inf"``."""
    if value == "inf":
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(
            f"DefaultModelConfig.log_std_clip_param must be a positive number (or "
            f"float('inf') for no clipping), got {value!r}"
        )
    return float(value)


def _conv_filters(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return

    def size(x: Any) -> bool:
        if isinstance(x, list):
            return len(x) == 2 and all(size(v) for v in x)
        return isinstance(x, int) and not isinstance(x, bool) and x > 0

    ok = isinstance(value, list) and all(
        isinstance(f, list) and len(f) in (3, 4) and size(f[0]) and not isinstance(f[0], list)
        and size(f[1]) and size(f[2]) and (len(f) == 3 or f[3] in _PADDINGS)
        for f in value
    )
    if not ok:
        raise ConfigError(
            "DefaultModelConfig.conv_filters must be None (the plugin's default) or a list of "
            "[out_channels, kernel, stride] or [out_channels, kernel, stride, padding] entries "
            "(kernel and stride an int or [h, w]; padding 'same' or 'valid'), e.g. "
            f"[[16, 4, 2], [32, [4, 4], 2, 'same']]; got {value!r}"
        )


def _data_format(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value not in (None, "channels_last", "channels_first"):
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be 'channels_last' (H, W, C), "
            f"'channels_first' (C, H, W) or None (decided from the space), got {value!r}"
        )


def _finite_number(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(
            f"DefaultModelConfig.{attribute.name} must be a finite number, got {value!r}"
        )


def _as_dict(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


@attrs.define(kw_only=True, slots=True)
class DefaultModelConfig:
    """Configuration of the default modules' networks (RLlib's names and defaults).

    ``cfg | {"fcnet_hiddens": [32]}`` returns an updated copy; unknown keys are a
    ``ConfigError`` suggesting the closest field. ``cfg["fcnet_hiddens"]`` reads a field, so
    code written for dict configs keeps working. ``to_dict`` / ``from_dict`` (and
    ``to_json`` / ``from_json``) round-trip through strict JSON.

    Initializers are ``torch.nn.init`` names (``"orthogonal"``, ``"xavier_uniform"``, ...)
    with their keyword arguments in the matching ``*_kwargs`` field; ``None`` keeps the
    module's default (orthogonal, gain sqrt(2) for hidden layers, zero biases; layers wider
    than 512 x 512 keep PyTorch's own init, as RLlib's ``None`` means everywhere, because
    an orthogonal init of a 2048 x 2048 layer costs half a second).

    Example::

        cfg = DefaultModelConfig(fcnet_hiddens=[64, 64]) | {"vf_share_layers": False}
    """

    # Fully connected encoder stack.
    fcnet_hiddens: list[int] = attrs.field(
        factory=lambda: [256, 256], converter=_sizes_converter, validator=_layer_sizes
    )
    fcnet_activation: str | None = attrs.field(default="tanh", validator=_activation)
    fcnet_kernel_initializer: str | None = attrs.field(default=None, validator=_initializer)
    fcnet_kernel_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    fcnet_bias_initializer: str | None = attrs.field(default=None, validator=_initializer)
    fcnet_bias_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    # Convolutional encoder (interpreted by a CNN plugin).
    conv_filters: list | None = attrs.field(
        default=None, converter=_to_list, validator=_conv_filters
    )
    conv_activation: str | None = attrs.field(default="relu", validator=_activation)
    # Image axis order: "channels_last" (H, W, C), "channels_first" (C, H, W), or None to
    # decide from the space (a CNN plugin asks for it where the shape leaves it open).
    conv_data_format: str | None = attrs.field(default=None, validator=_data_format)
    conv_kernel_initializer: str | None = attrs.field(default=None, validator=_initializer)
    conv_kernel_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    conv_bias_initializer: str | None = attrs.field(default=None, validator=_initializer)
    conv_bias_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    # Heads (policy, value, Q) on top of the encoder.
    head_fcnet_hiddens: list[int] = attrs.field(
        factory=list, converter=_sizes_converter, validator=_layer_sizes
    )
    head_fcnet_activation: str | None = attrs.field(default="relu", validator=_activation)
    head_fcnet_kernel_initializer: str | None = attrs.field(default=None, validator=_initializer)
    head_fcnet_kernel_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    head_fcnet_bias_initializer: str | None = attrs.field(default=None, validator=_initializer)
    head_fcnet_bias_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    # Continuous (Gaussian) actions.
    free_log_std: bool = attrs.field(default=False, validator=_boolean)
    # Where free_log_std's learned vector starts (SB3's log_std_init; -2 is std 0.135).
    log_std_init: float = attrs.field(default=0.0, validator=_finite_number)
    log_std_clip_param: float = attrs.field(default=20.0, converter=_positive_float)
    # Value function.
    vf_share_layers: bool = attrs.field(default=True, validator=_boolean)
    # Recurrence (interpreted by an LSTM plugin).
    use_lstm: bool = attrs.field(default=False, validator=_boolean)
    max_seq_len: int = attrs.field(default=20, validator=_positive_int)
    lstm_cell_size: int = attrs.field(default=256, validator=_positive_int)
    lstm_use_prev_action: bool = attrs.field(default=False, validator=_boolean)
    lstm_use_prev_reward: bool = attrs.field(default=False, validator=_boolean)
    lstm_kernel_initializer: str | None = attrs.field(default=None, validator=_initializer)
    lstm_kernel_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    lstm_bias_initializer: str | None = attrs.field(default=None, validator=_initializer)
    lstm_bias_initializer_kwargs: dict | None = attrs.field(
        default=None, converter=_as_dict, validator=_kwargs
    )
    # Keys declared by plugins (rlmodules_config_keys), by full name: {"rlm_beta.use_beta": True}.
    plugin_keys: dict[str, Any] = attrs.field(factory=dict, converter=checked_values)

    def __attrs_post_init__(self) -> None:
        for group in _LAYER_GROUPS:
            for part in ("kernel", "bias"):
                field = f"{group}_{part}_initializer"
                self._check_initializer_kwargs(field, getattr(self, field),
                                               getattr(self, f"{field}_kwargs"))

    @staticmethod
    def _check_initializer_kwargs(field: str, name: str | None, kwargs: Any) -> None:
        if not kwargs:
            return
        if name is None:
            raise ConfigError(
                f"DefaultModelConfig.{field}_kwargs={kwargs!r} is set but {field} is None; "
                f"name the initializer too, e.g. {field}='orthogonal'"
            )
        allowed = INITIALIZERS[name.rstrip("_")]
        for key, value in kwargs.items():
            if key not in allowed:
                raise ConfigError(
                    f"DefaultModelConfig.{field}_kwargs: {key!r} is not an argument of the "
                    f"{name!r} initializer; it accepts {list(allowed) or 'no arguments'}."
                    f"{did_you_mean(key, allowed)}"
                )
            choices = _KWARG_CHOICES.get(key)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if (value not in choices) if choices else not (number and math.isfinite(value)):
                expected = f"one of {list(choices)}" if choices else "a finite number"
                raise ConfigError(
                    f"DefaultModelConfig.{field}_kwargs: {key}={value!r} for the {name!r} "
                    f"initializer must be {expected}"
                )

    # --- construction -------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Every field name, in declaration order (``plugin_keys`` holds other keys)."""
        return tuple(a.name for a in attrs.fields(cls) if a.name != "plugin_keys")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | DefaultModelConfig) -> DefaultModelConfig:
        """Build from a mapping; unknown keys are a ``ConfigError`` with a did-you-mean.

        Keys that installed plugins declare (``rlmodules_config_keys``) are accepted by full
        (``"rlm_beta.use_beta"``) or plain name and kept in ``plugin_keys``. An instance of
        this class passes through unchanged.
        """
        if isinstance(data, cls):
            return data
        if isinstance(data, DefaultModelConfig):
            data = data.to_dict()
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"a model config must be a dict or a {cls.__name__}, got "
                f"{type(data).__name__}: {data!r}"
            )
        return cls(**split_config(cls.__name__, cls.field_names(), data, {}))

    @classmethod
    def from_json(cls, text: str) -> DefaultModelConfig:
        """Build from the JSON text written by :meth:`to_json`."""
        data = loads_json(text, source="model config JSON", error=ConfigError)
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field that strict JSON can hold (``inf`` as ``"inf"``), and
        of each plugin key set, by full name."""
        data = attrs.asdict(self, recurse=True)
        data.update(data.pop("plugin_keys"))
        for key, value in data.items():
            if isinstance(value, float) and math.isinf(value):
                data[key] = "inf"
        return data

    def to_json(self) -> str:
        """Strict JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), allow_nan=False)

    def __or__(self, other: Mapping[str, Any] | DefaultModelConfig) -> DefaultModelConfig:
        """An updated copy; the right side's keys win (a DefaultModelConfig sets every key)."""
        keep = self.plugin_keys
        if isinstance(other, DefaultModelConfig):
            keep, other = {}, {**other.to_dict(), "plugin_keys": {}}  # it sets every key
        if not isinstance(other, Mapping):
            return NotImplemented
        return attrs.evolve(self, **split_config(type(self).__name__, self.field_names(), other,
                                                 keep))

    # --- read access like a dict ----------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key not in self.field_names():
            found, value = plugin_value(self.plugin_keys, key, self.field_names())
            if found:
                return value
            raise KeyError(
                f"{key!r} is not a {type(self).__name__} field."
                f"{did_you_mean(str(key), self.field_names())}"
            )
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """The field's or declared plugin key's value, or ``default`` if it is neither."""
        if key in self.field_names():
            return getattr(self, key)
        found, value = plugin_value(self.plugin_keys, key, self.field_names())
        return value if found else default

    def keys(self) -> tuple[str, ...]:
        """Field names and the plugin keys set, so ``dict(cfg)`` and ``{**cfg}`` work."""
        return (*self.field_names(), *self.plugin_keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        return key in self.field_names() or plugin_value(
            self.plugin_keys, key, self.field_names())[0]
