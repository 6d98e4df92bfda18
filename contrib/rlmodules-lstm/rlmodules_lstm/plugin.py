"""The plugin the ``rlmodules`` entry point names: registers ``"lstm"`` and makes
``DefaultModelConfig(use_lstm=True)`` recurrent in the default modules.

Targets are lazy strings and the decision hook imports the encoder only when called, so
listing names never imports torch.
"""

from __future__ import annotations

from typing import Any

import rlmodules


@rlmodules.hookimpl
def rlmodules_modules() -> dict[str, str]:
    return {"lstm": "rlmodules_lstm.modules:LSTMContainingRLModule"}


@rlmodules.hookimpl(tryfirst=True)
def rlmodules_build_encoder(observation_space: Any, model_config: Any, catalog: Any) -> Any:
    """With ``use_lstm=True``: an LSTM over the encoder the other plugins build for the
    observation space (asked for again with ``use_lstm=False``); else ``None``."""
    if not model_config.use_lstm:
        return None
    from .encoder import LSTMEncoder

    tokenizer = catalog.build_encoder(model_config | {"use_lstm": False})
    return LSTMEncoder.from_model_config(tokenizer, model_config, action_space=catalog.action_space)
