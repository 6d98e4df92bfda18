"""Reading an iteration's result dict: its step count and its numbers, flattened.

Shared by every sink (CSV, TensorBoard, W&B, MLflow), the progress line and the plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["scalars", "timesteps_of"]


def timesteps_of(result: Mapping[str, Any]) -> int:
    """The run's step count in ``result``: env steps sampled, or for behaviour cloning
    the recorded steps trained on."""
    steps = result.get("num_env_steps_sampled_lifetime")
    if steps is None:
        steps = result.get("num_offline_steps_trained_lifetime", 0)
    return int(steps)


def scalars(result: Mapping[str, Any], prefix: str = "", *, finite: bool = True
            ) -> Iterator[tuple[str, int | float]]:
    """``(tag, value)`` for every number in ``result`` (ints stay ints; only finite ones
    unless ``finite=False``), nested dicts flattened with ``/``
    (``evaluation/episode_return_mean``)."""
    for key, value in result.items():
        tag = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from scalars(value, f"{tag}/", finite=finite)
            continue
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy / torch scalar
            value = value.item()
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and (math.isfinite(value) or not finite):
            yield tag, value
