"""Registers ``scaled_beta``, declares ``use_beta``, chooses the distribution for bounded Box
action spaces when a default module's ``model_config`` sets it, and gives rlmodules-onnx its
numpy sampler (a plugin may implement hooks of packages it does not depend on)."""

from __future__ import annotations

import rlmodules
from rlmodules.registry import ConfigKey


@rlmodules.hookimpl
def rlmodules_distributions():
    return {"scaled_beta": "rlm_beta.distribution:ScaledBeta"}


@rlmodules.hookimpl
def rlmodules_config_keys():
    return {"use_beta": ConfigKey(type=bool, default=False,
                                  doc="Beta distribution for bounded Box actions")}


@rlmodules.hookimpl(tryfirst=True)
def rlmodules_action_dist_cls(action_space, model_config):
    bounded = type(action_space).__name__ == "Box" and action_space.is_bounded()
    if bounded and model_config.get("rlm_beta.use_beta"):
        return "scaled_beta"
    return None


@rlmodules.hookimpl
def rlmodules_onnx_samplers():
    return {"scaled_beta": "rlm_beta.numpy_beta:NumpyScaledBeta"}
