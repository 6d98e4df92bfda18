"""Gymnasium spaces round-trip through plain JSON."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from rlmodules import SpaceError, space_from_json, space_to_json

SPACES = [
    gym.spaces.Box(-1.0, 1.0, (3,)),
    gym.spaces.Box(low=np.array([-np.inf, 0.0]), high=np.array([np.inf, 5.0]), dtype=np.float64),
    gym.spaces.Box(0, 255, (8, 8, 3), dtype=np.uint8),
    gym.spaces.Discrete(5),
    gym.spaces.Discrete(3, start=-1),
    gym.spaces.MultiDiscrete([3, 4, 2]),
    gym.spaces.MultiBinary(6),
    gym.spaces.MultiBinary([2, 3]),
    gym.spaces.Dict({"pos": gym.spaces.Box(-1, 1, (2,)), "id": gym.spaces.Discrete(4)}),
    gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Box(-2, 2, (1,)))),
    gym.spaces.Dict({"nested": gym.spaces.Tuple((gym.spaces.MultiBinary(2),))}),
]


@pytest.mark.parametrize("space", SPACES, ids=lambda s: type(s).__name__)
def test_round_trip_through_strict_json(space):
    text = json.dumps(space_to_json(space), allow_nan=False)  # strict JSON: no Infinity
    assert space_from_json(json.loads(text)) == space


def test_unsupported_space_names_the_supported_ones():
    with pytest.raises(SpaceError, match="cannot encode space.*supported spaces are Box, Discrete"):
        space_to_json(gym.spaces.Text(5))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"n": 3}, "must be an object with a 'type' key"),
        ({"type": "Circle"}, "unknown space type 'Circle'.*expected one of Box"),
        ({"type": "Discrete"}, "malformed Discrete space"),
        ({"type": "Box", "shape": [2], "low": [0, 0, 0], "high": 1}, "malformed Box space"),
    ],
)
def test_malformed_json_is_a_clear_space_error(data, message):
    with pytest.raises(SpaceError, match=message):
        space_from_json(data)


def _nested_tuples(depth):
    data = {"type": "Discrete", "n": 2}
    for _ in range(depth):
        data = {"type": "Tuple", "spaces": [data]}
    return data


@pytest.mark.parametrize(
    "data, message",
    [
        ({"type": "Dict", "spaces": [1]},
         "malformed Dict space in JSON {'type': 'Dict', 'spaces': [1]}: 'spaces' must be an "
         "object {name: space}, got [1]"),
        ({"type": "Tuple", "spaces": 1},
         "malformed Tuple space in JSON {'type': 'Tuple', 'spaces': 1}: 'spaces' must be a "
         "list of spaces, got 1"),
        ({"type": "Discrete", "n": float("inf")},
         "malformed Discrete space in JSON {'type': 'Discrete', 'n': inf}: 'n' must be an "
         "integer >= 1, got inf"),
        ({"type": "Discrete", "n": 2.5},
         "malformed Discrete space in JSON {'type': 'Discrete', 'n': 2.5}: 'n' must be an "
         "integer >= 1, got 2.5"),
        ({"type": "Box", "shape": [2, -1], "low": 0, "high": 1},
         "malformed Box space in JSON {'type': 'Box', 'shape': [2, -1], 'low': 0, 'high': 1}: "
         "'shape[1]' must be an integer >= 0, got -1"),
        (_nested_tuples(5000),
         "space JSON nests Dict/Tuple spaces deeper than 32 levels (the limit); flatten the space"),
        ({"type": "Box", "shape": [10**9], "low": -1, "high": 1},
         "space JSON describes more than 67,108,864 elements (the limit, reached at a Box "
         "space); a space that large is not an observation or action space a module can take"),
        ({"type": "MultiBinary", "n": [10**5, 10**5]},
         "space JSON describes more than 67,108,864 elements (the limit, reached at a "
         "MultiBinary space)"),
    ],
    ids=["dict-list", "tuple-int", "n-inf", "n-float", "negative-shape", "deep", "huge-box",
         "huge-multibinary"],
)
def test_untrusted_space_json_is_refused_fast_with_the_limit_named(data, message):
    with pytest.raises(SpaceError) as info:
        space_from_json(data)
    assert str(info.value).startswith(message)


def test_the_limits_admit_large_real_spaces():
    frames = {"type": "Box", "shape": [1024, 1024, 3], "low": 0, "high": 255, "dtype": "uint8"}
    assert space_from_json(frames).shape == (1024, 1024, 3)
    assert space_from_json(_nested_tuples(31)) == space_from_json(_nested_tuples(31))
