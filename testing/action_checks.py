"""Checks of the action step: distribution inputs as wide as the distribution needs,
``compute_actions`` inside the action space, finite logp and entropy."""

from __future__ import annotations

from typing import Any

import torch
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.model_config import DefaultModelConfig

from .batches import tree_index, tree_leaves
from .check import Check, fail, skip
from .forward_checks import outputs, phases
from .subject import Subject

__all__ = ["check_action_dist_width", "check_compute_actions", "check_logp_entropy"]


# --- action_dist_width ------------------------------------------------------------------------
def _dist_kwargs(module: Any) -> dict[str, Any]:
    config = module.model_config
    return {"model_config": config} if isinstance(config, DefaultModelConfig) else {}


def _action_dist_width(subject: Subject) -> str:
    """``action_dist_inputs`` is as wide as the distribution's ``required_input_dim``."""
    module, checked = subject.module, []
    for phase in phases(subject):
        inputs = outputs(subject, phase).get(Columns.ACTION_DIST_INPUTS)
        if not isinstance(inputs, torch.Tensor):
            continue
        dist_cls = getattr(module, f"get_{phase}_action_dist_cls")()
        width = int(dist_cls.required_input_dim(module.action_space, **_dist_kwargs(module)))
        if inputs.shape[-1] != width:
            fail(
                f"forward_{phase} returns action_dist_inputs of width {inputs.shape[-1]} "
                f"(shape {tuple(inputs.shape)}), but {dist_cls.__name__}.required_input_dim"
                f"({module.action_space}) is {width}"
            )
        checked.append(f"forward_{phase}: {width}")
    if not checked:
        skip("no forward returns a tensor action_dist_inputs (actions are returned directly)")
    return f"action_dist_inputs widths match ({', '.join(checked)})"


check_action_dist_width = Check(
    "action_dist_width",
    _action_dist_width,
    fix="size the policy head's last layer with "
    "get_train_action_dist_cls().required_input_dim(action_space) (catalog.action_dist_input_dim)",
    requires=("forward_outputs",),
)


# --- compute_actions --------------------------------------------------------------------------
def _compute_actions(subject: Subject) -> str:
    """``compute_actions`` yields actions inside the action space (and finite logp)."""
    module, space = subject.module, subject.module.action_space
    batch = dict(subject.acting_batch())
    if module.is_stateful():  # a loop passes [B, ...] observations plus state_in
        batch[Columns.OBS] = tree_index(batch[Columns.OBS], (slice(None), 0))
    for explore in (False, True):
        out = compute_actions(module, batch, explore=explore, for_env=True)
        env_actions = out[Columns.ACTIONS_FOR_ENV]
        for row in range(subject.batch_size):
            action = tree_index(env_actions, row)
            if not space.contains(action):
                fail(f"compute_actions(explore={explore}) gave action {action!r} (row {row}) "
                     f"outside the action space {space}")
        for path, leaf in tree_leaves(out[Columns.ACTIONS], "actions"):
            if leaf.is_floating_point() and not torch.isfinite(leaf).all():
                fail(f"compute_actions(explore={explore}) gave non-finite {path!r}: {leaf}")
        if explore and Columns.ACTION_DIST_INPUTS in out:
            logp = out.get(Columns.ACTION_LOGP)
            if logp is None or tuple(logp.shape) != (subject.batch_size,):
                fail(f"compute_actions(explore=True) gave action_logp {logp!r}; expected shape "
                     f"({subject.batch_size},)")
            if not torch.isfinite(logp).all():
                fail(f"the exploration distribution gives non-finite action_logp {logp} for its "
                     f"own samples", fix="keep the distribution parameters finite (e.g. clamp "
                     "log_std) so that sampled actions have finite log-probabilities")
        if module.is_stateful():
            if Columns.STATE_OUT not in out:
                fail(f"compute_actions(explore={explore}) on a stateful module returned no "
                     f"state_out to feed the next step",
                     fix="return Columns.STATE_OUT from the acting forwards")
            compute_actions(module, {**batch, Columns.STATE_IN: out[Columns.STATE_OUT]},
                            explore=explore)
    return f"{subject.batch_size} actions in {space}, explore and greedy"


check_compute_actions = Check(
    "compute_actions",
    _compute_actions,
    fix="make the module's actions (or the distribution built from its action_dist_inputs) "
    "match the action space: shape, dtype and bounds",
    requires=("forward_outputs", "state_shapes", "action_dist_width"),
)


# --- logp_entropy -----------------------------------------------------------------------------
def _logp_entropy(subject: Subject) -> str:
    """The distribution from ``action_dist_inputs`` gives finite logp and entropy per row."""
    module = subject.module
    for phase in ("train", "exploration"):
        if phase == "train" and module.inference_only:
            continue
        inputs = outputs(subject, phase).get(Columns.ACTION_DIST_INPUTS)
        if isinstance(inputs, torch.Tensor):
            break
    else:
        skip("no forward returns a tensor action_dist_inputs")
    lead = subject.lead_shape() if phase == "train" else subject.lead_shape(1)
    dist = getattr(module, f"get_{phase}_action_dist_cls")().from_logits(inputs.detach())
    actions = dist.sample()
    values = {"logp": dist.logp(actions), "entropy": dist.entropy()}
    greedy = dist.to_deterministic().sample()
    for path, leaf in tree_leaves(greedy, "greedy"):
        if tuple(leaf.shape[: len(lead)]) != lead:
            fail(f"to_deterministic().sample() gave {path!r} of shape {tuple(leaf.shape)}; "
                 f"expected leading dims {lead}")
    for name, value in values.items():
        if tuple(value.shape) != lead:
            fail(f"{type(dist).__name__}.{name} has shape {tuple(value.shape)}; expected the "
                 f"batch shape {lead} (reduce over the action dims)")
        if not torch.isfinite(value).all():
            fail(f"{type(dist).__name__}.{name} of its own samples is not finite: {value}")
    return f"{type(dist).__name__} from forward_{phase}: logp and entropy finite, shape {lead}"


check_logp_entropy = Check(
    "logp_entropy",
    _logp_entropy,
    fix="keep action_dist_inputs finite and in the form the distribution expects "
    "(e.g. log standard deviations, not raw standard deviations)",
    requires=("forward_outputs", "action_dist_width"),
)
