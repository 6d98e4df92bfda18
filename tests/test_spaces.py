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
