"""What the manifest says about a module's action distribution, for OnnxPolicy's sampling.

The built-in distribution classes are described by their parameters (a subclass may sample
differently, so only the classes themselves); a plugin's registered distribution for which
a plugin registered a numpy sampler (the ``rlmodules_onnx_samplers`` hook) by its name and
action space. Anything else is recorded by name, and exploring with it is a clear error
while greedy actions, computed inside the graph, still work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rlmodules import registry
from rlmodules.plugins import distributions as builtin
from rlmodules.spaces import space_to_json

from .samplers import find_sampler

__all__ = ["describe_distribution"]

#: The built-in distributions' registered names (qualified), described by their parameters.
_BUILTIN_NAMES = {f"rlmodules/{n}" for n in ("categorical", "multi_categorical", "bernoulli",
                                             "deterministic", "diag_gaussian",
                                             "squashed_gaussian", "multi_distribution")}


def describe_distribution(dist_cls: Any, action_space: Any) -> dict[str, Any]:
    """A JSON-ready description of ``dist_cls`` (configured for ``action_space`` if it is not)."""
    base = dist_cls.base_class() if hasattr(dist_cls, "base_class") else dist_cls
    name = registry.name_of("distribution", base) or getattr(base, "__qualname__", repr(base))
    if name not in _BUILTIN_NAMES:
        if find_sampler(name) is not None:
            return {"type": "plugin", "distribution": name, "space": space_to_json(action_space)}
        return {"type": None, "class": name}
    if getattr(dist_cls, "space", None) is None:
        dist_cls = dist_cls.for_space(action_space)
    base = dist_cls.base_class()
    if base is builtin.Categorical:
        return {"type": "categorical", "start": int(dist_cls.start)}
    if base is builtin.MultiCategorical:
        start = dist_cls.start or (0,) * len(dist_cls.nvec)
        return {"type": "multi_categorical", "nvec": list(dist_cls.nvec), "start": list(start)}
    if base is builtin.Bernoulli:
        return {"type": "bernoulli"}
    if base is builtin.Deterministic:
        return {"type": "deterministic"}
    if base in (builtin.DiagGaussian, builtin.SquashedGaussian):
        desc = {"type": "diag_gaussian", "log_std_min": float(base.LOG_STD_MIN),
                "log_std_max": float(base.LOG_STD_MAX)}
        if base is builtin.SquashedGaussian:
            desc.update(type="squashed_gaussian", low=np.asarray(dist_cls.low).tolist(),
                        high=np.asarray(dist_cls.high).tolist())
        return desc
    if base is builtin.MultiDistribution:
        children = dist_cls.children
        if isinstance(children, Mapping):
            keys: list[Any] | None = list(children)
            parts = [(children[k], action_space[k]) for k in children]
        else:
            keys = None
            parts = list(zip(children, action_space.spaces))
        return {"type": "multi_distribution", "keys": keys,
                "input_lens": list(dist_cls.input_lens),
                "children": [describe_distribution(c, s) for c, s in parts]}
    return {"type": None, "class": name}
