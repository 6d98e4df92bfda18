"""RLlib's pure utilities under RLlib's names: the one place for such aliases.

``rlmodules port`` rewrites imports of ``ray.rllib.utils.*``, ``ray.rllib.models.utils``,
``ray.rllib.models.torch.misc`` and ``ray.rllib.core.learner.utils`` to this module, so a
ported module keeps calling ``override``, ``try_import_torch``, ``one_hot``, ... as before.

Example::

    from rlmodules.compat import FLOAT_MIN, override, try_import_torch

    torch, nn = try_import_torch()
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from .errors import ConfigError, SpaceError
from .networks import activation_class

__all__ = [
    "DEPRECATED_VALUE",
    "FLOAT_MAX",
    "FLOAT_MIN",
    "MAX_LOG_NN_OUTPUT",
    "MIN_LOG_NN_OUTPUT",
    "SMALL_NUMBER",
    "DeveloperAPI",
    "ModelConfigDict",
    "ModuleID",
    "NetworkType",
    "OverrideToImplementCustomLogic",
    "OverrideToImplementCustomLogic_CallToSuperRecommended",
    "PublicAPI",
    "StateDict",
    "TensorStructType",
    "TensorType",
    "batch",
    "convert_to_numpy",
    "convert_to_torch_tensor",
    "get_activation_fn",
    "make_target_network",
    "normc_initializer",
    "one_hot",
    "override",
    "same_padding",
    "try_import_torch",
    "unbatch",
    "valid_padding",
]

#: Smallest and largest float32 (RLlib masks logits with ``FLOAT_MIN``).
FLOAT_MIN = float(np.finfo(np.float32).min)
FLOAT_MAX = float(np.finfo(np.float32).max)
SMALL_NUMBER = 1e-6
#: RLlib's clamp range of log-std network outputs.
MIN_LOG_NN_OUTPUT = -5.0
MAX_LOG_NN_OUTPUT = 2.0
DEPRECATED_VALUE = -1

# Type aliases, for annotations only.
TensorType = Any
TensorStructType = Any
ModuleID = str
NetworkType = nn.Module
StateDict = dict[str, Any]
ModelConfigDict = dict[str, Any]


def override(parent: type) -> Callable[[Any], Any]:
    """Mark a method as overriding ``parent``'s; a ``NameError`` if ``parent`` has none."""

    def mark(method: Any) -> Any:
        name = getattr(getattr(method, "__func__", method), "__name__", None)
        if name is not None and not hasattr(parent, name):
            raise NameError(f"{name} does not override a method of {parent.__name__}")
        return method

    return mark


def _unchanged(obj: Any = None, *args: Any, **kwargs: Any) -> Any:
    """RLlib's API-stability markers (``@PublicAPI``, ``@PublicAPI(stability=...)``)."""
    if callable(obj) and not args and not kwargs:
        return obj
    return lambda target: target


PublicAPI = DeveloperAPI = _unchanged
OverrideToImplementCustomLogic = OverrideToImplementCustomLogic_CallToSuperRecommended = _unchanged


def try_import_torch(error: bool = False) -> tuple[Any, Any]:
    """``(torch, torch.nn)``; torch is a dependency here, so both are always there."""
    return torch, nn


def one_hot(x: torch.Tensor, space: gym.Space) -> torch.Tensor:
    """Float one-hot of Discrete indices ``[B]`` (``[B, n]``) or MultiDiscrete ``[B, K]``
    (the one-hots of each component, concatenated)."""
    if isinstance(space, gym.spaces.Discrete):
        return nn.functional.one_hot((x - int(space.start)).long(), int(space.n)).float()
    if isinstance(space, gym.spaces.MultiDiscrete):
        nvec = space.nvec.reshape(-1)
        parts = x.reshape(*x.shape[: x.dim() - space.nvec.ndim], -1).long().unbind(-1)
        return torch.cat(
            [nn.functional.one_hot(p, int(n)).float() for p, n in zip(parts, nvec)], dim=-1
        )
    raise SpaceError(f"one_hot needs a Discrete or MultiDiscrete space, got {space}")


