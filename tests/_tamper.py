"""Structural tampering for the fuzzers: Hypothesis strategies that edit one field of a JSON
document (type swaps, out-of-range numbers, deletions, extra keys, deep nesting) and edit
tensor files, and the helpers that write the result back re-signed, as an attacker who
knows the format would."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rlmodules.checkpoint import CHECKSUM_KEY, signed_json

#: Few examples in the default suite (FEW where each costs a restore of an algorithm); the
#: slow tests ask for many more.
FAST = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
FEW = settings(FAST, max_examples=6)
SLOW = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


#: What a field may be replaced with: every JSON type, boundary and out-of-range numbers,
#: names that would import code, and deep nesting.
REPLACEMENTS = st.sampled_from([
    None, True, False, 0, 1, -1, 2, 7, 2**31, 2**63, 2**64, -(2**63), 10**30, 0.0, -0.0,
    0.5, 1.5, -1e308, 1e308, 5e-324, "", "x", "PCG64", "rlmodules/ppo", "subprocess:Popen",
    "../../etc/passwd", "\u00e9\u0000", [], [1], [[1, 2], [3]], {}, {"a": 1}, {"name": 5},
    _deep(70),
])


def json_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``doc`` (the checksum left out: it is re-signed)."""
    paths = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key != CHECKSUM_KEY:
                paths += json_paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:4]):  # the first few items of long lists
            paths += json_paths(value, (*prefix, index))
    return paths


@st.composite
def json_edits(draw: Any, doc: Any) -> tuple[str, tuple[Any, ...], Any]:
    """``(kind, path, value)``: replace, delete, or add a key next to, one field."""
    paths = json_paths(doc)
    path = paths[draw(st.integers(0, len(paths) - 1))]
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "number"]))
    value = draw(REPLACEMENTS)
    if kind == "number":  # a nearby number where there was one: off-by-one and signs
        value = draw(st.sampled_from([-1, 0, 1, -2**70, 2**70]))
    return kind, path, value


def edited(doc: Any, edit: tuple[str, tuple[Any, ...], Any]) -> Any:
    """A copy of ``doc`` with ``edit`` applied."""
    kind, path, value = edit
    out = copy.deepcopy(doc)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    old = parent[last]
    if kind == "delete":
        del parent[last]
    elif kind == "add":
        target = old if isinstance(old, dict) else parent
        if isinstance(target, dict):
            target["unexpected_key"] = value
        else:
            target.append(value)
    elif kind == "number" and isinstance(old, (int, float)) and not isinstance(old, bool):
        parent[last] = old + value
    else:
        parent[last] = value
    return out


def write_signed(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` with a valid checksum of its edited contents."""
    path.write_text(signed_json(doc), encoding="utf-8")


def read_doc(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


BYTE_EDITS = st.tuples(st.sampled_from(["flip", "truncate"]), st.floats(0, 1), st.integers(0, 7))


def byte_edited(raw: bytes, edit: tuple[str, float, int]) -> bytes:
    """``raw`` with one bit flipped, or cut short, at a fraction of its length."""
    kind, where, bit = edit
    position = min(int(where * len(raw)), len(raw) - 1)
    if kind == "truncate":
        return raw[:position]
    flipped = bytearray(raw)
    flipped[position] ^= 1 << bit
    return bytes(flipped)
