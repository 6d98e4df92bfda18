"""The default SAC module: a squashed-Gaussian (Box) or categorical (Discrete) actor, twin
Q-functions and their target copies.

The actor is an encoder and a policy head; ``forward_inference/exploration/train`` run only
the actor. Q-values come from ``compute_q_values`` (online) and ``forward_target``
(targets), RLlib's QNet/TargetNetwork API names. For Box actions a Q-function reads the
observation and the action (``Q(s, a) -> [B]``); for Discrete actions it reads the
observation and gives every action's value (``[B, A]``). Inference-only builds and states
hold the actor alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import gymnasium as gym
import torch
from rlmodules.catalog import Catalog
from rlmodules.columns import Columns
from rlmodules.compat import make_target_network
from rlmodules.errors import ConfigError, SpaceError
from rlmodules.model_config import DefaultModelConfig
from rlmodules.networks import ENCODER_OUT, layer_inits, mlp
from rlmodules.torch_rl_module import TorchRLModule
from torch import nn

from .categorical import Categorical
from .gaussians import SquashedGaussian

__all__ = ["QF_TWIN_PREDS", "SACCatalog", "SACModelConfig", "DefaultSACTorchRLModule"]

#: The twin Q-function's values (RLlib's name), beside ``qf_preds``.
QF_TWIN_PREDS = "qf_twin_preds"
#: State-dict prefixes of everything but the actor.
_CRITIC_PREFIXES = ("qf", "target_")


def _flag(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"SACModelConfig.{attribute.name} must be True or False, got {value!r}")


@attrs.define(kw_only=True, slots=True)
class SACModelConfig(DefaultModelConfig):
    """DefaultModelConfig plus ``twin_q`` (two Q-functions, the minimum bootstraps).

    Example::

        cfg = SACModelConfig(fcnet_hiddens=[256, 256], fcnet_activation="relu", twin_q=True)
    """

    twin_q: bool = attrs.field(default=True, validator=_flag)


class SACCatalog(Catalog):
    """Catalog of the default SAC module: actor encoder and head, Q encoders and heads.

    Box actions get a squashed Gaussian bounded to the Box, Discrete ones a categorical.
    A Box-action Q-function encodes the observation without ``fcnet_hiddens`` (a flat
    observation passes as is; images go through the CNN plugin's encoder), then runs
    ``fcnet_hiddens`` over those features joined with the action.
    """

    qf_output_gain = 1.0

    def get_action_dist_cls(self) -> Any:
        if self._action_dist_cls is None:
            space = self.action_space
            if isinstance(space, gym.spaces.Box):
                self._action_dist_cls = SquashedGaussian.for_space(space)
            elif isinstance(space, gym.spaces.Discrete):
                self._action_dist_cls = Categorical.for_space(space)
            else:
                raise SpaceError(
                    f"SAC acts in a Box or Discrete action space, got {space}; use the 'ppo' "
                    f"module for other action spaces"
                )
        return self._action_dist_cls

    @property
    def continuous(self) -> bool:
        return isinstance(self.action_space, gym.spaces.Box)

    def build_qf_encoder(self) -> nn.Module:
        """The observation encoder of one Q-function."""
        if not self.continuous:
            return self.build_encoder()
        return self.build_encoder(self.model_config | {"fcnet_hiddens": []})

    def build_qf_head(self, input_dim: int) -> nn.Module:
        """``Q(features ++ action) -> [..., 1]`` (Box) or ``Q(features) -> [..., A]``."""
        config = self.model_config
        if self.continuous:
            width = input_dim + int(self.action_space.shape[0])
            return mlp(width, config.fcnet_hiddens, 1, hidden_activation=config.fcnet_activation,
                       **layer_inits(config, "fcnet", output_gain=self.qf_output_gain))
        return self._head(input_dim, int(self.action_space.n), self.qf_output_gain)


class DefaultSACTorchRLModule(TorchRLModule):
    """Actor with twin soft Q-functions and target Q-functions for SAC.

    Example::

        module = DefaultSACTorchRLModule(observation_space=obs_space, action_space=box,
                                         model_config={"fcnet_hiddens": [256, 256]})
        out = module.forward_train({"obs": obs})                   # action_dist_inputs
        q = module.compute_q_values({"obs": obs, "actions": a})    # qf_preds, qf_twin_preds
        q_target = module.forward_target({"obs": next_obs, "actions": a_next})
    """

    default_model_config_class = SACModelConfig
    default_catalog_class = "sac"

    def setup(self) -> None:
        catalog = self.required_catalog()
        self.continuous = catalog.continuous
        self.pi_encoder = catalog.build_encoder()
        self.pi = catalog.build_pi_head(self.pi_encoder.output_dim)
        if self.pi_encoder.get_initial_state():
            raise ConfigError(
                f"{type(self).__name__} takes stateless encoders (the replay buffer holds "
                f"single transitions); set use_lstm=False"
            )
        self.qf: nn.ModuleDict | None = None
        self.qf_twin: nn.ModuleDict | None = None
        self.target_qf: nn.ModuleDict | None = None
        self.target_qf_twin: nn.ModuleDict | None = None
        if self.inference_only:
            return
        self.qf = self._build_q(catalog)
        self.qf_twin = self._build_q(catalog) if self.model_config.twin_q else None
        self.make_target_networks()

    @staticmethod
    def _build_q(catalog: SACCatalog) -> nn.ModuleDict:
        encoder = catalog.build_qf_encoder()
        head = catalog.build_qf_head(encoder.output_dim)
        return nn.ModuleDict({"encoder": encoder, "head": head})

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def get_state(self, components: Any = None, *, not_components: Any = None,
                  inference_only: bool = False) -> dict[str, Any]:
        """The state dict; ``inference_only=True`` keeps only the actor."""
        state = super().get_state(components, not_components=not_components,
                                  inference_only=inference_only)
        if inference_only:
            state = {k: v for k, v in state.items() if not k.startswith(_CRITIC_PREFIXES)}
        return state

    # --- actor --------------------------------------------------------------------------------
    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.pi(self.pi_encoder(batch)[ENCODER_OUT])}

    # --- target networks ----------------------------------------------------------------------
    def make_target_networks(self) -> None:
        """(Re)create the target Q-functions as frozen copies of the online ones."""
        if self.qf is None:
            raise RuntimeError(
                f"{type(self).__name__} was built with inference_only=True and has no "
                f"Q-functions; build it with inference_only=False to train"
            )
        self.target_qf = make_target_network(self.qf)
        self.target_qf_twin = None if self.qf_twin is None else make_target_network(self.qf_twin)

    def get_target_network_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """``(online, target)`` pairs of Q-functions."""
        if self.qf is None or self.target_qf is None:
            raise RuntimeError(
                f"{type(self).__name__} has no target networks (an inference_only build); "
                f"build it with inference_only=False"
            )
        pairs = [(self.qf, self.target_qf)]
        if self.qf_twin is not None and self.target_qf_twin is not None:
            pairs.append((self.qf_twin, self.target_qf_twin))
        return pairs

    # --- Q-values -----------------------------------------------------------------------------
    def compute_q_values(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """Online ``{"qf_preds", "qf_twin_preds"?}``: ``[B]`` for ``batch["actions"]`` (Box),
        ``[B, A]`` for every action (Discrete)."""
        pairs = self.get_target_network_pairs()
        return self._q_values(batch, [online for online, _ in pairs])

    def forward_target(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """The target Q-functions' values, in the form of :meth:`compute_q_values`."""
        return self._q_values(batch, [target for _, target in self.get_target_network_pairs()])

    def _q_values(self, batch: Mapping[str, Any], nets: list[nn.Module]) -> dict[str, Any]:
        values = [self._q(batch, net) for net in nets]
        out = {Columns.QF_PREDS: values[0]}
        if len(values) > 1:
            out[QF_TWIN_PREDS] = values[1]
        return out

    def _q(self, batch: Mapping[str, Any], net: nn.Module) -> torch.Tensor:
        features = net["encoder"](batch)[ENCODER_OUT]
        if not self.continuous:
            return net["head"](features)
        actions = batch[Columns.ACTIONS].to(features.dtype)
        return net["head"](torch.cat([features, actions], dim=-1)).squeeze(-1)


