"""MobileNetV2Encoder: pretrained-compatible MobileNetV2 features over channels-last images."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import BatchError, SpaceError
from rlmodules.networks import ENCODER_OUT, Encoder
from torch import nn

from .architecture import FEATURES_DIM, mobilenet_v2_features
from .weights import features_state_dict, load_features_strictly, read_state_dict

__all__ = ["MobileNetV2Encoder"]

#: The normalisation torchvision's ImageNet weights expect (per RGB channel).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class MobileNetV2Encoder(Encoder):
    """MobileNetV2 features, global average pooling: ``[..., H, W, 3] -> [..., 1280]``.

    RGB images of a ``uint8`` space are scaled to ``[0, 1]`` (float images are expected
    there already), then normalised with ImageNet's mean and std. ``self.features`` has
    torchvision's parameter names, so :meth:`load_torchvision_weights` loads a locally saved
    state dict strictly. ``freeze=True`` stops gradients into the features and keeps their
    BatchNorm statistics fixed (eval mode) even while the module trains.

    Example::

        encoder = MobileNetV2Encoder(gym.spaces.Box(0, 255, (224, 224, 3), np.uint8), freeze=True)
        encoder.load_torchvision_weights("mobilenet_v2.pth")
        features = encoder({"obs": images})["encoder_out"]   # [B, 1280]
    """

    output_dim = FEATURES_DIM

    def __init__(self, observation_space: gym.Space, *, freeze: bool = False) -> None:
        super().__init__()
        if not (isinstance(observation_space, gym.spaces.Box)
                and len(observation_space.shape) == 3 and observation_space.shape[2] == 3):
            raise SpaceError(
                f"MobileNetV2 needs RGB images: a Box of shape [H, W, 3] (channels last), got "
                f"{observation_space}"
            )
        self.image_shape = tuple(int(d) for d in observation_space.shape)
        self._uint8 = observation_space.dtype == np.uint8
        self.features = mobilenet_v2_features()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)
        self.frozen = freeze
        if freeze:
            self.features.requires_grad_(False)
            self.features.eval()

    def load_torchvision_weights(
        self, source: str | os.PathLike[str] | Mapping[str, torch.Tensor]
    ) -> None:
        """Load torchvision MobileNetV2 weights (a file path or a state dict) strictly.

        Accepts the whole model's state dict (its classifier is ignored) or that of
        ``.features``; anything else is a ``CheckpointError`` and loads nothing.
        """
        state = read_state_dict(source) if isinstance(source, (str, os.PathLike)) else source
        load_features_strictly(self.features, features_state_dict(state))

    def train(self, mode: bool = True) -> MobileNetV2Encoder:
        super().train(mode)
        if self.frozen:
            self.features.eval()
        return self

    def forward(self, batch: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        if obs.dim() < 4 or tuple(obs.shape[-3:]) != self.image_shape:
            raise BatchError(
                f"MobileNetV2Encoder expects observations [B, ...] of images "
                f"{list(self.image_shape)} (channels last), got shape {tuple(obs.shape)}"
            )
        lead = obs.shape[:-3]
        images = obs.reshape(-1, *self.image_shape).permute(0, 3, 1, 2).float()
        if self._uint8:
            images = images / 255.0
        features = self.features((images - self.mean) / self.std)
        pooled = nn.functional.adaptive_avg_pool2d(features, 1).flatten(1)
        return {ENCODER_OUT: pooled.reshape(*lead, self.output_dim)}
