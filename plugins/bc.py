"""The default behaviour-cloning module: an encoder and a policy head."""

from __future__ import annotations

from typing import Any

from rlmodules.catalog import Catalog
from rlmodules.columns import Columns
from rlmodules.model_config import DefaultModelConfig
from rlmodules.networks import ENCODER_OUT
from rlmodules.torch_rl_module import TorchRLModule

__all__ = ["BCCatalog", "DefaultBCTorchRLModule"]


class BCCatalog(Catalog):
    """Catalog of the default BC module (encoder, policy head, distribution)."""


class DefaultBCTorchRLModule(TorchRLModule):
    """Policy-only module for behaviour cloning (and any policy-gradient loss).

    One forward serves all three phases: ``action_dist_inputs`` (and ``state_out`` when
    the encoder is stateful).

    Example::

        module = DefaultBCTorchRLModule(observation_space=obs_space, action_space=act_space,
                                        model_config={"fcnet_hiddens": [64]})
        logits = module.forward_train({"obs": obs})["action_dist_inputs"]
    """

    default_model_config_class = DefaultModelConfig
    default_catalog_class = "rlmodules/bc"

    def setup(self) -> None:
        catalog = self.required_catalog()
        self.encoder = catalog.build_encoder()
        self.pi = catalog.build_pi_head(self.encoder.output_dim)

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
