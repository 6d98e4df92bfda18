"""MobileNetV2's feature extractor in plain torch, laid out like torchvision's
``mobilenet_v2().features`` (same parameter and buffer names and shapes, width 1.0), so a
state dict saved from torchvision loads strictly.

Architecture: Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", Table 2.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["INVERTED_RESIDUAL_SETTINGS", "InvertedResidual", "mobilenet_v2_features",
           "FEATURES_DIM"]

#: (expansion t, output channels c, repeats n, first stride s) per stage (Table 2).
INVERTED_RESIDUAL_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
_FIRST_CHANNELS = 32
#: Channels of the last 1x1 convolution: the width of the pooled features.
FEATURES_DIM = 1280


def _conv_bn_relu6(
    in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """Conv (no bias) -> BatchNorm -> ReLU6, children named "0", "1", "2"."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, (kernel - 1) // 2,
                  groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Expand (1x1, unless t = 1) -> depthwise 3x3 -> linear 1x1 projection, with a skip
    connection when the block keeps its shape."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        self.use_residual = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(_conv_bn_relu6(in_channels, hidden, 1))
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


def mobilenet_v2_features() -> nn.Sequential:
    """The 19 feature blocks ``[N, 3, H, W] -> [N, 1280, H/32, W/32]``, initialised as
    torchvision does (Kaiming-normal fan-out convolutions, unit BatchNorm).

    Example::

        features = mobilenet_v2_features()
        features.load_state_dict(torchvision_state_dict_of_features)   # strict
    """
    blocks: list[nn.Module] = [_conv_bn_relu6(3, _FIRST_CHANNELS, 3, stride=2)]
    channels = _FIRST_CHANNELS
    for expansion, out_channels, repeats, stride in INVERTED_RESIDUAL_SETTINGS:
        for i in range(repeats):
            blocks.append(InvertedResidual(channels, out_channels, stride if i == 0 else 1,
                                           expansion))
            channels = out_channels
    blocks.append(_conv_bn_relu6(channels, FEATURES_DIM, 1))
    features = nn.Sequential(*blocks)
    for module in features.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return features
