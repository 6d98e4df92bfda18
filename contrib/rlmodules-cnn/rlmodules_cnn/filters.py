"""Convolution stacks as plain data: image layouts (channels last or first), default
``conv_filters`` per image size, validation, and TF-style "same" / "valid" padding
arithmetic (torch-free, so a bad stack is reported before any layer exists).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import gymnasium as gym
from rlmodules.errors import ConfigError, SpaceError

__all__ = ["ConvLayer", "DATA_FORMATS", "DEFAULT_CONV_FILTERS", "ImageLayout",
           "default_conv_filters", "image_layout", "image_shape", "parse_conv_filters"]

#: Values of ``model_config`` ``conv_data_format`` (``None``: decided from the space).
DATA_FORMATS = ("channels_last", "channels_first")

#: Default ``[out_channels, kernel, stride]`` stacks by ``(height, width)``. Layers pad
#: "same" unless told otherwise (output size ``ceil(in / stride)``), so each default stack
#: ends on a small map (6x6 or 4x4) that the encoder flattens.
DEFAULT_CONV_FILTERS: dict[tuple[int, int], list[list[int]]] = {
    (84, 84): [[16, 8, 4], [32, 4, 2], [64, 3, 2]],
    (64, 64): [[16, 4, 2], [32, 4, 2], [64, 4, 2], [128, 4, 2]],
    (42, 42): [[16, 4, 2], [32, 4, 2], [64, 3, 2]],
}


_PADDINGS = ("same", "valid")


@attrs.frozen
class ConvLayer:
    """One convolution: output channels, ``(kh, kw)`` kernel, ``(sh, sw)`` stride, padding."""

    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding_mode: str = "same"

    def padding(self, height: int, width: int) -> tuple[int, int, int, int]:
        """Zero padding as ``(left, right, top, bottom)``; "same" puts the odd pixel
        right/bottom (as TensorFlow does), "valid" pads nothing."""
        if self.padding_mode == "valid":
            return 0, 0, 0, 0
        top, bottom = _same_pad(height, self.kernel[0], self.stride[0])
        left, right = _same_pad(width, self.kernel[1], self.stride[1])
        return left, right, top, bottom

    def output_hw(self, height: int, width: int) -> tuple[int, int]:
        if self.padding_mode == "valid":
            return ((height - self.kernel[0]) // self.stride[0] + 1,
                    (width - self.kernel[1]) // self.stride[1] + 1)
        return math.ceil(height / self.stride[0]), math.ceil(width / self.stride[1])


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@attrs.frozen
class ImageLayout:
    """Size and axis order of the images of a Box space."""

    height: int
    width: int
    channels: int
    channels_first: bool = False


def image_layout(space: Any, data_format: str | None = None) -> ImageLayout | None:
    """The layout of an image Box space, else ``None`` (not 2-D or 3-D, or not a Box).

    A 3-D shape is channels last ``(H, W, C)`` when its last axis is the smallest, channels
    first ``(C, H, W)`` (PyTorch's, and gymnasium's frame stacks) when its first is; any
    other shape needs ``data_format`` (``model_config`` ``conv_data_format``) and is a
    ``SpaceError`` without it. ``[H, W]`` is one grayscale channel.
    """
    if not isinstance(space, gym.spaces.Box) or len(space.shape) not in (2, 3):
        return None
    shape = tuple(int(d) for d in space.shape)
    if len(shape) == 2:
        return ImageLayout(shape[0], shape[1], 1)
    if data_format is None:
        data_format = _guess_data_format(shape)
    elif data_format not in DATA_FORMATS:
        raise ConfigError(
            f"conv_data_format must be one of {list(DATA_FORMATS)} or None (decided from the "
            f"space), got {data_format!r}"
        )
    if data_format == "channels_first":
        return ImageLayout(shape[1], shape[2], shape[0], channels_first=True)
    return ImageLayout(*shape)


def _guess_data_format(shape: tuple[int, ...]) -> str:
    first, middle, last = shape
    if last < min(first, middle):
        return "channels_last"
    if first < min(middle, last):
        return "channels_first"
    raise SpaceError(
        f"rlmodules-cnn cannot tell the layout of images of shape {list(shape)}: channels "
        f"last (H, W, C) = {first}x{middle} with {last} channels, or channels first "
        f"(C, H, W) = {middle}x{last} with {first} channels; set model_config "
        f"conv_data_format='channels_last' or 'channels_first'"
    )


def image_shape(space: Any, data_format: str | None = None) -> tuple[int, int, int] | None:
    """``(height, width, channels)`` of an image Box space (see :func:`image_layout`),
    else ``None``."""
    layout = image_layout(space, data_format)
    return None if layout is None else (layout.height, layout.width, layout.channels)


def default_conv_filters(height: int, width: int) -> list[list[int]]:
    """The default stack for ``height x width`` images; ``SpaceError`` for other sizes."""
    try:
        return [list(layer) for layer in DEFAULT_CONV_FILTERS[(height, width)]]
    except KeyError:
        sizes = ", ".join(f"{h}x{w}" for h, w in DEFAULT_CONV_FILTERS)
        raise SpaceError(
            f"rlmodules-cnn has no default conv_filters for {height}x{width} images (defaults "
            f"exist for {sizes}); set model_config conv_filters to a list of [out_channels, "
            f"kernel, stride] triples, e.g. {DEFAULT_CONV_FILTERS[(84, 84)]}, or resize the "
            f"observations"
        ) from None


def parse_conv_filters(filters: Sequence[Any] | None, height: int, width: int) -> list[ConvLayer]:
    """Validated layers from ``conv_filters`` (the defaults for the size when ``None``).

    Entries are ``[out_channels, kernel, stride]`` or ``[..., padding]`` with padding
    ``"same"`` (the default) or ``"valid"``; kernels and strides are ints or ``[h, w]``
    pairs. A stack that shrinks the image to nothing is a ``SpaceError``.
    """
    if filters is None:
        filters = default_conv_filters(height, width)
    if not isinstance(filters, (list, tuple)) or not filters:
        raise ConfigError(
            f"conv_filters must be a non-empty list of [out_channels, kernel, stride] triples, "
            f"got {filters!r}"
        )
    layers = []
    size = (height, width)
    for index, spec in enumerate(filters):
        layer = _parse_layer(index, spec)
        out = layer.output_hw(*size)
        if min(out) < 1:
            raise SpaceError(
                f"conv_filters[{index}] = {list(spec)} cannot apply to a {size[0]}x{size[1]} "
                f"map (from {height}x{width} images): a 'valid' kernel {list(layer.kernel)} "
                f"is larger than its input; use 'same' padding or a smaller kernel"
            )
        layers.append(layer)
        size = out
    return layers


def _parse_layer(index: int, spec: Any) -> ConvLayer:
    if not isinstance(spec, (list, tuple)) or len(spec) not in (3, 4):
        raise ConfigError(
            f"conv_filters[{index}] must be [out_channels, kernel, stride] or "
            f"[out_channels, kernel, stride, padding], got {spec!r}"
        )
    out_channels, kernel, stride, *padding = spec
    if not _positive_int(out_channels):
        raise ConfigError(
            f"conv_filters[{index}]: out_channels must be a positive int, got {out_channels!r}"
        )
    mode = padding[0] if padding else "same"
    if mode not in _PADDINGS:
        raise ConfigError(
            f"conv_filters[{index}]: padding must be one of {list(_PADDINGS)}, got {mode!r}"
        )
    return ConvLayer(out_channels, _pair(index, "kernel", kernel),
                     _pair(index, "stride", stride), mode)


def _pair(index: int, what: str, value: Any) -> tuple[int, int]:
    if _positive_int(value):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_positive_int, value)):
        return int(value[0]), int(value[1])
    raise ConfigError(
        f"conv_filters[{index}]: {what} must be a positive int or a [height, width] pair of "
        f"positive ints, got {value!r}"
    )


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
