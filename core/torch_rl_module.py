"""TorchRLModule: an RLModule that is also a ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .errors import CheckpointError
from .rl_module import RLModule

__all__ = ["TorchRLModule"]


class TorchRLModule(nn.Module, RLModule):
    """Base class of PyTorch RL modules; build layers in ``setup()``.

    Calling the module (``module(batch)``) runs ``forward_train``. Weights move with
    ``.to(device)``; :func:`rlmodules.compute_actions` feeds inputs on the module's device.
    """

    framework = "torch"

    def __init__(
        self,
        *,
        observation_space: Any = None,
        action_space: Any = None,
        inference_only: bool = False,
        model_config: Any = None,
        catalog_class: Any = None,
    ) -> None:
        nn.Module.__init__(self)
        RLModule.__init__(
            self,
            observation_space=observation_space,
            action_space=action_space,
            inference_only=inference_only,
            model_config=model_config,
            catalog_class=catalog_class,
        )

    def forward(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.forward_train(batch, **kwargs)

    def get_state(
        self,
        components: str | list[str] | None = None,
        *,
        not_components: str | list[str] | None = None,
        inference_only: bool = False,
    ) -> dict[str, Any]:
        """The ``state_dict`` (detached tensors). ``components`` apply to MultiRLModules."""
        return {k: v.detach() for k, v in self.state_dict().items()}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load a state dict strictly; an inference-only build drops training-only keys.

        Nothing is loaded unless every expected key is present with the right shape.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if unexpected and self.inference_only:
            state = {k: v for k, v in state.items() if k in own}
            unexpected = []
        wrong = [
            f"{k}: {tuple(v.shape)} (expected {tuple(own[k].shape)})"
            for k, v in state.items()
            if k in own and tuple(getattr(v, "shape", ())) != tuple(own[k].shape)
        ]
        if missing or unexpected or wrong:
            parts = []
            if missing:
                parts.append(f"missing keys {missing[:8]}{' ...' if len(missing) > 8 else ''}")
            if unexpected:
                parts.append(
                    f"unexpected keys {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}"
                )
            if wrong:
                parts.append(f"shape mismatches {wrong[:8]}")
            raise CheckpointError(
                f"cannot load state into {type(self).__name__}: {'; '.join(parts)}. Build the "
                f"module with the same spaces and model_config as the state's source"
            )
        with torch.no_grad():
            self.load_state_dict(state, strict=True)
