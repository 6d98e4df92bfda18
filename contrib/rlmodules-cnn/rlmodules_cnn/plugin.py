"""The plugin the ``rlmodules`` entry point names: registers ``"tiny_atari_cnn"`` and
answers the default catalogs' encoder decision for image observations.

Targets are lazy strings and the decision hook imports the encoder only when called, so
listing names never imports torch.
"""

from __future__ import annotations

from typing import Any

import rlmodules


@rlmodules.hookimpl
def rlmodules_modules() -> dict[str, str]:
    return {"tiny_atari_cnn": "rlmodules_cnn.tiny_atari:TinyAtariCNN"}


@rlmodules.hookimpl
def rlmodules_build_encoder(observation_space: Any, model_config: Any, catalog: Any) -> Any:
    """A CNN encoder for image Box observations; ``None`` for anything else.

    With ``use_lstm=True`` it leaves the decision to an LSTM plugin, which asks again with
    ``use_lstm=False`` for the encoder to wrap.
    """
    from .filters import image_layout

    if model_config.use_lstm or image_layout(observation_space,
                                             model_config.conv_data_format) is None:
        return None
    from .encoder import CNNEncoder

    return CNNEncoder.from_model_config(observation_space, model_config)
