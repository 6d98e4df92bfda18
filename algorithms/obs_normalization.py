"""Observation normalisation: a running mean and variance of the observations (RLlib's
``MeanStdFilter``, SB3's ``VecNormalize(norm_obs=True)``).

The policy sees ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``. Training
updates the statistics with every batch of observations; evaluation and export use them
frozen. In an algorithm checkpoint they are the tensor file ``obs_normalization`` (float64
``mean`` and ``var`` of the observation's shape, ``count`` of shape ``[1]``) plus
``clip`` and ``epsilon`` under ``"obs_normalization"`` in ``algorithm_state.json``;
:meth:`ObservationNormalizer.from_checkpoint` reads them back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.wrappers.utils import RunningMeanStd
from rlmodules.checkpoint import structure
from rlmodules.errors import ConfigError

from .checkpoint import OBS_NORMALIZATION, read_algorithm_state
from .checkpoint_schema import ObsNormalizationSettings, check_obs_statistics

__all__ = ["ObservationNormalizer", "NormalizeObservations", "OBSERVATION_FILTERS"]

#: ``env_runners(observation_filter=...)`` values (RLlib's names).
OBSERVATION_FILTERS = ("NoFilter", "MeanStdFilter")


class ObservationNormalizer:
    """Running mean/variance of ``Box`` observations, and the normalisation they define.

    Example::

        normalizer = ObservationNormalizer(env.observation_space)
        normalizer.update(batch_of_obs)                  # [N, *shape]
        policy_input = normalizer.normalize(obs)         # float32, clipped to [-10, 10]
    """

    def __init__(self, observation_space: gym.Space, *, clip: float = 10.0,
                 epsilon: float = 1e-8) -> None:
        if not isinstance(observation_space, gym.spaces.Box):
            raise ConfigError(
                f"observation_filter='MeanStdFilter' normalises Box observations; got "
                f"{observation_space}. Use observation_filter='NoFilter' for this env"
            )
        self.shape = tuple(observation_space.shape)
        self.clip = float(clip)
        self.epsilon = float(epsilon)
        self.stats = RunningMeanStd(shape=self.shape)

    def update(self, observations: np.ndarray) -> None:
        """Fold a batch ``[N, *shape]`` into the running statistics."""
        self.stats.update(np.asarray(observations, dtype=np.float64))

    def normalize(self, observations: np.ndarray) -> np.ndarray:
        """``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)`` as float32."""
        scaled = (observations - self.stats.mean) / np.sqrt(self.stats.var + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    # --- checkpoints --------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """``(tensors, settings)``: what a checkpoint stores."""
        tensors = {
            "mean": torch.from_numpy(np.array(self.stats.mean, dtype=np.float64)),
            "var": torch.from_numpy(np.array(self.stats.var, dtype=np.float64)),
            "count": torch.tensor([float(self.stats.count)], dtype=torch.float64),
        }
        return tensors, {"clip": self.clip, "epsilon": self.epsilon}

    def check_state(self, tensors: dict[str, torch.Tensor], settings: dict[str, Any], *,
                    source: object = "the observation statistics") -> None:
        """Raise ``CheckpointError`` unless :meth:`set_state` can take ``(tensors,
        settings)``: finite float64 ``mean`` and ``var > 0`` of this normaliser's shape,
        ``count >= 0``, and ``clip`` and ``epsilon`` finite and > 0."""
        structure(dict(settings), ObsNormalizationSettings, source=source)
        check_obs_statistics(tensors, self.shape, source=source)

    def set_state(self, tensors: dict[str, torch.Tensor], settings: dict[str, Any]) -> None:
        """Restore what :meth:`state` gave, whole or not at all (see :meth:`check_state`)."""
        self.check_state(tensors, settings)
        self.stats.mean = tensors["mean"].numpy().astype(np.float64)
        self.stats.var = tensors["var"].numpy().astype(np.float64)
        self.stats.count = float(tensors["count"][0])
        self.clip = float(settings["clip"])
        self.epsilon = float(settings["epsilon"])

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> ObservationNormalizer | None:
        """The statistics saved in the algorithm checkpoint at ``path`` (``None`` if it was
        trained without ``MeanStdFilter``); for exporters and tools."""
        from rlmodules.checkpoint import read_tensor_file

        path = Path(path)
        state = read_algorithm_state(path)  # checksummed, format-checked
        settings = state.get(OBS_NORMALIZATION)
        if settings is None:
            return None
        entry = state["tensor_files"][OBS_NORMALIZATION]
        tensors = read_tensor_file(path, entry)
        shape = tuple(tensors["mean"].shape) if "mean" in tensors else ()
        normalizer = cls(gym.spaces.Box(-np.inf, np.inf, shape))
        normalizer.set_state(tensors, settings)
        return normalizer


class NormalizeObservations(gym.vector.VectorObservationWrapper):
    """A vector env whose observations pass through ``normalizer``; with ``update=True``
    (training) each batch of observations also updates its statistics first."""

    def __init__(self, env: gym.vector.VectorEnv, normalizer: ObservationNormalizer, *,
                 update: bool) -> None:
        super().__init__(env)
        self.normalizer = normalizer
        self.update = update
        self.observation_space = gym.spaces.Box(
            -normalizer.clip, normalizer.clip, env.observation_space.shape, np.float32)
        self.single_observation_space = gym.spaces.Box(
            -normalizer.clip, normalizer.clip, normalizer.shape, np.float32)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        if self.update:
            self.normalizer.update(observations)
        return self.normalizer.normalize(observations)
