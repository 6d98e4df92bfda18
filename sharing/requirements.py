"""What a packaged policy needs installed: the distributions its checkpoint records as the
providers of its classes and formats, and the one that provides its env.

A module checkpoint names every class it needs (module, catalog, action distributions,
tensor format) by registered name with the distribution and version that provided it; the
install line of a model card pins exactly those, so a reader gets the code the policy was
saved with.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["checkpoint_requirements", "env_requirement", "install_line", "unprovided_names"]

#: Distributions every install of rlmodules brings (no need to name them).
_BUNDLED = frozenset({"rlmodules", "gymnasium"})
#: gymnasium's env families that need its extra (their physics engines).
_GYM_EXTRAS = frozenset({"mujoco", "box2d"})


def checkpoint_requirements(metadata: Mapping[str, Any]) -> dict[str, str | None]:
    """``{distribution: version}`` of every provider a module checkpoint's metadata records
    (``rlmodules`` first)."""
    found: dict[str, str | None] = {}
    for ref in _class_refs(metadata):
        if isinstance(ref.get("distribution"), str):
            found.setdefault(ref["distribution"], ref.get("version"))
    return dict(sorted(found.items(), key=lambda item: (item[0] != "rlmodules", item[0])))


def unprovided_names(metadata: Mapping[str, Any]) -> list[str]:
    """Registered names the checkpoint records without a distribution: they were registered
    in-process, and nobody can install them."""
    return sorted({ref["name"] for ref in _class_refs(metadata)
                   if isinstance(ref.get("name"), str) and not ref.get("distribution")})


def env_requirement(env: str | None) -> tuple[str, str] | None:
    """``(requirement, version)`` providing ``env`` (a gymnasium id, through its entry
    point, or an import path ``pkg.mod:Name``): its distribution, or gymnasium's extra for
    the MuJoCo and Box2D envs; None when rlmodules or plain gymnasium provides it."""
    if not env:
        return None
    # "pkg.mod:Name" (or gymnasium's "module:Env-v0"): that module; an id: its entry point's.
    module = env.partition(":")[0] if ":" in env else _entry_point_module(env)
    if module is None:
        return None
    parts = module.split(".")
    if parts[:2] == ["gymnasium", "envs"] and len(parts) > 2 and parts[2] in _GYM_EXTRAS:
        return f"gymnasium[{parts[2]}]", importlib.metadata.version("gymnasium")
    top = parts[0]
    for dist in importlib.metadata.packages_distributions().get(top, []):
        if dist.lower() in _BUNDLED:
            return None
        return dist, importlib.metadata.version(dist)
    return None


def install_line(requirements: Mapping[str, str | None], *, extras: str = "hub") -> str:
    """``pip install "rlmodules[hub]==X" other==Y ...``: every requirement pinned."""
    parts = []
    for dist, version in requirements.items():
        pin = f"=={version}" if version else ""
        parts.append(f'"rlmodules[{extras}]{pin}"' if dist == "rlmodules" else f"{dist}{pin}")
    if "rlmodules" not in requirements:
        parts.insert(0, f'"rlmodules[{extras}]"')
    return "pip install " + " ".join(parts)


def _class_refs(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every object in the metadata that names a registered thing (``{"name", ...}``)."""
    if isinstance(node, Mapping):
        if "name" in node and ("distribution" in node or "version" in node):
            yield node
        for value in node.values():
            yield from _class_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _class_refs(value)


def _entry_point_module(env_id: str) -> str | None:
    import gymnasium as gym

    try:
        entry = gym.spec(env_id).entry_point
    except gym.error.Error:
        return None
    if isinstance(entry, str):
        return entry.partition(":")[0]
    return getattr(entry, "__module__", None)
