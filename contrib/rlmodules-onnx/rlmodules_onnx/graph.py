"""The module's acting step as a torch function of flat tensors, ready for torch.onnx.

``ActingGraph(module, module_id)`` takes the observation leaves (and, for a stateful module,
the ``state_in`` leaves) as a tuple of ``[B, ...]`` tensors and returns
``action_dist_inputs``, the greedy action leaves and the ``state_out`` leaves: what
``rlmodules.compute_actions(module, batch, explore=False)`` computes, with the time axis a
stateful module needs added and removed as it does. With observation statistics
(``MeanStdFilter``) the graph takes raw float64 observations and normalises them first,
exactly as the trainer does in numpy: ``clip((obs - mean) / sqrt(var + epsilon), -clip,
clip)`` in float64, then float32.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import ExportError
from rlmodules.multi_rl_module import MultiRLModule

from .tree import build_template, flatten, leaf_names, tree_map, unflatten

__all__ = ["ActingGraph", "input_dtype"]


def _space_children(space: Any) -> tuple[str, Any] | None:
    if isinstance(space, gym.spaces.Dict):
        return "dict", dict(space.spaces)
    if isinstance(space, gym.spaces.Tuple):
        return "tuple", list(space.spaces)
    return None


def _state_children(state: Any) -> tuple[str, Any] | None:
    return ("dict", dict(state)) if isinstance(state, dict) else None


def input_dtype(space: gym.Space) -> np.dtype:
    """The dtype an observation leaf reaches the module in (compute_actions' conversion)."""
    dtype = np.dtype(space.dtype)
    return np.dtype(np.float32) if dtype in (np.float64, np.bool_) else dtype


class ActingGraph(torch.nn.Module):
    """The greedy acting step of ``module`` (of ``module[module_id]`` within a MultiRLModule)
    over flat tensors; ``templates`` says how they nest."""

    def __init__(self, module: Any, module_id: str, sub: Any, normalization: Any = None) -> None:
        super().__init__()
        self.normalization = normalization
        if normalization is not None:
            shape = tuple(sub.observation_space.shape)
            mean = np.asarray(normalization.mean, np.float64).reshape(shape)
            std = np.sqrt(np.asarray(normalization.var, np.float64) + normalization.epsilon)
            self.register_buffer("obs_mean", torch.from_numpy(mean))
            self.register_buffer("obs_std", torch.from_numpy(std.reshape(shape)))
        self.module = module
        self.module_id = module_id
        self.multi = isinstance(module, MultiRLModule)
        self.sub = sub
        self.stateful = sub.is_stateful()
        self.initial_state = sub.get_initial_state() if self.stateful else {}
        self.dist_cls = sub.get_inference_action_dist_cls()
        self.templates = {
            Columns.OBS: build_template(sub.observation_space, Columns.OBS, _space_children),
            Columns.ACTIONS: build_template(sub.action_space, Columns.ACTIONS, _space_children),
            Columns.STATE_IN: build_template(self.initial_state, Columns.STATE_IN,
                                             _state_children) if self.stateful else None,
            Columns.STATE_OUT: build_template(self.initial_state, Columns.STATE_OUT,
                                              _state_children) if self.stateful else None,
        }

    @property
    def input_names(self) -> list[str]:
        names = leaf_names(self.templates[Columns.OBS])
        return names + (leaf_names(self.templates[Columns.STATE_IN]) if self.stateful else [])

    def output_names(self, with_dist_inputs: bool) -> list[str]:
        names = [Columns.ACTION_DIST_INPUTS] if with_dist_inputs else []
        names += leaf_names(self.templates[Columns.ACTIONS])
        return names + (leaf_names(self.templates[Columns.STATE_OUT]) if self.stateful else [])

    def forward(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        by_name = dict(zip(self.input_names, inputs))
        obs = unflatten(self.templates[Columns.OBS], by_name)
        if self.normalization is not None:  # one Box leaf, float64 (see the module docstring)
            clip = self.normalization.clip
            obs = ((obs - self.obs_mean) / self.obs_std).clamp(-clip, clip).float()
        batch: dict[str, Any] = {Columns.OBS: obs}
        if self.stateful:
            batch[Columns.OBS] = tree_map(obs, lambda x: x.unsqueeze(1))
            batch[Columns.STATE_IN] = unflatten(self.templates[Columns.STATE_IN], by_name)
        if self.multi and type(self.module) is not MultiRLModule:  # shared parts: ask the whole
            out = self.module.forward_inference({self.module_id: batch})[self.module_id]
        else:
            out = self.sub.forward_inference(batch)
        dist_inputs = out.get(Columns.ACTION_DIST_INPUTS)
        actions = out.get(Columns.ACTIONS)
        if self.stateful:
            dist_inputs = None if dist_inputs is None else dist_inputs.squeeze(1)
            actions = None if actions is None else tree_map(actions, lambda x: x.squeeze(1))
        if actions is None:
            if dist_inputs is None:
                raise ExportError(
                    f"{type(self.sub).__name__}.forward_inference returned neither "
                    f"{Columns.ACTIONS!r} nor {Columns.ACTION_DIST_INPUTS!r}; nothing to export"
                )
            actions = self.dist_cls.from_logits(dist_inputs).to_deterministic().sample()
        flat = [dist_inputs] if dist_inputs is not None else []
        flat += flatten(actions, self.templates[Columns.ACTIONS], Columns.ACTIONS).values()
        if self.stateful:
            flat += flatten(out[Columns.STATE_OUT], self.templates[Columns.STATE_OUT],
                            Columns.STATE_OUT).values()
        return tuple(flat)
