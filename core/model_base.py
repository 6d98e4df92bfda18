"""The base classes of the model layer (``rlmodules.models``) and the helpers its configs
share: RLlib's ``Model``, ``TorchModel``, ``Encoder`` and ``ModelConfig``."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .catalog import Encoder as _CatalogEncoder
from .compat import get_activation_fn
from .errors import ConfigError

__all__ = ["ACTOR", "CRITIC", "Encoder", "Model", "ModelConfig", "TorchModel"]

#: Keys of an actor-critic encoder's ``encoder_out`` dict.
ACTOR = "actor"
CRITIC = "critic"


class Model:
    """RLlib's framework-agnostic model base: holds its config, computes in ``_forward``."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    def get_initial_state(self) -> dict[str, Any]:
        """Unbatched initial state tensors; ``{}`` for a stateless model."""
        return {}

    def _forward(self, inputs: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward")


class Encoder(_CatalogEncoder):
    """An encoder: ``{"obs", "state_in"?} -> {"encoder_out", "state_out"?}`` (RLlib's
    ``Encoder`` and the catalogs' encoder contract in one class)."""


class TorchModel(nn.Module, Model):
    """A torch model built from a config; calling it runs ``_forward``."""

    def __init__(self, config: ModelConfig) -> None:
        nn.Module.__init__(self)
        Model.__init__(self, config)
        dims = getattr(config, "output_dims", None)
        if dims:
            self.output_dim = int(dims[-1])

    def forward(self, inputs: Any, **kwargs: Any) -> Any:
        return self._forward(inputs, **kwargs)


@dataclasses.dataclass
class ModelConfig:
    """RLlib's base of model configs: ``input_dims``, ``output_dims``, ``build(framework)``."""

    input_dims: list[int] | tuple[int, ...] | None = None
    always_check_shapes: bool = False

    @property
    def output_dims(self) -> tuple[int, ...] | None:
        return None

    def build(self, framework: str = "torch") -> nn.Module:
        raise NotImplementedError(f"{type(self).__name__} does not implement build")

    def _check_framework(self, framework: str) -> None:
        if framework != "torch":
            raise ConfigError(
                f"{type(self).__name__}.build(framework={framework!r}): only 'torch' is "
                f"available here"
            )

    def _input_dim(self) -> int:
        if not self.input_dims:
            raise ConfigError(f"{type(self).__name__} needs input_dims, e.g. [32]")
        return int(self.input_dims[-1])


def _initializer(init: Any, kwargs: Mapping[str, Any] | None) -> Callable[[Any], Any] | None:
    """RLlib's initializer settings (a torch.nn.init name or a callable) as a function."""
    if init is None:
        return None
    if callable(init):
        return functools.partial(init, **dict(kwargs or {}))
    fn = getattr(nn.init, str(init).rstrip("_") + "_", None)
    if fn is None:
        raise ConfigError(f"unknown initializer {init!r}; expected a torch.nn.init name such "
                          f"as 'xavier_uniform' or a callable")
    return functools.partial(fn, **dict(kwargs or {}))


def _linear(in_dim: int, out_dim: int, bias: bool, weight_init: Any, bias_init: Any) -> nn.Linear:
    layer = nn.Linear(in_dim, out_dim, bias=bias)
    with torch.no_grad():
        if weight_init is not None:
            weight_init(layer.weight)
        if bias and bias_init is not None:
            bias_init(layer.bias)
    return layer


def _activation(name: Any) -> nn.Module:
    cls = get_activation_fn(name)
    return nn.Identity() if cls is None else cls()
