"""The Catalog API: decides and builds a default module's encoder, heads and distribution.

Each decision goes through the plugin system's decision hooks first
(``rlmodules_build_encoder``, ``rlmodules_action_dist_cls``), so installing a plugin teaches
the default catalogs a new observation or action space with no code change by the user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
from torch import nn

from .errors import ConfigError, SpaceError
from .model_config import DefaultModelConfig

__all__ = ["Catalog", "Encoder", "ENCODER_OUT", "mlp", "activation", "default_action_dist_cls"]

#: Output key of an encoder's forward.
ENCODER_OUT = "encoder_out"

_ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
}


class Encoder(nn.Module):
    """Maps a forward batch to features: ``{"obs", "state_in"?} -> {"encoder_out", "state_out"?}``.

    ``output_dim`` is the width of ``encoder_out``'s last axis. Stateless encoders accept any
    leading batch axes (``[B, ...]`` or ``[B, T, ...]``); stateful ones (``get_initial_state``
    not empty) take ``[B, T, ...]`` and ``state_in`` leaves of shape ``[B, ...]``.
    """

    output_dim: int

    def get_initial_state(self) -> dict[str, Any]:
        """Unbatched initial state tensors; ``{}`` for a stateless encoder."""
        return {}


def activation(name: str | None) -> nn.Module:
    """The activation layer for a DefaultModelConfig activation name."""
    if name in (None, "linear"):
        return nn.Identity()
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)} or 'linear'"
        ) from None


def mlp(
    input_dim: int,
    hiddens: Sequence[int],
    output_dim: int | None = None,
    *,
    hidden_activation: str | None = "tanh",
) -> nn.Sequential:
    """Linear layers of sizes ``hiddens`` (each followed by the activation), then an
    optional linear output layer without activation."""
    layers: list[nn.Module] = []
    width = input_dim
    for size in hiddens:
        layers += [nn.Linear(width, size), activation(hidden_activation)]
        width = size
    if output_dim is not None:
        layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)


def _encoder_hint(space: gym.Space, config: DefaultModelConfig) -> str:
    if config.use_lstm:
        return " use_lstm=True needs an LSTM plugin: `pip install rlmodules-lstm`."
    if isinstance(space, gym.spaces.Box) and len(space.shape) in (2, 3):
        return " Image observations need a CNN encoder: `pip install rlmodules-cnn`."
    return ""


def default_action_dist_cls(
    action_space: gym.Space, model_config: Any = None, catalog: Any = None
) -> Any:
    """The distribution class the installed plugins choose for ``action_space``."""
    from rlmodules import registry

    config = model_config if isinstance(model_config, DefaultModelConfig) else DefaultModelConfig()
    choice = registry.hook().rlmodules_action_dist_cls(
        action_space=action_space, model_config=config, catalog=catalog
    )
    if choice is None:
        raise SpaceError(
            f"no installed plugin provides an action distribution for {action_space}; the "
            f"built-ins cover Discrete, MultiDiscrete, Box (1-D), MultiBinary, Dict and Tuple"
        )
    return registry.get("distribution", choice).for_space(action_space)


class Catalog:
    """Builds the parts of a default module from (observation space, action space, config).

    Subclass it to change one decision (override ``build_encoder`` or
    ``get_action_dist_cls``) and pass the subclass, or its registered name, as
    ``catalog_class``.
    """

    def __init__(
        self,
        *,
        observation_space: gym.Space,
        action_space: gym.Space,
        model_config: Mapping[str, Any] | DefaultModelConfig | None = None,
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.model_config = DefaultModelConfig.from_dict(model_config or {})
        self._action_dist_cls: Any = None

    def build_encoder(self, model_config: DefaultModelConfig | None = None) -> Encoder:
        """An encoder for the observation space, chosen by the installed plugins."""
        from rlmodules import registry

        config = self.model_config if model_config is None else model_config
        encoder = registry.hook().rlmodules_build_encoder(
            observation_space=self.observation_space, model_config=config, catalog=self
        )
        if encoder is None:
            raise SpaceError(
                f"no installed plugin builds an encoder for observation space "
                f"{self.observation_space} with this model config.{_encoder_hint(self.observation_space, config)} "
                f"Built in: Box (1-D), Discrete, MultiDiscrete, MultiBinary, Dict and Tuple of those"
            )
        return encoder

    def get_action_dist_cls(self) -> Any:
        """The action distribution class (configured for the action space)."""
        if self._action_dist_cls is None:
            self._action_dist_cls = default_action_dist_cls(
                self.action_space, self.model_config, self
            )
        return self._action_dist_cls

    @property
    def action_dist_input_dim(self) -> int:
        """Width of ``action_dist_inputs`` the distribution needs."""
        return int(
            self.get_action_dist_cls().required_input_dim(
                self.action_space, model_config=self.model_config
            )
        )

    def build_pi_head(self, input_dim: int) -> nn.Module:
        """Policy head: ``head_fcnet_hiddens`` then a linear layer to the distribution inputs."""
        config = self.model_config
        return mlp(
            input_dim,
            config.head_fcnet_hiddens,
            self.action_dist_input_dim,
            hidden_activation=config.head_fcnet_activation,
        )

    def build_vf_head(self, input_dim: int) -> nn.Module:
        """Value head: ``head_fcnet_hiddens`` then a linear layer to one value."""
        config = self.model_config
        return mlp(input_dim, config.head_fcnet_hiddens, 1,
                   hidden_activation=config.head_fcnet_activation)
