"""The default PPO module: an actor (policy head) and a critic (value head) over encoders.

With ``vf_share_layers=True`` (the default) actor and critic share one encoder; otherwise
the critic has its own (``vf_encoder``). ``inference_only=True`` drops the critic entirely;
the actor's parameters keep their names, so a full state loads into such a build.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from rlmodules.apis import InferenceOnlyAPI, ValueFunctionAPI
from rlmodules.catalog import Catalog
from rlmodules.columns import Columns
from rlmodules.model_config import DefaultModelConfig
from rlmodules.networks import ENCODER_OUT
from rlmodules.torch_rl_module import TorchRLModule

__all__ = ["DefaultPPOTorchRLModule", "PPOCatalog", "PPOTorchRLModule"]

ACTOR = "actor"
CRITIC = "critic"


class PPOCatalog(Catalog):
    """Catalog of the default PPO module (encoder, policy head, value head, distribution)."""


class DefaultPPOTorchRLModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    """Actor-critic module for PPO; ``compute_values`` gives the critic's estimates.

    ``forward_inference`` / ``forward_exploration`` run only the actor;
    ``forward_train`` returns ``action_dist_inputs`` and the critic's ``embeddings``, which
    ``compute_values(batch, embeddings)`` reuses (a subclass may leave them out: values are
    then computed from the batch). With separate stateful encoders the state
    is ``{"actor": ..., "critic": ...}``; with a shared one, the encoder's state as is.

    Extend it by overriding ``setup`` (call ``super().setup()``, then replace
    ``self.encoder``) or by passing another ``catalog_class``. A subclass with its own
    ``setup`` may take ``model_config`` keys of its own: it then gets ``model_config`` as
    RLlib gives it, a dict of the defaults updated with the user's keys.

    Example::

        module = DefaultPPOTorchRLModule(observation_space=obs_space, action_space=act_space,
                                         model_config={"fcnet_hiddens": [64, 64]})
        out = module.forward_train({"obs": obs})
        values = module.compute_values({"obs": obs}, out["embeddings"])
    """

    default_model_config_class = DefaultModelConfig
    default_catalog_class = "rlmodules/ppo"

    def setup(self) -> None:
        catalog = self.required_catalog()
        self.encoder = catalog.build_encoder()
        self.pi = catalog.build_pi_head(self.encoder.output_dim)
        self.vf_encoder = None
        self.vf = None
        if not self.inference_only:
            if not self.__shared():
                self.vf_encoder = catalog.build_encoder()
            self.vf = catalog.build_vf_head((self.vf_encoder or self.encoder).output_dim)

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def output_specs_train(self) -> list[str]:
        return [Columns.ACTION_DIST_INPUTS]

    def get_non_inference_attributes(self) -> list[str]:
        return ["vf", "vf_encoder"]

    def __shared(self) -> bool:
        """``vf_share_layers``, read from the catalog's validated config (``model_config``
        is a plain dict for subclasses that bring their own keys)."""
        return bool(self.required_catalog().model_config.vf_share_layers)

    # --- state ----------------------------------------------------------------------------
    def get_initial_state(self) -> dict[str, Any]:
        if getattr(self, "encoder", None) is None:  # a subclass with networks of its own
            return {}
        actor = self.encoder.get_initial_state()
        if self.__shared():
            return actor
        critic = self.vf_encoder.get_initial_state() if self.vf_encoder is not None else {}
        return {k: v for k, v in ((ACTOR, actor), (CRITIC, critic)) if v}

    def __split(self) -> bool:
        """True when actor and critic have separate stateful encoders (nested state)."""
        split = self.__dict__.get("_split_state")
        if split is None:
            split = not self.__shared() and self.is_stateful()
            self.__dict__["_split_state"] = split
        return split

    def __encode(self, encoder: Any, batch: Mapping[str, Any], part: str) -> dict[str, Any]:
        """Run ``encoder`` with its own part (``"actor"``/``"critic"``) of a nested state."""
        if self.__split() and Columns.STATE_IN in batch:
            state = batch[Columns.STATE_IN].get(part)
            batch = {k: v for k, v in batch.items() if k != Columns.STATE_IN}
            if state is not None:
                batch[Columns.STATE_IN] = state
        return encoder(batch)

    # --- forwards -------------------------------------------------------------------------
    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        split = self.__split()
        encoded = self.__encode(self.encoder, batch, ACTOR) if split else self.encoder(batch)
        out = {Columns.ACTION_DIST_INPUTS: self.pi(encoded[ENCODER_OUT])}
        if split:  # run the critic's encoder too, to keep its state in step
            critic = None if self.vf_encoder is None else self.__encode(
                self.vf_encoder, batch, CRITIC)
            out[Columns.STATE_OUT] = self.__state_out(encoded, critic)
        elif Columns.STATE_OUT in encoded:
            out[Columns.STATE_OUT] = encoded[Columns.STATE_OUT]
        return out

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        encoded = self.__encode(self.encoder, batch, ACTOR)
        critic = None if self.vf_encoder is None else self.__encode(self.vf_encoder, batch, CRITIC)
        out = {
            Columns.ACTION_DIST_INPUTS: self.pi(encoded[ENCODER_OUT]),
            Columns.EMBEDDINGS: (critic or encoded)[ENCODER_OUT],
        }
        if self.is_stateful():
            out[Columns.STATE_OUT] = self.__state_out(encoded, critic)
        return out

    def __state_out(self, actor: Mapping[str, Any], critic: Mapping[str, Any] | None) -> Any:
        if self.__shared():
            return actor[Columns.STATE_OUT]
        parts = ((ACTOR, actor), (CRITIC, critic))
        return {k: enc[Columns.STATE_OUT] for k, enc in parts
                if enc is not None and Columns.STATE_OUT in enc}

    def compute_values(
        self, batch: dict[str, Any], embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Value estimates ``[B]`` (or ``[B, T]``).

        ``embeddings`` from ``forward_train`` skip the encoder; otherwise the critic's
        encoder (the shared one with ``vf_share_layers=True``) runs on ``batch``.
        """
        if self.vf is None:
            raise RuntimeError(
                f"{type(self).__name__} was built with inference_only=True and has no value "
                f"function; build it with inference_only=False to compute values"
            )
        if embeddings is None:
            encoder = self.vf_encoder or self.encoder
            embeddings = self.__encode(encoder, batch, CRITIC)[ENCODER_OUT]
        return self.vf(embeddings).squeeze(-1)


#: RLlib's name of the default PPO module (the same class).
PPOTorchRLModule = DefaultPPOTorchRLModule
