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

__all__ = [
    "MAX_SPACE_DEPTH", "MAX_SPACE_ELEMENTS", "SUPPORTED_SPACES", "space_from_json",
    "space_to_json",
]

SUPPORTED_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")

#: Deepest nesting of Dict / Tuple spaces that JSON may describe.
MAX_SPACE_DEPTH = 32
#: Most elements (numbers and sub-spaces, all levels together) that JSON may describe:
#: 2**26, e.g. a 4096 x 4096 x 4 image.
MAX_SPACE_ELEMENTS = 2**26


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
    """Decode a dict written by :func:`space_to_json` back into a gymnasium space.

    Spaces read from files are untrusted, so decoding refuses nesting deeper than
    ``MAX_SPACE_DEPTH`` and more than ``MAX_SPACE_ELEMENTS`` numbers (Box elements, Discrete
    counts of a MultiDiscrete, MultiBinary bits and sub-spaces, all levels together) before
    allocating anything.
    """
    return _decode(data, 0, [MAX_SPACE_ELEMENTS])


def _decode(data: Any, depth: int, budget: list[int]) -> gym.Space:
    if not isinstance(data, dict) or "type" not in data:
        raise SpaceError(
            f"a space in JSON must be an object with a 'type' key (one of "
            f"{', '.join(SUPPORTED_SPACES)}), got {_short(data)}"
        )
    kind = data["type"]
    if depth >= MAX_SPACE_DEPTH:
        raise SpaceError(
            f"space JSON nests Dict/Tuple spaces deeper than {MAX_SPACE_DEPTH} levels "
            f"(the limit); flatten the space"
        )
    try:
        return _decode_kind(kind, data, depth, budget)
    except SpaceError:
        raise
    except _Malformed as exc:
        raise SpaceError(f"malformed {kind} space in JSON {_short(data)}: {exc}") from None
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise SpaceError(f"malformed {kind} space in JSON {_short(data)}: {exc!r}") from exc


class _Malformed(ValueError):
    """A field that is present but invalid (its message is shown as is)."""


def _decode_kind(kind: Any, data: dict[str, Any], depth: int, budget: list[int]) -> gym.Space:
    if kind == "Box":
        shape = tuple(_ints(data["shape"], "shape", minimum=0))
        _spend(budget, math.prod(shape), kind)
        dtype = np.dtype(data.get("dtype", "float32"))
        low = np.asarray(_unnumber(data["low"]), dtype=np.float64)
        high = np.asarray(_unnumber(data["high"]), dtype=np.float64)
        info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
        for name, bound in (("low", low), ("high", high)):
            finite = bound[np.isfinite(bound)]
            if finite.size and (finite.min() < info.min or finite.max() > info.max):
                raise _Malformed(f"'{name}' holds values outside the range of {dtype}")
        return gym.spaces.Box(
            low=np.broadcast_to(low, shape).astype(dtype),
            high=np.broadcast_to(high, shape).astype(dtype),
            shape=shape,
            dtype=dtype,
        )
    if kind == "Discrete":
        _spend(budget, 1, kind)
        return gym.spaces.Discrete(
            _int(data["n"], "n", minimum=1), start=_int(data.get("start", 0), "start")
        )
    if kind == "MultiDiscrete":
        nvec = data["nvec"]
        _spend(budget, len(nvec) if isinstance(nvec, list) else 1, kind)
        return gym.spaces.MultiDiscrete(
            np.asarray(nvec),
            dtype=np.dtype(data.get("dtype", "int64")),
            start=np.asarray(data["start"]) if "start" in data else None,
        )
    if kind == "MultiBinary":
        n = data["n"]
        sizes = _ints(n, "n", minimum=1) if isinstance(n, list) else [_int(n, "n", minimum=1)]
        _spend(budget, math.prod(sizes), kind)
        return gym.spaces.MultiBinary(n)
    if kind == "Dict":
        spaces = data["spaces"]
        if not isinstance(spaces, dict):
            raise _Malformed(f"'spaces' must be an object {{name: space}}, got {_short(spaces)}")
        _spend(budget, len(spaces), kind)
        return gym.spaces.Dict({k: _decode(v, depth + 1, budget) for k, v in spaces.items()})
    if kind == "Tuple":
        spaces = data["spaces"]
        if not isinstance(spaces, list):
            raise _Malformed(f"'spaces' must be a list of spaces, got {_short(spaces)}")
        _spend(budget, len(spaces), kind)
        return gym.spaces.Tuple([_decode(v, depth + 1, budget) for v in spaces])
    raise SpaceError(
        f"unknown space type {_short(kind)} in JSON: expected one of {', '.join(SUPPORTED_SPACES)}"
    )


def _int(value: Any, field: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (
        minimum is not None and value < minimum
    ):
        bound = "" if minimum is None else f" >= {minimum}"
        raise _Malformed(f"{field!r} must be an integer{bound}, got {_short(value)}")
    return value


def _ints(values: Any, field: str, *, minimum: int | None = None) -> list[int]:
    if not isinstance(values, list):
        raise _Malformed(f"{field!r} must be a list of integers, got {_short(values)}")
    return [_int(v, f"{field}[{i}]", minimum=minimum) for i, v in enumerate(values)]


def _spend(budget: list[int], count: int, kind: str) -> None:
    budget[0] -= count
    if budget[0] < 0:
        raise SpaceError(
            f"space JSON describes more than {MAX_SPACE_ELEMENTS:,} elements (the limit, "
            f"reached at a {kind} space); a space that large is not an observation or "
            f"action space a module can take"
        )


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters (untrusted input can be huge)."""
    text = repr(value) if not isinstance(value, (dict, list)) or len(value) < 50 else (
        f"<{type(value).__name__} of {len(value)} items>"
    )
    return text if len(text) <= limit else text[:limit] + "..."
