"""The seeds' MobileNet example: the default PPO module with its encoder replaced by
MobileNetV2 (registered as ``"mobilenet_v2"``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
import torch
from rlmodules.errors import ConfigError
from rlmodules.model_config import DefaultModelConfig
from rlmodules.plugins import DefaultPPOTorchRLModule

from .encoder import MobileNetV2Encoder

__all__ = ["MobileNetV2ModelConfig", "MobileNetV2PPOTorchRLModule"]


def _boolean(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(
            f"MobileNetV2ModelConfig.{attribute.name} must be True or False, got {value!r}"
        )


@attrs.define(kw_only=True, slots=True)
class MobileNetV2ModelConfig(DefaultModelConfig):
    """``DefaultModelConfig`` plus ``freeze_encoder``: keep the MobileNetV2 features fixed
    (no gradients, fixed BatchNorm statistics) and train only the heads.

    Example::

        config = MobileNetV2ModelConfig(freeze_encoder=True, head_fcnet_hiddens=[256])
    """

    freeze_encoder: bool = attrs.field(default=False, validator=_boolean)


class MobileNetV2PPOTorchRLModule(DefaultPPOTorchRLModule):
    """``DefaultPPOTorchRLModule`` whose ``setup`` puts MobileNetV2 in place of the encoder.

    Observations are RGB images ``[H, W, 3]`` (uint8, or float in ``[0, 1]``); the policy and
    value heads come from the PPO catalog over the 1280 pooled features. Load pretrained
    torchvision weights with :meth:`load_torchvision_weights`; set ``freeze_encoder=True``
    to train only the heads.

    Example::

        module = RLModuleSpec(module_class="mobilenet_v2", observation_space=image_space,
                              action_space=gym.spaces.Discrete(2),
                              model_config={"freeze_encoder": True}).build()
        module.load_torchvision_weights("mobilenet_v2.pth")
    """

    default_model_config_class = MobileNetV2ModelConfig

    def setup(self) -> None:
        catalog = self.required_catalog()
        self.encoder = self._mobilenet()
        self.pi = catalog.build_pi_head(self.encoder.output_dim)
        self.vf_encoder = None
        self.vf = None
        if not self.inference_only:
            if not self.model_config.vf_share_layers:
                self.vf_encoder = self._mobilenet()
            self.vf = catalog.build_vf_head(self.encoder.output_dim)

    def _mobilenet(self) -> MobileNetV2Encoder:
        return MobileNetV2Encoder(self.observation_space,
                                  freeze=self.model_config.freeze_encoder)

    def load_torchvision_weights(
        self, source: str | os.PathLike[str] | Mapping[str, torch.Tensor]
    ) -> None:
        """Load torchvision MobileNetV2 weights (path or state dict) into every MobileNetV2
        of this module (the critic's too when it has its own); strict, all or nothing."""
        for encoder in (self.encoder, self.vf_encoder):
            if encoder is not None:
                encoder.load_torchvision_weights(source)
