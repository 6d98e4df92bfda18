"""The base classes of the model layer (``rlmodules.models``): RLlib's ``Model``,
``TorchModel``, ``Encoder`` (the catalogs' encoder, :class:`rlmodules.networks.Encoder`) and
``ModelConfig``."""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from .errors import ConfigError
from .networks import Encoder

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
