"""Declares ``use_gru`` and ``gru_hidden``; builds :class:`GRUEncoder` for 1-D Box
observations when a default module's ``model_config`` sets ``rlm_gru.use_gru``."""

from __future__ import annotations

import rlmodules
from rlmodules.registry import ConfigKey


@rlmodules.hookimpl
def rlmodules_config_keys():
    return {
        "use_gru": ConfigKey(type=bool, default=False, doc="encode Box observations with a GRU"),
        "gru_hidden": ConfigKey(type=int, default=32, doc="the GRU's hidden size"),
    }


@rlmodules.hookimpl
def rlmodules_build_encoder(observation_space, model_config):
    shape = getattr(observation_space, "shape", None)
    if not model_config.get("rlm_gru.use_gru") or shape is None or len(shape) != 1:
        return None
    from .encoder import GRUEncoder

    return GRUEncoder(int(shape[0]), model_config.get("rlm_gru.gru_hidden"))
