"""The action distributions in numpy: exploration for OnnxPolicy, without torch.

Each function takes the manifest's description of a distribution, ``action_dist_inputs``
``[B, D]`` (float32) and a numpy Generator, and returns ``(actions, logp)`` with the same
meaning as the built-in torch distributions (``rlmodules.plugins.distributions``): the same
parameterisation, log-std clamps, squash and ``logp`` formulas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from rlmodules.errors import ExportError

from .samplers import find_sampler, missing_sampler_message

__all__ = ["SUPPORTED", "sample"]

_LOG_2PI = math.log(2 * math.pi)
_LOG_2 = math.log(2.0)

def sample(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> tuple[Any, Any]:
    """Draw actions from the distribution ``desc`` describes; returns ``(actions, logp)``."""
    sampler = _SAMPLERS.get(desc.get("type"))
    if sampler is None:
        raise ExportError(
            f"cannot explore with action distribution {desc.get('class', desc)!r}: OnnxPolicy "
            f"samples {', '.join(SUPPORTED)}, and {missing_sampler_message(str(desc.get('class')))}"
            f" before exporting; use explore=False (greedy actions come from the graph)"
        )
    return sampler(desc, inputs, rng)


def _plugin(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    """A plugin's numpy sampler (the ``rlmodules_onnx_samplers`` hook), checked for shape."""
    name = desc["distribution"]
    sampler = find_sampler(name)
    if sampler is None:
        raise ExportError(f"cannot explore: {missing_sampler_message(name)} in this process "
                          f"(is the plugin installed?); use explore=False")
    actions = sampler.sample(inputs, desc["space"], rng)
    logp = np.asarray(sampler.logp(inputs, actions, desc["space"]), dtype=np.float32)
    if logp.shape != inputs.shape[:-1]:
        raise ExportError(f"the numpy sampler of {name!r} gave log-probabilities of shape "
                          f"{logp.shape} for inputs {inputs.shape}; expected {inputs.shape[:-1]}")
    return actions, logp


def _categorical(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    # Few numpy calls: this runs once per env step, where each call's overhead counts.
    shifted = inputs - inputs.max(-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(-1))
    # Gumbel-max: argmax(logits + G) with Gumbel noise G is distributed as softmax(logits).
    index = (shifted + rng.gumbel(size=shifted.shape)).argmax(-1)
    if shifted.ndim == 2:
        chosen = shifted[np.arange(len(index)), index]
    else:
        chosen = np.take_along_axis(shifted, index[..., None], -1)[..., 0]
    start = int(desc["start"])
    return (index + start if start else index), (chosen - log_norm).astype(np.float32)


def _multi_categorical(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    parts = np.split(inputs, np.cumsum(desc["nvec"])[:-1], axis=-1)
    drawn = [_categorical({"start": s}, p, rng) for p, s in zip(parts, desc["start"])]
    actions = np.stack([a for a, _ in drawn], axis=-1)
    return actions, np.sum([lp for _, lp in drawn], axis=0).astype(np.float32)


def _bernoulli(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    actions = (rng.random(inputs.shape) < 1.0 / (1.0 + np.exp(-inputs))).astype(np.float32)
    # log σ(l) for 1, log σ(-l) for 0: a * l - softplus(l).
    logp = (actions * inputs - np.logaddexp(0.0, inputs)).sum(-1)
    return actions, logp.astype(np.float32)


def _gaussian(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    mean, log_std = np.split(inputs, 2, axis=-1)
    log_std = np.clip(log_std, desc["log_std_min"], desc["log_std_max"])
    std = np.exp(log_std)
    pre = rng.normal(mean, std).astype(np.float32)
    z = (pre - mean) / std
    density = -0.5 * z * z - log_std - 0.5 * _LOG_2PI  # log N(pre; mean, std²)
    return pre, density


def _diag_gaussian(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    actions, density = _gaussian(desc, inputs, rng)
    return actions, density.sum(-1).astype(np.float32)


def _squashed_gaussian(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    pre, density = _gaussian(desc, inputs, rng)
    low, high = np.asarray(desc["low"]), np.asarray(desc["high"])
    centre, half = (high + low) / 2, (high - low) / 2
    actions = (centre + half * np.tanh(pre)).astype(np.float32)
    # log p(a) = log N(u) - log|da/du|, log|da/du| = log(half) + 2 (log 2 - u - softplus(-2u)).
    log_det = 2.0 * (_LOG_2 - pre - np.logaddexp(0.0, -2.0 * pre)) + np.log(half)
    return actions, (density - log_det).sum(-1).astype(np.float32)


def _deterministic(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    return inputs.copy(), np.zeros(inputs.shape[:-1], dtype=np.float32)


def _multi_distribution(desc: dict[str, Any], inputs: np.ndarray, rng: np.random.Generator) -> Any:
    parts = np.split(inputs, np.cumsum(desc["input_lens"])[:-1], axis=-1)
    drawn = [sample(child, part, rng) for child, part in zip(desc["children"], parts)]
    logp = np.sum([lp for _, lp in drawn], axis=0).astype(np.float32)
    if desc["keys"] is None:
        return tuple(a for a, _ in drawn), logp
    return dict(zip(desc["keys"], (a for a, _ in drawn))), logp


# Each takes (description, inputs, rng) and returns (actions, logp).
_SAMPLERS: dict[Any, Callable[..., tuple[Any, Any]]] = {
    "categorical": _categorical,
    "multi_categorical": _multi_categorical,
    "bernoulli": _bernoulli,
    "diag_gaussian": _diag_gaussian,
    "squashed_gaussian": _squashed_gaussian,
    "deterministic": _deterministic,
    "multi_distribution": _multi_distribution,
    "plugin": _plugin,
}
SUPPORTED = tuple(name for name in _SAMPLERS if name != "plugin")  # the built-ins