def _map(value: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(value, Mapping):
        return {k: _map(v, fn) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_map(v, fn) for v in value)
    if isinstance(value, list):
        return [_map(v, fn) for v in value]
    return fn(value)


def convert_to_torch_tensor(x: Any, device: Any = None, pin_memory: bool = False) -> Any:
    """Every leaf of ``x`` as a tensor (float64 becomes float32), on ``device``."""

    def convert(leaf: Any) -> Any:
        if leaf is None:
            return None
        tensor = leaf if isinstance(leaf, torch.Tensor) else torch.as_tensor(np.asarray(leaf))
        if tensor.dtype == torch.float64:
            tensor = tensor.float()
        return tensor if device is None else tensor.to(device)

    return _map(x, convert)


def convert_to_numpy(x: Any) -> Any:
    """Every tensor leaf of ``x`` as a numpy array."""
    return _map(x, lambda v: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v)


def batch(items: Sequence[Any]) -> Any:
    """Stack a list of equally structured items (dicts/tuples of arrays) along a new axis 0."""
    if not items:
        raise ValueError("batch() needs at least one item")
    first = items[0]
    if isinstance(first, Mapping):
        return {k: batch([item[k] for item in items]) for k in first}
    if isinstance(first, tuple):
        return tuple(batch([item[i] for item in items]) for i in range(len(first)))
    if isinstance(first, torch.Tensor):
        return torch.stack(list(items))
    return np.stack([np.asarray(item) for item in items])


def unbatch(batched: Any) -> list[Any]:
    """The inverse of :func:`batch`: a list of items, one per index of axis 0."""
    leaves: list[Any] = []
    _map(batched, leaves.append)
    size = len(leaves[0])
    return [_map(batched, functools.partial(_item, index=i)) for i in range(size)]


def _item(value: Any, index: int) -> Any:
    return value[index]


def get_activation_fn(name: str | None = None, framework: str = "torch") -> Any:
    """The torch activation class for ``name`` (``None`` for ``"linear"``/``None``); the
    accepted names are ``rlmodules.model_config.ACTIVATION_LAYERS``."""
    if framework != "torch":
        raise ConfigError(f"get_activation_fn supports framework='torch' only, got {framework!r}")
    return activation_class(name)


def normc_initializer(std: float = 1.0) -> Callable[[torch.Tensor], None]:
    """An initializer drawing each row from N(0, 1) rescaled to norm ``std``."""

    def initializer(tensor: torch.Tensor) -> None:
        with torch.no_grad():
            tensor.normal_(0.0, 1.0)
            tensor.mul_(std / tensor.pow(2).sum(1, keepdim=True).sqrt())

    return initializer


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else (
        int(value[0]), int(value[1]))


def same_padding(in_size: Sequence[int], filter_size: int | Sequence[int],
                 stride_size: int | Sequence[int]) -> tuple[tuple[int, int, int, int],
                                                           tuple[int, int]]:
    """``((left, right, top, bottom) padding, (out_h, out_w))`` for "same" convolution."""
    (in_h, in_w), (f_h, f_w), (s_h, s_w) = _pair(in_size), _pair(filter_size), _pair(stride_size)
    out_h, out_w = math.ceil(in_h / s_h), math.ceil(in_w / s_w)
    # Negative when the filter is smaller than the stride: ZeroPad2d then crops, as in RLlib.
    pad_h = (out_h - 1) * s_h + f_h - in_h
    pad_w = (out_w - 1) * s_w + f_w - in_w
    return (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), (out_h, out_w)


def valid_padding(in_size: Sequence[int], filter_size: int | Sequence[int],
                  stride_size: int | Sequence[int]) -> tuple[int, int]:
    """``(out_h, out_w)`` of an unpadded ("valid") convolution."""
    (in_h, in_w), (f_h, f_w), (s_h, s_w) = _pair(in_size), _pair(filter_size), _pair(stride_size)
    return math.ceil((in_h - f_h + 1) / s_h), math.ceil((in_w - f_w + 1) / s_w)


def make_target_network(main_net: nn.Module) -> nn.Module:
    """A frozen copy of ``main_net`` (same weights, no gradients) to serve as its target."""
    target = copy.deepcopy(main_net)
    target.requires_grad_(False)
    return target
