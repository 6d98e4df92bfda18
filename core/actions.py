"""compute_actions: the seeds' action step as one public function any loop can call.

If the module returned ``actions`` they are used as-is; otherwise a distribution is built
from ``action_dist_inputs`` (made deterministic when ``explore=False``) and sampled. When
exploring, ``action_logp`` and ``action_prob`` are added (for returned actions too, if the
module also returned ``action_dist_inputs``). It runs once per environment step, so it does
as little as possible: tensors already on the module's device pass through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ._obs_checks import observation_problem
from .columns import Columns
from .errors import BatchError, RLModulesError
from .multi_rl_module import MultiRLModule
from .rl_module import RLModule

__all__ = ["compute_actions"]

# Batch keys that carry no time axis, even for a stateful module.
_NO_TIME_AXIS = (Columns.STATE_IN, Columns.SEQ_LENS)


def compute_actions(
    module: RLModule,
    batch: Mapping[str, Any],
    *,
    explore: bool = True,
    for_env: bool = False,
) -> dict[str, Any]:
    """Run the acting forward of ``module`` on ``batch`` and pick actions (no gradients).

    ``batch`` holds ``[B, ...]`` observations (tensors, or numpy arrays that are moved to
    the module's device, float64 becoming float32) and, for a stateful module,
    ``state_in``; the time axis such a module needs is added here and removed from the
    outputs, whose ``state_out`` feeds the next step. For a MultiRLModule, ``batch`` is
    ``{module_id: batch}`` and so is the result. With ``for_env=True`` the result also has
    ``actions_for_env``: numpy actions in the form the env takes (the space's dtype and
    structure, Box actions clipped to the bounds).

    Example::

        out = compute_actions(module, {"obs": obs}, explore=True, for_env=True)
        obs, reward, terminated, truncated, info = env.step(out["actions_for_env"][0])
    """
    if isinstance(module, MultiRLModule):
        return _compute_multi(module, batch, explore, for_env)
    return _compute_single(module, batch, explore, for_env)


def _compute_single(
    module: RLModule, batch: Mapping[str, Any], explore: bool, for_env: bool
) -> dict[str, Any]:
    if not isinstance(batch, Mapping):
        raise BatchError(
            f"compute_actions needs a dict batch such as {{'obs': observations}}, "
            f"got {type(batch).__name__}"
        )
    stateful = module.is_stateful()
    inputs = _prepare(module, batch, stateful)
    with torch.no_grad():
        try:
            forward = module.forward_exploration if explore else module.forward_inference
            out = _choose(module, forward(inputs), explore)
        except _FRAMEWORK_ERRORS as exc:
            raise _diagnosed(exc, {"": (module, inputs)}) from exc
    return _finish(module, out, stateful, for_env)


def _compute_multi(
    module: MultiRLModule, batch: Mapping[str, Any], explore: bool, for_env: bool
) -> dict[str, Any]:
    if not isinstance(batch, Mapping):
        raise BatchError(
            f"compute_actions on a MultiRLModule needs {{module_id: batch}}, "
            f"got {type(batch).__name__}"
        )
    unknown = [mid for mid in batch if mid not in module]
    if unknown:
        raise BatchError(
            f"compute_actions got module ids {unknown} that the MultiRLModule lacks; "
            f"it has {module.keys()}"
        )
    if type(module) is MultiRLModule:  # the plain class only routes: act per module
        return {mid: _compute_single(module[mid], b, explore, for_env) for mid, b in batch.items()}
    stateful = {mid: module[mid].is_stateful() for mid in batch}
    inputs = {mid: _prepare(module[mid], b, stateful[mid]) for mid, b in batch.items()}
    with torch.no_grad():
        try:
            outs = (module.forward_exploration(inputs) if explore
                    else module.forward_inference(inputs))
            outs = {mid: _choose(module[mid], out, explore) for mid, out in outs.items()}
        except _FRAMEWORK_ERRORS as exc:
            raise _diagnosed(exc, {mid: (module[mid], b) for mid, b in inputs.items()}) from exc
    return {
        mid: _finish(module[mid], out, stateful[mid], for_env) for mid, out in outs.items()
    }


#: What a forward on bad observations raises from torch or a module's own code.
_FRAMEWORK_ERRORS = (RuntimeError, LookupError, ValueError, TypeError, IndexError)


def _diagnosed(exc: Exception, batches: dict[str, tuple[RLModule, Mapping[str, Any]]]) -> Exception:
    """Our BatchError where the observations explain ``exc`` (checked only after a failure,
    so the action step pays nothing); else ``exc`` itself."""
    if isinstance(exc, RLModulesError):
        return exc
    for module_id, (module, batch) in batches.items():
        where = f"batch[{module_id!r}]['obs']" if module_id else "observations"
        problem = observation_problem(batch.get(Columns.OBS), module.observation_space, where)
        if problem is not None:
            return BatchError(f"compute_actions: {problem}")
    return exc


def _choose(module: RLModule, out: Any, explore: bool) -> dict[str, Any]:
    """Add actions (and, when exploring, their logp and prob) to a forward's output."""
    if type(out) is not dict:
        out = dict(out)
    actions = out.get(Columns.ACTIONS)
    dist_inputs = out.get(Columns.ACTION_DIST_INPUTS)
    if actions is None:
        if dist_inputs is None:
            raise BatchError(
                f"{type(module).__name__} returned neither {Columns.ACTIONS!r} nor "
                f"{Columns.ACTION_DIST_INPUTS!r}, so no action can be chosen"
            )
        if not explore:
            dist = module.get_inference_action_dist_cls().from_logits(dist_inputs)
            out[Columns.ACTIONS] = dist.to_deterministic().sample()
            return out
        dist = module.get_exploration_action_dist_cls().from_logits(dist_inputs)
        actions = out[Columns.ACTIONS] = dist.sample()
    elif explore and dist_inputs is not None:
        dist = module.get_exploration_action_dist_cls().from_logits(dist_inputs)
    else:
        return out
    logp = out[Columns.ACTION_LOGP] = dist.logp(actions)
    out[Columns.ACTION_PROB] = logp.exp()
    return out


def _finish(module: RLModule, out: dict[str, Any], stateful: bool, for_env: bool) -> dict[str, Any]:
    if stateful:
        out = {k: (v if k == Columns.STATE_OUT else _map(v, _drop_time)) for k, v in out.items()}
        if Columns.STATE_OUT in out:
            out[Columns.STATE_OUT] = _map(out[Columns.STATE_OUT], _as_tensor)
    actions = out[Columns.ACTIONS]
    if type(actions) is not torch.Tensor and not isinstance(actions, torch.Tensor):
        out[Columns.ACTIONS] = _map(actions, _as_tensor)  # e.g. numpy actions
    if for_env:
        out[Columns.ACTIONS_FOR_ENV] = _for_env(out[Columns.ACTIONS], module.action_space)
    return out


# --- inputs -------------------------------------------------------------------------------------
def _prepare(module: RLModule, batch: Mapping[str, Any], stateful: bool) -> Mapping[str, Any]:
    """``batch`` with numpy leaves as tensors on the module's device and, for a stateful
    module, a time axis of 1; returned unchanged when there is nothing to do."""
    if not stateful:
        for value in batch.values():
            if not isinstance(value, torch.Tensor):
                break
        else:
            return batch
    device: list[torch.device] = []  # found lazily: only numpy inputs need it
    converted = {}
    for key, value in batch.items():
        if not isinstance(value, torch.Tensor):
            value = _map(value, lambda x, k=key: _to_tensor(x, k, module, device))
        if stateful and key not in _NO_TIME_AXIS:
            value = _map(value, _add_time)
        converted[key] = value
    return converted


def _to_tensor(x: Any, key: str, module: Any, device: list[torch.device]) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if not device:
        device.append(_module_device(module))
    try:
        array = np.asarray(x)
    except ValueError:  # ragged nesting
        array = np.empty(0, dtype=object)
    if array.dtype.kind not in "biuf":
        got = (f"{type(x).__name__} {x!r:.60}" if array.size else "a ragged list (rows of "
               "different lengths)")
        raise BatchError(
            f"compute_actions: batch[{key!r}] must hold numbers (a tensor, a numpy array or "
            f"a nested list of numbers), got {got}"
        )
    if array.dtype == np.float64 or array.dtype == np.bool_:
        array = array.astype(np.float32)
    return torch.as_tensor(array, device=device[0])


def _module_device(module: Any) -> torch.device:
    if isinstance(module, torch.nn.Module):
        for parameter in module.parameters():
            return parameter.device
        for buffer in module.buffers():
            return buffer.device
    return torch.device("cpu")


def _map(value: Any, fn: Any) -> Any:
    """Apply ``fn`` to the leaves of nested dicts and tuples (the structure of Dict and Tuple
    spaces); a list is a leaf: observations given as a (nested) Python list."""
    if isinstance(value, Mapping):
        return {k: _map(v, fn) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_map(v, fn) for v in value)
    return fn(value)


def _as_tensor(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _add_time(x: torch.Tensor) -> torch.Tensor:
    return x.unsqueeze(1)


def _drop_time(x: Any) -> Any:
    return x.squeeze(1) if isinstance(x, torch.Tensor) and x.dim() >= 2 else x


# --- outputs for the env ------------------------------------------------------------------------
def _for_env(actions: Any, space: gym.Space | None) -> Any:
    if isinstance(space, gym.spaces.Dict):
        return {k: _for_env(actions[k], s) for k, s in space.spaces.items()}
    if isinstance(space, gym.spaces.Tuple):
        return tuple(_for_env(a, s) for a, s in zip(actions, space.spaces))
    array = actions.detach().cpu().numpy()
    if isinstance(space, gym.spaces.Box):
        return np.clip(array, space.low, space.high).astype(space.dtype, copy=False)
    if space is not None and space.dtype is not None:
        return array.astype(space.dtype, copy=False)
    return array
