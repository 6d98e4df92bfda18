"""The policy of a trained run as one module that takes the env's raw observations.

A run trained with ``observation_filter="MeanStdFilter"`` has a module that expects
normalised observations; :func:`load_policy` puts the run's frozen statistics in front of
it (:class:`MeanStdFilterModule`), so ``compute_actions``, ``rlmodules record`` and any
loop act on raw observations as training did (RLlib's env-to-module connector pipeline,
restored with the module).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID, RLModule
from rlmodules.torch_rl_module import TorchRLModule

from .checkpoint import MODULE_COMPONENT, STATE_FILE
from .obs_normalization import ObservationNormalizer

__all__ = ["MeanStdFilterModule", "load_policy"]


def load_policy(path: str | Path, *, allow_import: bool = False) -> RLModule:
    """The module of a module checkpoint, or of an algorithm checkpoint behind the frozen
    observation statistics it was trained with (if any): it takes raw observations.
    ``allow_import`` is ``RLModule.from_checkpoint``'s.

    Example::

        policy = load_policy("runs/hopper/checkpoint")
        out = compute_actions(policy, {"obs": raw_obs[None]}, explore=False, for_env=True)
    """
    path = Path(path)
    if not (path / STATE_FILE).is_file():  # a module checkpoint
        return RLModule.from_checkpoint(path, allow_import=allow_import)
    module = RLModule.from_checkpoint(path / MODULE_COMPONENT, allow_import=allow_import)
    normalizer = ObservationNormalizer.from_checkpoint(path)
    if normalizer is None:
        return module
    if isinstance(module, MultiRLModule):
        if list(module.keys()) != [DEFAULT_MODULE_ID]:
            raise ConfigError(
                f"{path} normalises observations (MeanStdFilter) for module ids "
                f"{list(module.keys())}; only a single-agent run's filter can be applied"
            )
        module = module[DEFAULT_MODULE_ID]
    return MeanStdFilterModule(module, normalizer)


class MeanStdFilterModule(TorchRLModule):
    """``module`` behind frozen ``MeanStdFilter`` statistics: every forward first maps
    ``obs`` to ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``, as training did.

    Distributions, state and ``unwrapped()`` are the wrapped module's. The statistics are
    buffers (``obs_mean``, ``obs_std``), so a traced export carries them. It is built from a
    run (:func:`load_policy`), not saved on its own: keep the run's checkpoint.
    """

    def __init__(self, module: RLModule, normalizer: ObservationNormalizer) -> None:
        self._parts = (module, normalizer)  # for setup(), which the constructor calls
        super().__init__(
            observation_space=gym.spaces.Box(-np.inf, np.inf, normalizer.shape, np.float32),
            action_space=module.action_space,
            inference_only=module.inference_only,
        )

    def setup(self) -> None:
        module, normalizer = self.__dict__.pop("_parts")
        self.module = module
        self.clip = normalizer.clip
        self.register_buffer("obs_mean",
                             torch.as_tensor(normalizer.stats.mean, dtype=torch.float64))
        self.register_buffer("obs_std", torch.as_tensor(
            np.sqrt(normalizer.stats.var + normalizer.epsilon), dtype=torch.float64))

    def _normalized(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        obs = torch.as_tensor(batch[Columns.OBS], device=self.obs_mean.device)
        scaled = ((obs.double() - self.obs_mean) / self.obs_std).clamp(-self.clip, self.clip)
        return {**batch, Columns.OBS: scaled.float()}

    def _forward_inference(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.module.forward_inference(self._normalized(batch), **kwargs)

    def _forward_exploration(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.module.forward_exploration(self._normalized(batch), **kwargs)

    def _forward_train(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.module.forward_train(self._normalized(batch), **kwargs)

    def get_inference_action_dist_cls(self) -> Any:
        return self.module.get_inference_action_dist_cls()

    def get_exploration_action_dist_cls(self) -> Any:
        return self.module.get_exploration_action_dist_cls()

    def get_train_action_dist_cls(self) -> Any:
        return self.module.get_train_action_dist_cls()

    def get_initial_state(self) -> dict[str, Any]:
        return self.module.get_initial_state()

    def unwrapped(self) -> RLModule:
        return self.module.unwrapped()

    def save_to_path(self, path: Any = None, *, format: str | None = None) -> Any:
        raise ConfigError(
            "a MeanStdFilterModule is a trained run's module behind its observation "
            "statistics and is not saved on its own; keep the run's algorithm checkpoint "
            "(load_policy rebuilds this from it), or save .unwrapped() for the bare module"
        )
