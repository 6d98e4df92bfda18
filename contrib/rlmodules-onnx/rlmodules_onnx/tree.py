"""Nested values (Dict / Tuple observations, actions, recurrent state) as named flat tensors.

An ONNX graph has flat, named inputs and outputs; the manifest keeps a *template* that says
how they nest: a leaf is the tensor's name (a string), ``{"dict": {key: template}}`` a dict
and ``{"tuple": [template, ...]}`` a tuple, in the space's order. Plain Python: the runtime
and the exporter share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rlmodules.errors import BatchError

__all__ = ["build_template", "flatten", "leaf_names", "tree_map", "unflatten"]


def build_template(
    node: Any, prefix: str, children: Callable[[Any], tuple[str, Any] | None]
) -> Any:
    """The template of ``node`` with leaves named ``prefix/key/...`` (``prefix`` for a lone
    leaf); ``children(node)`` is ``("dict", {key: child})``, ``("tuple", [child])`` or
    ``None`` for a leaf."""
    kids = children(node)
    if kids is None:
        return prefix
    kind, items = kids
    if kind == "dict":
        return {"dict": {k: build_template(v, f"{prefix}/{k}", children)
                         for k, v in items.items()}}
    return {"tuple": [build_template(v, f"{prefix}/{i}", children)
                      for i, v in enumerate(items)]}


def leaf_names(template: Any) -> list[str]:
    """The tensor names of ``template``, in order."""
    return [name for name, _ in _walk(template, None)]


def flatten(value: Any, template: Any, what: str) -> dict[str, Any]:
    """``{tensor name: leaf of value}``; ``what`` names the value in errors."""
    return dict(_walk(template, value, what))


def unflatten(template: Any, values: Mapping[str, Any]) -> Any:
    """The nested value ``template`` describes, with leaves taken from ``values``."""
    if isinstance(template, str):
        return values[template]
    if "dict" in template:
        return {k: unflatten(t, values) for k, t in template["dict"].items()}
    return tuple(unflatten(t, values) for t in template["tuple"])


def _walk(template: Any, value: Any, what: str = "value") -> Iterator[tuple[str, Any]]:
    if isinstance(template, str):
        yield template, value
        return
    if "dict" in template:
        items = template["dict"]
        if value is not None and not (isinstance(value, Mapping) and set(value) >= set(items)):
            got = sorted(value) if isinstance(value, Mapping) else type(value).__name__
            raise BatchError(f"{what} must be a dict with keys {sorted(items)}, got {got}")
        for key, sub in items.items():
            yield from _walk(sub, None if value is None else value[key], f"{what}[{key!r}]")
        return
    subs = template["tuple"]
    if value is not None and not (isinstance(value, (tuple, list)) and len(value) == len(subs)):
        got = f"{len(value)} items" if isinstance(value, (tuple, list)) else type(value).__name__
        raise BatchError(f"{what} must be a tuple of {len(subs)} items, got {got}")
    for index, sub in enumerate(subs):
        yield from _walk(sub, None if value is None else value[index], f"{what}[{index}]")


def tree_map(value: Any, fn: Callable[[Any], Any]) -> Any:
    """``fn`` applied to the leaves of nested dicts / tuples / lists (``None`` stays)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {k: tree_map(v, fn) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(tree_map(v, fn) for v in value)
    return fn(value)
