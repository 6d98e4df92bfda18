"""The default PPO module: an actor (policy head) and a critic (value head) over encoders.

With ``vf_share_layers=True`` (the default) actor and critic share one encoder; otherwise
the critic has its own. ``inference_only=True`` drops the critic entirely.
"""

from __future__ import annotations

from typing import Any

import torch

from rlmodules.catalog import ENCODER_OUT, Catalog
from rlmodules.columns import Columns
from rlmodules.model_config import DefaultModelConfig
from rlmodules.torch_rl_module import TorchRLModule

__all__ = ["DefaultPPOTorchRLModule", "PPOCatalog"]


class PPOCatalog(Catalog):
    """Catalog of the default PPO module (encoder, policy head, value head, distribution)."""


class DefaultPPOTorchRLModule(TorchRLModule):
    """Actor-critic module for PPO; ``compute_values`` gives the critic's estimates.

    Extend it by overriding ``setup`` (call ``super().setup()`` then replace
    ``self.encoder``) or by passing another ``catalog_class``.
    """

    default_model_config_class = DefaultModelConfig
    default_catalog_class = "ppo"

    def setup(self) -> None:
        catalog = self.catalog
        assert catalog is not None
        self.encoder = catalog.build_encoder()
        self.pi = catalog.build_pi_head(self.encoder.output_dim)
        if not self.inference_only:
            self.vf_encoder = None if self.model_config.vf_share_layers else catalog.build_encoder()
            critic_dim = (self.vf_encoder or self.encoder).output_dim
            self.vf = catalog.build_vf_head(critic_dim)

    def input_specs_inference(self) -> list[str]:
        return [Columns.OBS]

    input_specs_exploration = input_specs_inference
    input_specs_train = input_specs_inference

    def get_initial_state(self) -> dict[str, Any]:
        return self.encoder.get_initial_state()

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        encoded = self.encoder(batch)
        out = {Columns.ACTION_DIST_INPUTS: self.pi(encoded[ENCODER_OUT])}
        if Columns.STATE_OUT in encoded:
            out[Columns.STATE_OUT] = encoded[Columns.STATE_OUT]
        return out

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        encoded = self.encoder(batch)
        features = encoded[ENCODER_OUT]
        out = {
            Columns.ACTION_DIST_INPUTS: self.pi(features),
            Columns.EMBEDDINGS: features,
        }
        if Columns.STATE_OUT in encoded:
            out[Columns.STATE_OUT] = encoded[Columns.STATE_OUT]
        return out

    def compute_values(
        self, batch: dict[str, Any], embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Value estimates ``[B]`` (or ``[B, T]``); reuses shared-encoder ``embeddings``."""
        if self.inference_only:
            raise RuntimeError(
                "this PPO module was built with inference_only=True and has no value function"
            )
        if self.vf_encoder is not None:
            embeddings = self.vf_encoder(batch)[ENCODER_OUT]
        elif embeddings is None:
            embeddings = self.encoder(batch)[ENCODER_OUT]
        return self.vf(embeddings).squeeze(-1)
