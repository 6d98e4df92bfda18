"""The Catalog API: decides and builds a default module's encoder, heads and distribution.

The layers come from :mod:`rlmodules.networks` (re-exported here under their old names).

Each decision goes through the plugin system's decision hooks first
(``rlmodules_build_encoder``, ``rlmodules_action_dist_cls``), so installing a plugin teaches
the default catalogs a new observation or action space with no code change by the user.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import torch
from torch import nn

from .decisions import action_dist_cls_for, encoder_for
from .errors import ConfigError, SpaceError
from .model_config import DefaultModelConfig
from .networks import (
    ENCODER_OUT,
    HIDDEN_GAIN,
    ORTHOGONAL_MAX_COST,
    Encoder,
    Init,
    activation,
    default_orthogonal,
    initializer,
    layer_inits,
    mlp,
    orthogonal,
    skipped_initializers,
)

__all__ = [
    "ENCODER_OUT",
    "HIDDEN_GAIN",
    "ORTHOGONAL_MAX_COST",
    "Catalog",
    "Encoder",
    "GaussianPolicyHead",
    "Init",
    "activation",
    "default_action_dist_cls",
    "default_orthogonal",
    "initializer",
    "layer_inits",
    "mlp",
    "orthogonal",
    "skipped_initializers",
]


class GaussianPolicyHead(nn.Module):
    """Policy head for Gaussian distributions: ``[..., 2 * D]`` means then log-stds.

    The log-stds are clipped to ``[-clip, clip]`` (``log_std_clip_param``). With
    ``free_log_std`` they are one learned vector (``log_std``, starting at ``log_std_init``)
    that does not depend on the input, and the network only outputs the ``D`` means.
    """

    def __init__(self, net: nn.Module, *, action_dim: int, free_log_std: bool,
                 clip: float, log_std_init: float = 0.0) -> None:
        super().__init__()
        self.net = net
        self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init))) \
            if free_log_std else None
        self.clip = clip

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.net(features)
        if self.log_std is None:
            mean, log_std = out.chunk(2, dim=-1)
        else:
            mean, log_std = out, self.log_std.expand_as(out)
        if not math.isinf(self.clip):
            log_std = log_std.clamp(-self.clip, self.clip)
        return torch.cat([mean, log_std], dim=-1)


def _encoder_hint(space: gym.Space, config: DefaultModelConfig) -> str:
    if config.use_lstm:
        return " use_lstm=True needs an LSTM encoder plugin: `pip install rlmodules-lstm`."
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 3:
        return " Image observations need a CNN encoder plugin: `pip install rlmodules-cnn`."
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 2:
        return (" A 2-D Box is an image for `pip install rlmodules-cnn` (with a channel axis) or "
                "else flatten it with gymnasium.wrappers.FlattenObservation.")
    return (" Write a plugin implementing the rlmodules_build_encoder hook to support it, or "
            "wrap the env to change its observation space.")


def default_action_dist_cls(
    action_space: gym.Space, model_config: Any = None, catalog: Any = None,
    module_class: Any = None,
) -> Any:
    """The distribution class the installed plugins choose for ``action_space``, asked
    with the module class and its ``model_config`` (see ``rlmodules_action_dist_cls``).

    Example::

        dist_cls = default_action_dist_cls(gym.spaces.Discrete(3))
    """
    return action_dist_cls_for(action_space, model_config, catalog, module_class)


class Catalog:
    """Builds the parts of a default module from (observation space, action space, config).

    Decisions go through the plugins' decision hooks; subclass it to change one decision
    (override ``build_encoder``, a ``build_*_head`` or ``get_action_dist_cls``) and pass
    the subclass, or its registered name, as ``catalog_class``.

    Weights start orthogonal (gain sqrt(2) for hidden layers, 0.01 for the policy output,
    1.0 for the value output; layers wider than 512 x 512 keep PyTorch's default, see
    ``default_orthogonal``) with zero biases unless the config names initializers; they
    draw from torch's global RNG, so ``torch.manual_seed`` makes them reproducible.

    Example::

        catalog = Catalog(observation_space=obs_space, action_space=act_space,
                          model_config={"fcnet_hiddens": [64]})
        encoder = catalog.build_encoder()
        pi = catalog.build_pi_head(encoder.output_dim)
    """

    #: Gain of the policy head's output layer (small: a near-uniform initial policy).
    pi_output_gain: float = 0.01
    #: Gain of the value head's output layer.
    vf_output_gain: float = 1.0
    #: The module class this catalog builds for (set by the module; decision hooks get it).
    module_class: type | None = None

    def __init__(
        self,
        *,
        observation_space: gym.Space,
        action_space: gym.Space,
        model_config: Mapping[str, Any] | DefaultModelConfig | None = None,
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.model_config = DefaultModelConfig.from_dict(
            {} if model_config is None else model_config
        )
        self._action_dist_cls: Any = None

    def build_encoder(self, model_config: DefaultModelConfig | None = None) -> Encoder:
        """An encoder for the observation space, chosen by the installed plugins.

        ``model_config`` overrides the catalog's (a wrapping plugin passes
        ``model_config | {"use_lstm": False}`` to get the encoder it wraps).
        """
        config = self.model_config if model_config is None else model_config
        encoder = encoder_for(self.observation_space, config, self)
        if encoder is None:
            raise SpaceError(
                f"no installed plugin builds an encoder for observation space "
                f"{self.observation_space} (use_lstm={config.use_lstm}). Built in: Box "
                f"(1-D), Discrete, MultiDiscrete, MultiBinary, and Dict and Tuple of those."
                f"{_encoder_hint(self.observation_space, config)}"
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
        """Policy head: ``head_fcnet_hiddens`` then a linear layer to the distribution inputs.

        For a distribution whose inputs are means then log-stds (the Gaussians) it clips
        the log-stds and honours ``free_log_std``; any other distribution gets a plain head.
        """
        config = self.model_config
        out_dim = self.action_dist_input_dim
        action_dim = self._gaussian_action_dim(out_dim)
        if config.free_log_std and action_dim is None:
            dist = self.get_action_dist_cls().base_class().__name__
            raise ConfigError(
                f"free_log_std=True needs a Gaussian action distribution (inputs: means then "
                f"log-stds) over a Box action space; the action distribution is {dist} for "
                f"{self.action_space}. Set free_log_std=False"
            )
        if config.log_std_init != 0.0 and not config.free_log_std:
            raise ConfigError(
                f"log_std_init={config.log_std_init} sets where free_log_std's learned vector "
                f"starts; set free_log_std=True too (or leave log_std_init at 0.0)"
            )
        head_dim = action_dim if config.free_log_std and action_dim is not None else out_dim
        net = self._head(input_dim, head_dim, self.pi_output_gain)
        if action_dim is None or (math.isinf(config.log_std_clip_param)
                                  and not config.free_log_std):
            return net
        return GaussianPolicyHead(net, action_dim=action_dim, free_log_std=config.free_log_std,
                                  clip=config.log_std_clip_param,
                                  log_std_init=config.log_std_init)

    def build_vf_head(self, input_dim: int) -> nn.Module:
        """Value head: ``head_fcnet_hiddens`` then a linear layer to one value."""
        return self._head(input_dim, 1, self.vf_output_gain)

    def _head(self, input_dim: int, output_dim: int, output_gain: float) -> nn.Sequential:
        config = self.model_config
        return mlp(input_dim, config.head_fcnet_hiddens, output_dim,
                   hidden_activation=config.head_fcnet_activation,
                   **layer_inits(config, "head_fcnet", output_gain=output_gain))

    def _gaussian_action_dim(self, dist_input_dim: int) -> int | None:
        """The action size D when the distribution takes ``[means (D), log-stds (D)]``."""
        space = self.action_space
        if not isinstance(space, gym.spaces.Box) or not getattr(
            self.get_action_dist_cls(), "inputs_are_mean_and_log_std", False
        ):
            return None
        action_dim = math.prod(space.shape)
        return action_dim if dist_input_dim == 2 * action_dim else None
