"""The default DQN module: Q-values over an encoder, with dueling and distributional
(C51-style) options and target networks.

Every forward returns ``qf_preds`` (``[B, A]``) and the same values as
``action_dist_inputs`` for a greedy distribution; exploration such as epsilon-greedy is the
algorithm's job. Non-inference builds carry target copies of the encoder and heads
(``target_*``), left out of inference-only builds and states.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import gymnasium as gym
import torch
from rlmodules.apis import InferenceOnlyAPI, QNetAPI, TargetNetworkAPI
from rlmodules.catalog import Catalog
from rlmodules.columns import Columns
from rlmodules.compat import make_target_network
from rlmodules.distribution import Distribution
from rlmodules.errors import BatchError, ConfigError, SpaceError
from rlmodules.model_config import DefaultModelConfig
from rlmodules.networks import ENCODER_OUT
from rlmodules.torch_rl_module import TorchRLModule
from torch import nn

__all__ = [
    "ATOMS",
    "QF_LOGITS",
    "QF_PROBS",
    "QF_TARGET_NEXT_PROBS",
    "DQNCatalog",
    "DQNModelConfig",
    "DefaultDQNTorchRLModule",
    "GreedyCategorical",
]

#: Distributional outputs (RLlib's names): support of the value distribution ``[N]``,
#: its logits and probabilities per action ``[B, A, N]``.
ATOMS = "atoms"
QF_LOGITS = "qf_logits"
QF_PROBS = "qf_probs"
#: Target-network probabilities of the chosen next action ``[B, N]`` (distributional).
QF_TARGET_NEXT_PROBS = "qf_target_next_probs"


def _flag(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"DQNModelConfig.{attribute.name} must be True or False, got {value!r}")


def _atoms(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"DQNModelConfig.num_atoms must be an int >= 1 (1: plain Q-values, e.g. 51 for "
            f"a distributional Q-function), got {value!r}"
        )


@attrs.define(kw_only=True, slots=True)
class DQNModelConfig(DefaultModelConfig):
    """DefaultModelConfig plus DQN's network options (RLlib's names and defaults).

    Example::

        cfg = DQNModelConfig(dueling=False, num_atoms=51, v_min=-10.0, v_max=10.0)
    """

    dueling: bool = attrs.field(default=True, validator=_flag)
    double_q: bool = attrs.field(default=True, validator=_flag)
    num_atoms: int = attrs.field(default=1, validator=_atoms)
    v_min: float = attrs.field(default=-10.0, converter=float)
    v_max: float = attrs.field(default=10.0, converter=float)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.num_atoms > 1 and not self.v_min < self.v_max:
            raise ConfigError(
                f"DQNModelConfig needs v_min < v_max for a distributional Q-function, got "
                f"v_min={self.v_min}, v_max={self.v_max}"
            )


class GreedyCategorical(Distribution):
    """A point mass on ``argmax_a Q(s, a)``: DQN's policy over ``[..., A]`` Q-values.

    Example::

        actions = GreedyCategorical.from_logits(q_values).sample()  # argmax
    """

    def __init__(self, q_values: torch.Tensor) -> None:
        self.q_values = q_values
        self.actions = q_values.argmax(-1)

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs: Any) -> GreedyCategorical:
        return cls(logits)

    @classmethod
    def required_input_dim(cls, space: Any, **kwargs: Any) -> int:
        if not isinstance(space, gym.spaces.Discrete):
            raise SpaceError(
                f"DQN acts on Q-values of a Discrete action space, got {space}; use the 'ppo' "
                f"or 'bc' module for other action spaces"
            )
        return int(space.n)

    def sample(self) -> torch.Tensor:
        return self.actions

    def logp(self, value: torch.Tensor) -> torch.Tensor:
        return torch.where(value.long() == self.actions, 0.0, -math.inf)

    def entropy(self) -> torch.Tensor:
        return torch.zeros(self.actions.shape, device=self.actions.device)

    def kl(self, other: Distribution) -> torch.Tensor:
        if not isinstance(other, GreedyCategorical):
            raise TypeError(f"KL needs another GreedyCategorical, got {type(other).__name__}")
        return torch.where(self.actions == other.actions, 0.0, math.inf)

    def to_deterministic(self) -> GreedyCategorical:
        return self


class DQNCatalog(Catalog):
    """Catalog of the default DQN module: encoder, advantage/Q head, value head (dueling).

    Its distribution is always :class:`GreedyCategorical` over a Discrete action space.
    """

    vf_output_gain = 1.0
    af_output_gain = 1.0

    def get_action_dist_cls(self) -> Any:
        return GreedyCategorical.for_space(self.action_space)

    @property
    def num_atoms(self) -> int:
        return int(self.model_config.get("num_atoms", 1))

    def build_af_head(self, input_dim: int) -> nn.Module:
        """Q (or, dueling, advantage) head: ``[..., A * num_atoms]``."""
        return self._head(input_dim, self.action_dist_input_dim * self.num_atoms,
                          self.af_output_gain)

    def build_vf_head(self, input_dim: int) -> nn.Module:
        """State-value head of a dueling Q-function: ``[..., num_atoms]``."""
        return self._head(input_dim, self.num_atoms, self.vf_output_gain)


class DefaultDQNTorchRLModule(TorchRLModule, TargetNetworkAPI, QNetAPI, InferenceOnlyAPI):
    """Q-network for DQN (dueling, double-Q and distributional options) with target nets.

    Q-values: ``Q = V + A - mean(A)`` when ``dueling``; with ``num_atoms > 1`` a categorical
    value distribution on ``linspace(v_min, v_max, num_atoms)`` whose mean is Q.
    ``compute_next_q_values`` gives the TD bootstrap (double-Q when ``double_q``).

    Example::

        module = DefaultDQNTorchRLModule(observation_space=obs_space, action_space=act_space,
                                         model_config={"dueling": True})
        q = module.compute_q_values({"obs": obs})["qf_preds"]             # [B, A]
        q_next = module.compute_next_q_values({"new_obs": next_obs})["qf_target_next_preds"]
        module.sync_target_networks(tau=0.005)
    """

    default_model_config_class = DQNModelConfig
    default_catalog_class = "rlmodules/dqn"

    def setup(self) -> None:
        catalog = self.required_catalog()
        config = self.model_config
        self.encoder = catalog.build_encoder()
        self.af = catalog.build_af_head(self.encoder.output_dim)
        self.vf = catalog.build_vf_head(self.encoder.output_dim) if config.dueling else None
        self.num_actions = catalog.action_dist_input_dim
        self.register_buffer(
            ATOMS, torch.linspace(config.v_min, config.v_max, config.num_atoms), persistent=False
        )
        self.target_encoder: nn.Module | None = None
        self.target_af: nn.Module | None = None
        self.target_vf: nn.Module | None = None
        if not self.inference_only:
            self.make_target_networks()

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def output_specs_train(self) -> list[str]:
        return [Columns.QF_PREDS, Columns.ACTION_DIST_INPUTS]

    def get_initial_state(self) -> dict[str, Any]:
        return self.encoder.get_initial_state()

    # --- target networks --------------------------------------------------------------------
    def make_target_networks(self) -> None:
        """(Re)create the target networks as frozen copies of the online ones."""
        if self.inference_only:
            raise RuntimeError(
                f"{type(self).__name__} was built with inference_only=True and has no target "
                f"networks; build it with inference_only=False to train"
            )
        self.target_encoder = make_target_network(self.encoder)
        self.target_af = make_target_network(self.af)
        self.target_vf = None if self.vf is None else make_target_network(self.vf)

    def get_target_network_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """``(online, target)`` pairs of networks."""
        if self.target_encoder is None or self.target_af is None:
            raise RuntimeError(
                f"{type(self).__name__} has no target networks (an inference_only build); "
                f"build it with inference_only=False"
            )
        pairs = [(self.encoder, self.target_encoder), (self.af, self.target_af)]
        if self.vf is not None and self.target_vf is not None:
            pairs.append((self.vf, self.target_vf))
        return pairs

    def sync_target_networks(self, tau: float = 1.0) -> None:
        """Polyak update ``target <- tau * online + (1 - tau) * target`` (1.0: hard copy)."""
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not 0.0 < tau <= 1.0:
            raise ConfigError(
                f"sync_target_networks needs 0 < tau <= 1 (1.0 copies the online weights), "
                f"got tau={tau!r}"
            )
        with torch.no_grad():
            for online, target in self.get_target_network_pairs():
                for t, o in zip(target.state_dict().values(), online.state_dict().values()):
                    if t.is_floating_point():
                        t.lerp_(o, float(tau))
                    else:
                        t.copy_(o)

    def get_non_inference_attributes(self) -> list[str]:
        return ["target_encoder", "target_af", "target_vf"]

    # --- Q-values ---------------------------------------------------------------------------
    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = self.compute_q_values(batch)
        out[Columns.ACTION_DIST_INPUTS] = out[Columns.QF_PREDS]
        return out

    def compute_q_values(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """Online Q-values ``{"qf_preds": [B, A]}`` (plus distributional outputs, ``state_out``)."""
        return self._q_values(batch, self.encoder, self.af, self.vf)

    def forward_target(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Target-network Q-values, in the form of :meth:`compute_q_values`."""
        pairs = self.get_target_network_pairs()
        target_vf = pairs[2][1] if len(pairs) > 2 else None
        return self._q_values(batch, pairs[0][1], pairs[1][1], target_vf)

    def compute_next_q_values(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """TD bootstrap values from ``batch["new_obs"]``, without gradients.

        ``qf_target_next_preds`` ``[B]`` is the target network's Q of the next action, which
        the online network picks when ``double_q`` (Double DQN), else the target network;
        distributional modules add ``qf_target_next_probs`` ``[B, N]`` and ``atoms``.
        """
        if Columns.NEXT_OBS not in batch:
            raise BatchError(
                f"compute_next_q_values needs the next observations under "
                f"{Columns.NEXT_OBS!r}; the batch has {sorted(batch)}"
            )
        next_batch = {**batch, Columns.OBS: batch[Columns.NEXT_OBS]}
        with torch.no_grad():
            target = self.forward_target(next_batch)
            chooser = self.compute_q_values(next_batch) if self.model_config.double_q else target
            next_actions = chooser[Columns.QF_PREDS].argmax(-1, keepdim=True)
            out = {Columns.QF_TARGET_NEXT_PREDS:
                   target[Columns.QF_PREDS].gather(-1, next_actions).squeeze(-1)}
            if QF_PROBS in target:
                index = next_actions.unsqueeze(-1).expand(*next_actions.shape, self.atoms.numel())
                out[QF_TARGET_NEXT_PROBS] = target[QF_PROBS].gather(-2, index).squeeze(-2)
                out[ATOMS] = self.atoms
        return out

    def _q_values(self, batch: Mapping[str, Any], encoder: nn.Module, af: nn.Module,
                  vf: nn.Module | None) -> dict[str, Any]:
        encoded = encoder(batch)
        features = encoded[ENCODER_OUT]
        advantages = af(features)
        num_atoms = self.atoms.numel()
        if num_atoms > 1:
            advantages = advantages.unflatten(-1, (self.num_actions, num_atoms))
        if vf is not None:  # dueling: Q = V + A - mean_a A (Wang et al. 2016, eq. 9)
            value = vf(features)
            if num_atoms > 1:
                value = value.unsqueeze(-2)
            advantages = value + advantages - advantages.mean(-2 if num_atoms > 1 else -1,
                                                              keepdim=True)
        if num_atoms == 1:
            out = {Columns.QF_PREDS: advantages}
        else:  # Q = sum_i p_i z_i over the support z (Bellemare et al. 2017)
            probs = advantages.softmax(-1)
            out = {Columns.QF_PREDS: (probs * self.atoms).sum(-1), QF_LOGITS: advantages,
                   QF_PROBS: probs, ATOMS: self.atoms}
        if Columns.STATE_OUT in encoded:
            out[Columns.STATE_OUT] = encoded[Columns.STATE_OUT]
        return out
