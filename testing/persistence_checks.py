"""Checks that a module's weights and spec survive state dicts, checkpoints and JSON."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import torch
from rlmodules import registry
from rlmodules.rl_module import RLModule
from rlmodules.specs import RLModuleSpec

from .batches import tree_mismatch
from .check import Check, fail, skip
from .forward_checks import forward, reference_inference
from .subject import Subject, eval_mode

__all__ = [
    "check_state_round_trip",
    "check_checkpoint_round_trip",
    "check_inference_only_load",
    "check_spec_json_round_trip",
    "checkpoint_format_names",
    "scrambled_copy",
]

#: These checks compare forward_inference outputs, which is pointless when they are random.
_COMPARABLE = ("forward_outputs", "deterministic_inference")
#: A rebuilt module gets other initial weights, so equal outputs prove the load.
_OTHER_SEED = 12345


def _inference(subject: Subject, module: Any) -> Any:
    with eval_mode(module):
        return forward(module, "inference", subject.acting_batch(module))


def _same_outputs(subject: Subject, other: Any, what: str, fix: str | None = None) -> None:
    mismatch = tree_mismatch(reference_inference(subject), _inference(subject, other))
    if mismatch:
        fail(f"{what} gives other forward_inference outputs than the original ({mismatch})",
             fix=fix)


def scrambled_copy(module: Any) -> Any:
    """A copy of ``module`` with every floating-point weight shifted, so that a later load
    must overwrite all of them to reproduce the original (cheaper than a fresh build)."""
    clone = copy.deepcopy(module)
    with torch.no_grad():
        for tensor in [*clone.parameters(), *clone.buffers()]:
            if tensor.is_floating_point():
                tensor.add_(0.5)
    return clone


def _attempt(what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; an exception becomes a failure that says what failed."""
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        fail(f"{what} raised {type(exc).__name__}: {exc}")


def checkpoint_format_names() -> list[str]:
    """Every registered checkpoint format, by the name that resolves it unambiguously."""
    return [
        rec.qualified_name if rec.status == "conflict" else rec.name
        for rec in registry.list("checkpoint_format")
    ]


# --- state_round_trip -------------------------------------------------------------------------
def _state_round_trip(subject: Subject) -> str:
    """``set_state(get_state())`` on a fresh build reproduces the module exactly."""
    state = subject.module.get_state()
    fresh = subject.build(inference_only=subject.module.inference_only, seed=_OTHER_SEED)
    fresh.set_state(state)
    _same_outputs(subject, fresh, "a fresh build loaded with set_state(module.get_state())")
    mismatch = tree_mismatch(state, fresh.get_state(), atol=0.0, rtol=0.0)
    if mismatch:
        fail(f"get_state() after set_state(state) differs from state ({mismatch})",
             fix="make set_state load every entry get_state returns, unchanged")
    return f"{len(state)} state entries round-trip"


check_state_round_trip = Check(
    "state_round_trip",
    _state_round_trip,
    fix="register every tensor that shapes the outputs as an nn.Parameter or a persistent "
    "buffer (register_buffer(name, t, persistent=True)), or extend get_state/set_state",
    requires=_COMPARABLE,
)


# --- checkpoint_round_trip --------------------------------------------------------------------
def _checkpoint_round_trip(subject: Subject) -> str:
    """A checkpoint in every registered format rebuilds and restores the same module."""
    formats = checkpoint_format_names()
    if not formats:
        skip("no checkpoint format is registered")
    module = subject.module
    for name in formats:
        with tempfile.TemporaryDirectory(prefix="rlmodules-check-") as tmp:
            path = _attempt(f"save_to_path(format={name!r})", module.save_to_path,
                            Path(tmp) / "checkpoint", format=name)
            loaded = _attempt(f"RLModule.from_checkpoint of a {name!r} checkpoint",
                              RLModule.from_checkpoint, path)
            if type(loaded) is not type(module):
                fail(f"RLModule.from_checkpoint of a {name!r} checkpoint built a "
                     f"{type(loaded).__name__}, not a {type(module).__name__}")
            _same_outputs(subject, loaded, f"RLModule.from_checkpoint of a {name!r} checkpoint")
            restored = scrambled_copy(module)
            _attempt(f"restore_from_path of a {name!r} checkpoint", restored.restore_from_path,
                     path)
            _same_outputs(subject, restored, f"restore_from_path of a {name!r} checkpoint")
    return f"formats {', '.join(formats)}: from_checkpoint and restore_from_path"


check_checkpoint_round_trip = Check(
    "checkpoint_round_trip",
    _checkpoint_round_trip,
    fix="keep everything that shapes the outputs in the state (parameters, persistent buffers) "
    "and in the spec (model_config); never mutate model_config in setup()",
    requires=_COMPARABLE,
)


# --- inference_only_load ----------------------------------------------------------------------
def _inference_only_load(subject: Subject) -> str:
    """An ``inference_only`` build loads the full module's state and checkpoint."""
    module = subject.module
    if module.inference_only:
        skip("the module under check is itself inference_only")
    light = subject.build(inference_only=True, seed=_OTHER_SEED)
    if not light.inference_only:
        fail("building with inference_only=True gave a module whose inference_only is False")
    _attempt("set_state(full state) on the inference_only build", light.set_state,
             module.get_state())
    _same_outputs(subject, light, "an inference_only build loaded with the full state")
    formats = checkpoint_format_names()
    if formats:
        with tempfile.TemporaryDirectory(prefix="rlmodules-check-") as tmp:
            path = _attempt("save_to_path", module.save_to_path, Path(tmp) / "checkpoint")
            restored = scrambled_copy(light)
            _attempt("restore_from_path(full checkpoint) on the inference_only build",
                     restored.restore_from_path, path)
            _same_outputs(subject, restored, "an inference_only build restored from a checkpoint")
    return "full state and checkpoint load into an inference_only build"


check_inference_only_load = Check(
    "inference_only_load",
    _inference_only_load,
    fix="build the same acting layers, with the same names, when inference_only=True (drop only "
    "training-only parts such as the value function) and let set_state ignore the dropped keys",
    requires=_COMPARABLE,
)


# --- spec_json_round_trip ---------------------------------------------------------------------
def _spec_json_round_trip(subject: Subject) -> str:
    """The module's spec survives plain JSON and builds the same module again."""
    text = json.dumps(subject.spec.to_dict())
    spec = RLModuleSpec.from_dict(json.loads(text))
    for field in ("observation_space", "action_space"):
        if getattr(spec, field) != getattr(subject.spec, field):
            fail(f"the spec's {field} {getattr(subject.spec, field)} came back from JSON as "
                 f"{getattr(spec, field)}")
    rebuilt = spec.build()
    if type(rebuilt) is not type(subject.module):
        fail(f"the JSON spec built a {type(rebuilt).__name__}, not a "
             f"{type(subject.module).__name__} (module_class {spec.module_class!r})")
    rebuilt.set_state(subject.module.get_state())
    _same_outputs(subject, rebuilt, "a module built from the JSON spec and loaded with the state")
    return f"module_class {spec.module_class!r}"


check_spec_json_round_trip = Check(
    "spec_json_round_trip",
    _spec_json_round_trip,
    fix="register the module class with a plugin (or define it at module level, importable), "
    "and keep model_config to JSON types (numbers, strings, lists, dicts)",
    requires=_COMPARABLE,
)
