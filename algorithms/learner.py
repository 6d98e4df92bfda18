"""Learner: the gradient side of every algorithm, written once for both families.

A learner owns the optimizers, one Adam per *part* of the trained parameters with the
part's own learning-rate setting (PPO, BC and DQN have one part; SAC three: critic, actor
and temperature), and ONE gradient step, :meth:`Learner._step`: the batch's loss
(:meth:`~Learner.compute_losses`), backward, the data-parallel gradient sum, then per part
gradient clipping and the optimizer step. The families differ in what a step is given:
:class:`~rlmodules.algorithms.onpolicy_learner.OnPolicyLearner` (PPO, BC) makes minibatch
epochs over a sampled batch, :class:`~rlmodules.algorithms.offpolicy_learner.
OffPolicyLearner` (DQN, SAC) one step per replayed batch.

Where the hardware settings apply, each in one method every step passes through:
:meth:`~Learner.to_device` (the batches), :meth:`~Learner.autocast` (the precision of
forward and loss) and :meth:`~Learner.compiled` (the loss function). For now learners train
on the CPU in fp32, eagerly: these place, cast and compile nothing.

In checkpoints: the optimizers' state per parameter name, checked whole before any of it
loads, and learner-owned tensors (:meth:`~Learner.state_tensors`, e.g. SAC's temperature).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import torch
from rlmodules.errors import CheckpointError
from rlmodules.multi_rl_module import MultiRLModule

from .flat_params import FlatParameters

# Importable from here as before.
from .optimizer_state import checked_optimizer_state, fast_adam, optimizer_state
from .schedules import schedule_value

__all__ = ["Learner", "OptimizerPart", "optimizer_state", "checked_optimizer_state",
           "fast_adam"]

#: The part that trains every parameter with one optimizer (PPO, BC): its metrics read
#: ``learner/...`` and its checkpoint keys carry no part name, as they always have.
WHOLE_MODULE = "learner"


class OptimizerPart:
    """Adam over the flat buffer of some parameters (by checkpoint name), with the name of
    its learning-rate setting."""

    def __init__(self, named: list[tuple[str, torch.nn.Parameter]], lr_key: str, *,
                 lr: float, eps: float) -> None:
        self.names = [name for name, _ in named]
        self.flat = FlatParameters(p for _, p in named)
        self.lr_key = lr_key
        self.optimizer = torch.optim.Adam(self.flat.buffers, lr=lr, eps=eps,
                                          **fast_adam(self.flat.buffers))


class Learner:
    """Optimizers over the parts of the trained parameters, and the gradient step.

    An algorithm's learner provides :meth:`compute_losses` (and, in its family, how
    batches reach it: :meth:`update`); it may split the parameters into parts with their
    own learning rates (:meth:`parameter_parts`) and own tensors of its own
    (:meth:`setup`, :meth:`state_tensors`).

    Example (inside an algorithm)::

        metrics = algo.learner.update(batch, timestep=algo.timesteps)
        tensors, data = algo.learner.get_optimizer_state()   # for a checkpoint
    """

    #: Adam's epsilon (torch's default; the on-policy family uses SB3's and CleanRL's 1e-5).
    adam_eps: float = 1e-8

    def __init__(self, *, module: MultiRLModule, config: Any, generator: torch.Generator) -> None:
        self.module = module
        self.config = config
        self.generator = generator
        #: Set on each of several data-parallel learners (see ``distributed_learner``):
        #: shards every minibatch and sums the weighted gradients over the learners.
        self.data_parallel: Any = None
        self.setup()
        named = self.named_trainable_parameters()
        self.parts = {
            name: OptimizerPart(
                [(n, p) for n, p in named if belongs(n)], lr_key,
                lr=schedule_value(config.training_settings[lr_key], 0), eps=self.adam_eps)
            for name, (belongs, lr_key) in self.parameter_parts().items()
        }
        self._compute_losses = self.compiled(self.compute_losses)

    # --- to be provided by an algorithm ----------------------------------------------------------
    def setup(self) -> None:
        """Check the module and create learner-owned parameters (e.g. SAC's temperature);
        runs before the optimizers are made."""

    def named_trainable_parameters(self) -> list[tuple[str, torch.nn.Parameter]]:
        """``(checkpoint name, parameter)`` of everything the optimizers step: the module's
        parameters that require gradients (shared ones once), in ``parameters()`` order."""
        return [(name, p) for name, p in self.module.named_parameters() if p.requires_grad]

    def parameter_parts(self) -> dict[str, tuple[Callable[[str], bool], str]]:
        """``{part: (is_in_part(parameter_name), learning-rate setting)}``, one optimizer
        each; the default is one optimizer over everything with ``lr``."""
        return {WHOLE_MODULE: (lambda name: True, "lr")}

    def compute_losses(self, batch: Mapping[str, Any], timestep: int
                       ) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        """``(scalar loss, detached metrics)`` of one gradient step on ``batch``; a loss of
        None means nothing to learn from (the step still takes part in data-parallel
        gradient sums)."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_losses()")

    def update(self, batch: Any, *, timestep: int) -> Any:
        """Train on ``batch`` (the family says what it is and what comes back)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Learner-owned tensors a checkpoint keeps besides the module and optimizers."""
        return {}

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """Restore :meth:`state_tensors` output (names and shapes already checked)."""

    # --- where device, precision and compilation apply -------------------------------------------
    def to_device(self, batch: Any) -> Any:
        """``batch`` (a tree of tensors) on the device of the learner's module; every batch
        passes here before the module sees it. Learners train on the CPU for now."""
        return batch

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The precision context around forward and loss of every step (fp32 for now)."""
        return contextlib.nullcontext()

    def compiled(self, compute_losses: Callable[..., Any]) -> Callable[..., Any]:
        """``compute_losses`` as the step calls it (compiled, once there is a setting)."""
        return compute_losses

    # --- the gradient step -----------------------------------------------------------------------
    def _step(self, batch: Any, timestep: int) -> dict[str, torch.Tensor]:
        """One gradient step: loss, backward, the data-parallel gradient sum, then per part
        clipping (``grad_clip``; its norm is the metric ``<part>/grad_norm``) and the step."""
        with self.autocast():
            loss, metrics = self._compute_losses(batch, timestep)
        for part in self.parts.values():
            part.flat.zero_grad()
        if loss is not None:
            loss.backward()
        grad_clip = self.config.training_settings["grad_clip"]
        for name, part in self.parts.items():
            if self.data_parallel is not None:
                self.data_parallel.all_reduce_gradients(part.flat)
            if grad_clip is not None:
                metrics[f"{name}/grad_norm"] = part.flat.clip_grad_norm_(grad_clip)
            part.optimizer.step()
        return metrics

    def set_learning_rates(self, timestep: int) -> None:
        """Each part's learning rate from its setting (a number or a schedule) at ``timestep``."""
        for part in self.parts.values():
            lr = schedule_value(self.config.training_settings[part.lr_key], timestep)
            for group in part.optimizer.param_groups:
                group["lr"] = lr

    def check_parameters_linked(self) -> None:
        """Raise if the module's parameters were replaced since the optimizers were made
        (they would no longer train)."""
        if not all(part.flat.is_linked() for part in self.parts.values()):
            raise RuntimeError(
                "the module's parameters were replaced (e.g. by module.to() or assigning "
                "param.data) after the learner was built; move or load the module in place "
                "(load_state_dict / set_state), or build the algorithm again"
            )

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The optimizer of a learner with one part (PPO, BC, DQN)."""
        if len(self.parts) != 1:
            raise AttributeError(
                f"{type(self).__name__} has one optimizer per part {list(self.parts)}; "
                f"use learner.parts[name].optimizer")
        return next(iter(self.parts.values())).optimizer

    def close(self) -> None:
        """Release what the learner holds beyond this process (nothing, for a local one)."""

    # --- optimizer state for checkpoints ---------------------------------------------------------
    def get_optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """``(tensors, json_data)``: every part's optimizer state per parameter, keyed
        ``"<part>/<parameter>::<field>"`` (``"<parameter>::<field>"`` for the one part
        ``learner``), the parts' hyper-parameter groups in part order."""
        tensors: dict[str, torch.Tensor] = {}
        data: dict[str, Any] = {"param_groups": [], "scalars": {}}
        if list(self.parts) != [WHOLE_MODULE]:
            data["parts"] = list(self.parts)
        for name, part in self.parts.items():
            prefix = _prefix(name)
            part_tensors, part_data = optimizer_state(part.optimizer, part.flat, part.names)
            tensors.update({prefix + k: v for k, v in part_tensors.items()})
            data["scalars"].update({prefix + k: v for k, v in part_data["scalars"].items()})
            data["param_groups"] += part_data["param_groups"]
        return tensors, data

    def set_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                            data: Mapping[str, Any]) -> None:
        """Load :meth:`get_optimizer_state` output; parameters are matched by name."""
        self.checked_optimizer_state(tensors, data)()

    def checked_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                                data: Mapping[str, Any]) -> Callable[[], None]:
        """Check :meth:`get_optimizer_state` output against this learner (parts, names,
        shapes, groups) and return the function that loads it, which then cannot fail."""
        saved_parts = data.get("parts", [WHOLE_MODULE])
        if saved_parts != list(self.parts):
            raise CheckpointError(
                f"the checkpoint has optimizers for {saved_parts!r}, this learner "
                f"{list(self.parts)}; it was saved by another algorithm or module"
            )
        loaders, groups = [], list(data.get("param_groups") or [])
        scalars = data.get("scalars", {})
        for name, part in self.parts.items():
            prefix, count = _prefix(name), len(part.optimizer.param_groups)
            part_data = {"param_groups": groups[:count], "scalars": {
                k[len(prefix):]: v for k, v in scalars.items() if k.startswith(prefix)}}
            groups = groups[count:]
            mine = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            loaders.append(checked_optimizer_state(part.optimizer, part.flat, part.names, mine,
                                                   part_data))
        if groups:
            expected = sum(len(part.optimizer.param_groups) for part in self.parts.values())
            raise CheckpointError(
                f"optimizer state has {expected + len(groups)} parameter groups, expected "
                f"{expected}"
            )

        def load() -> None:
            for loader in loaders:
                loader()

        return load


def _prefix(part: str) -> str:
    return "" if part == WHOLE_MODULE else f"{part}/"
