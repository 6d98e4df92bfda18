"""NumpyScaledBeta: ScaledBeta in numpy, for rlmodules-onnx's OnnxPolicy (no torch).

``inputs`` are the exported graph's ``action_dist_inputs`` ``[B, 2 * D]``; ``space`` is the
action space as JSON (``rlmodules.space_to_json``).
"""

from __future__ import annotations

import math

import numpy as np

_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _params(inputs, space):
    a, b = np.split(np.asarray(inputs, np.float64), 2, axis=-1)
    low = np.asarray(space["low"], np.float64)
    high = np.asarray(space["high"], np.float64)
    return 1 + np.logaddexp(0, a), 1 + np.logaddexp(0, b), low, high - low


class NumpyScaledBeta:
    def sample(self, inputs, space, rng):
        alpha, beta, low, scale = _params(inputs, space)
        return (low + scale * rng.beta(alpha, beta)).astype(np.float32)

    def logp(self, inputs, actions, space):
        alpha, beta, low, scale = _params(inputs, space)
        unit = np.clip((np.asarray(actions, np.float64) - low) / scale, 1e-6, 1 - 1e-6)
        log_norm = (_lgamma(alpha + beta) - _lgamma(alpha) - _lgamma(beta)).astype(np.float64)
        logp = log_norm + (alpha - 1) * np.log(unit) + (beta - 1) * np.log1p(-unit)
        return (logp - np.log(scale)).sum(-1).astype(np.float32)

    def deterministic(self, inputs, space):
        alpha, beta, low, scale = _params(inputs, space)
        return (low + scale * alpha / (alpha + beta)).astype(np.float32)
