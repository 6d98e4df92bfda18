"""Gymnasium spaces as plain JSON, so specs and checkpoints are data any process can read.

Supported: Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple. Infinite Box bounds are
written as the strings ``"inf"`` / ``"-inf"`` (strict JSON has no infinity); uniform bounds
are written as one number.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from .errors import SpaceError

__all__ = ["space_to_json", "space_from_json", "SUPPORTED_SPACES"]

SUPPORTED_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")


def _number(x: float) -> float | int | str:
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _bounds(array: np.ndarray) -> Any:
    flat = array.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return _number(flat[0].item())
    return np.vectorize(_number, otypes=[object])(array).tolist() if array.size else []


def _unnumber(x: Any) -> Any:
    if isinstance(x, list):
        return [_unnumber(v) for v in x]
    if x in ("inf", "-inf"):
        return float(x)
    return x


def space_to_json(space: gym.Space) -> dict[str, Any]:
    """Encode a gymnasium space as a JSON-serialisable dict."""
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _bounds(space.low),
            "high": _bounds(space.high),
        }
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {
            "type": "MultiDiscrete",
            "nvec": space.nvec.tolist(),
            "start": space.start.tolist(),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": [int(d) for d in n] if isinstance(n, tuple) else int(n)}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(s) for s in space.spaces]}
    raise SpaceError(
        f"cannot encode space {space!r} as JSON: supported spaces are {', '.join(SUPPORTED_SPACES)}"
    )


def space_from_json(data: dict[str, Any]) -> gym.Space:
    """Decode a dict written by :func:`space_to_json` back into a gymnasium space."""
    if not isinstance(data, dict) or "type" not in data:
        raise SpaceError(
            f"a space in JSON must be an object with a 'type' key (one of "
            f"{', '.join(SUPPORTED_SPACES)}), got {data!r}"
        )
    kind = data["type"]
    try:
        if kind == "Box":
            shape = tuple(data["shape"])
            dtype = np.dtype(data.get("dtype", "float32"))
            low = np.asarray(_unnumber(data["low"]), dtype=np.float64)
            high = np.asarray(_unnumber(data["high"]), dtype=np.float64)
            return gym.spaces.Box(
                low=np.broadcast_to(low, shape).astype(dtype),
                high=np.broadcast_to(high, shape).astype(dtype),
                shape=shape,
                dtype=dtype,
            )
        if kind == "Discrete":
            return gym.spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
        if kind == "MultiDiscrete":
            return gym.spaces.MultiDiscrete(
                np.asarray(data["nvec"]),
                dtype=np.dtype(data.get("dtype", "int64")),
                start=np.asarray(data["start"]) if "start" in data else None,
            )
        if kind == "MultiBinary":
            return gym.spaces.MultiBinary(data["n"])
        if kind == "Dict":
            return gym.spaces.Dict({k: space_from_json(v) for k, v in data["spaces"].items()})
        if kind == "Tuple":
            return gym.spaces.Tuple([space_from_json(v) for v in data["spaces"]])
    except SpaceError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise SpaceError(f"malformed {kind} space in JSON {data!r}: {exc!r}") from exc
    raise SpaceError(
        f"unknown space type {kind!r} in JSON: expected one of {', '.join(SUPPORTED_SPACES)}"
    )
