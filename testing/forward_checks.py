"""Checks of the forward passes: outputs, determinism, train-mode inference, gradients.

Also the helpers the other checks run forwards with (:func:`forward`, :func:`outputs`).
"""

from __future__ import annotations

from typing import Any

import torch
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns

from .batches import tree_index, tree_leaves, tree_mismatch
from .check import Check, fail, skip
from .subject import Subject, eval_mode, preserved_buffers, train_mode

__all__ = [
    "check_forward_outputs",
    "check_deterministic_inference",
    "check_train_mode_inference",
    "check_gradients",
    "forward",
    "outputs",
    "phases",
    "reference_inference",
]

ACTING_PHASES = ("inference", "exploration")
#: Output columns that hold one entry per batch row (and time step).
_ROW_COLUMNS = (
    Columns.ACTIONS,
    Columns.ACTION_DIST_INPUTS,
    Columns.ACTION_LOGP,
    Columns.VF_PREDS,
    Columns.EMBEDDINGS,
    Columns.QF_PREDS,
)


def forward(module: Any, phase: str, batch: dict[str, Any]) -> Any:
    """``module.forward_<phase>(batch)``; an exception becomes a failure naming the phase."""
    try:
        return getattr(module, f"forward_{phase}")(batch)
    except Exception as exc:
        fail(f"forward_{phase} raised {type(exc).__name__}: {exc}")


def phases(subject: Subject) -> tuple[str, ...]:
    """The forward phases the module has: the acting ones, and train unless inference-only."""
    return ACTING_PHASES if subject.module.inference_only else (*ACTING_PHASES, "train")


def outputs(subject: Subject, phase: str) -> Any:
    """The phase's outputs on the standard batch, computed once per run."""
    key = f"outputs/{phase}"
    if key not in subject.cache:
        if phase == "train":
            with preserved_buffers(subject.module):
                out = forward(subject.module, phase, subject.train_batch())
        else:
            with torch.no_grad():
                out = forward(subject.module, phase, subject.acting_batch())
        subject.cache[key] = out
    return subject.cache[key]


def reference_inference(subject: Subject) -> Any:
    """``forward_inference`` of the module under check in eval mode, computed once per run."""
    if "reference" not in subject.cache:
        with eval_mode(subject.module) as module:
            subject.cache["reference"] = forward(module, "inference", subject.acting_batch())
    return subject.cache["reference"]


# --- forward_outputs --------------------------------------------------------------------------
def _forward_outputs(subject: Subject) -> str:
    """Each forward accepts a batch sampled from the spaces and returns the required keys."""
    module, seen = subject.module, []
    for phase in phases(subject):
        out = outputs(subject, phase)
        if not isinstance(out, dict):
            fail(f"forward_{phase} returned a {type(out).__name__}, not a dict of columns")
        acts = Columns.ACTIONS in out or Columns.ACTION_DIST_INPUTS in out
        if phase != "train" and not acts:
            fail(
                f"forward_{phase} returned keys {sorted(out)}; it must return "
                f"{Columns.ACTIONS!r} and/or {Columns.ACTION_DIST_INPUTS!r}"
            )
        declared = getattr(module, f"output_specs_{phase}")()
        missing = [key for key in declared if key not in out]
        if missing:
            fail(
                f"forward_{phase} did not return {missing}, which output_specs_{phase}() "
                f"declares (it returned {sorted(out)})",
                fix=f"return every declared column from _forward_{phase}, or stop declaring it",
            )
        if not any(isinstance(v, torch.Tensor) for _, v in tree_leaves(out)):
            fail(f"forward_{phase} returned no tensors (keys {sorted(out)})")
        time = None if phase == "train" else 1
        _check_rows(out, subject.lead_shape(time), phase)
        seen.append(f"{phase}: {', '.join(sorted(out))}")
    return "; ".join(seen)


def _check_rows(out: dict[str, Any], lead: tuple[int, ...], phase: str) -> None:
    for column in _ROW_COLUMNS:
        for path, leaf in tree_leaves(out.get(column), column):
            if isinstance(leaf, torch.Tensor) and tuple(leaf.shape[: len(lead)]) != lead:
                fail(
                    f"forward_{phase} returned {path!r} of shape {tuple(leaf.shape)}; expected "
                    f"leading dims {lead} (one entry per batch row"
                    f"{' and time step' if len(lead) == 2 else ''})",
                    fix="keep the batch (and time) axes in front; do not squeeze or flatten them",
                )


check_forward_outputs = Check(
    "forward_outputs",
    _forward_outputs,
    fix="return a dict with Columns.ACTION_DIST_INPUTS (or Columns.ACTIONS) from "
    "_forward_inference / _forward_exploration and the loss inputs from _forward_train",
)


# --- determinism ------------------------------------------------------------------------------
def _repeat_inference(subject: Subject, mode: Any) -> tuple[Any, str | None]:
    """Outputs of a second ``forward_inference`` in ``mode`` and how they differ from the
    first (the reference, in eval mode)."""
    batch = subject.acting_batch()
    with mode(subject.module) as module:
        first = reference_inference(subject) if mode is eval_mode else forward(
            module, "inference", batch)
        second = forward(module, "inference", batch)
    return second, tree_mismatch(first, second)


def _deterministic_inference(subject: Subject) -> str:
    """``forward_inference`` in eval mode gives the same outputs for the same batch."""
    _, mismatch = _repeat_inference(subject, eval_mode)
    if mismatch:
        fail(f"two forward_inference calls on the same batch in eval mode differ ({mismatch})")
    batch = dict(subject.acting_batch())
    if subject.module.is_stateful():
        batch[Columns.OBS] = tree_index(batch[Columns.OBS], (slice(None), 0))
    with eval_mode(subject.module) as module:
        first = compute_actions(module, batch, explore=False)[Columns.ACTIONS]
        second = compute_actions(module, batch, explore=False)[Columns.ACTIONS]
    mismatch = tree_mismatch(first, second)
    if mismatch:
        fail(f"compute_actions(explore=False) gives different actions for the same batch "
             f"({mismatch})", fix="make the inference distribution's to_deterministic() "
             "return a point mass (argmax / mean)")
    return "repeatable outputs and greedy actions in eval mode"


check_deterministic_inference = Check(
    "deterministic_inference",
    _deterministic_inference,
    fix="remove sampling and noise from _forward_inference: return action_dist_inputs and let "
    "compute_actions make them deterministic; keep exploration noise in _forward_exploration",
    requires=("forward_outputs", "action_dist_width"),
)


def _train_mode_inference(subject: Subject) -> str:
    """``forward_inference`` is repeatable in train mode too (no dropout left on)."""
    if _repeat_inference(subject, eval_mode)[1]:
        skip("inference is random even in eval mode; see deterministic_inference")
    trained, mismatch = _repeat_inference(subject, train_mode)
    if mismatch:
        fail(
            f"two forward_inference calls on the same batch differ while the module is in "
            f"train mode, though they agree in eval mode ({mismatch}): a train-only random "
            f"layer stays on when acting, because the code that reads its mode is not the "
            f"layer's own (rlmodules switches the layers whose methods read self.training)"
        )
    mismatch = tree_mismatch(reference_inference(subject), trained)
    if mismatch:
        subject.warn(
            f"forward_inference depends on train/eval mode ({mismatch}), e.g. batch-norm "
            f"statistics; a loop that acts without module.eval() sees different outputs"
        )
    return "repeatable in train mode"


check_train_mode_inference = Check(
    "train_mode_inference",
    _train_mode_inference,
    fix="read the mode in the layer's own forward (self.training), as torch's layers do, so "
    "that acting forwards run it in eval mode; or call dropout with training=False when "
    "acting (F.dropout(x, p, training=False))",
    requires=("forward_outputs",),
)


# --- gradients --------------------------------------------------------------------------------
def _target_parameters(module: Any) -> set[int]:
    """Ids of target-network parameters (RLlib's ``get_target_network_pairs`` API)."""
    pairs = getattr(module, "get_target_network_pairs", None)
    if not callable(pairs):
        return set()
    return {id(p) for _, target in pairs() for p in target.parameters()}


def _weighted_sum(tensor: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random-weighted sum: a plain sum cancels by construction for outputs such as
    dueling Q-values (V + A - mean A) or normalised log-probabilities."""
    weights = torch.randn(tensor.shape, generator=generator).to(tensor.device, torch.float32)
    return (tensor.float() * weights).sum()


def _training_loss(module: Any, batch: dict[str, Any], out: dict[str, Any]) -> Any:
    generator = torch.Generator().manual_seed(0)
    tensors = [leaf for _, leaf in tree_leaves(out)
               if isinstance(leaf, torch.Tensor) and leaf.requires_grad]
    compute_values = getattr(module, "compute_values", None)
    if callable(compute_values):  # RLlib's ValueFunctionAPI: the critic is trained too
        tensors.append(compute_values(batch, embeddings=out.get(Columns.EMBEDDINGS)))
    compute_q_values = getattr(module, "compute_q_values", None)
    if callable(compute_q_values):  # RLlib's QNetAPI: the Q-functions are trained too
        tensors += [leaf for _, leaf in tree_leaves(compute_q_values(_with_actions(module, batch,
                                                                                    out)))
                    if isinstance(leaf, torch.Tensor) and leaf.requires_grad]
    terms = [_weighted_sum(t, generator) for t in tensors]
    return sum(terms) if terms else None


def _with_actions(module: Any, batch: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """``batch`` with actions sampled from the train distribution (Q(s, a) needs them)."""
    if Columns.ACTIONS in batch or Columns.ACTION_DIST_INPUTS not in out:
        return batch
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    return {**batch, Columns.ACTIONS: dist.sample()}


def _gradients(subject: Subject) -> str:
    """``forward_train`` outputs give a gradient to every trainable parameter."""
    module = subject.module
    if module.inference_only:
        skip("module is built with inference_only=True (no forward_train)")
    if not isinstance(module, torch.nn.Module):
        skip("not a torch module")
    frozen = _target_parameters(module)
    params = [
        (n, p) for n, p in module.named_parameters() if p.requires_grad and id(p) not in frozen
    ]
    if not params:
        skip("the module has no trainable parameters")
    grads = _fresh_gradients(subject, params)
    dead = [n for n, g in grads.items() if g is None or not bool(g.abs().sum() > 0)]
    if dead:
        listed = ", ".join(dead[:8]) + (" ..." if len(dead) > 8 else "")
        fail(f"{len(dead)} of {len(params)} trainable parameters get no gradient from "
             f"forward_train's outputs: {listed}")
    broken = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    if broken:
        fail(f"non-finite gradients for {', '.join(broken[:8])}")
    return f"all {len(params)} trainable parameters get finite gradients"


def _fresh_gradients(subject: Subject, params: list[tuple[str, Any]]) -> dict[str, Any]:
    """Gradients of one backward pass through forward_train, leaving the module as it was
    (its own ``.grad`` values, train/eval mode and buffers)."""
    module = subject.module
    saved = {n: p.grad for n, p in params}
    was_training = module.training
    try:
        with preserved_buffers(module):
            module.train()
            for _, p in params:
                p.grad = None
            batch = subject.train_batch()
            loss = _training_loss(module, batch, forward(module, "train", batch))
            if loss is None or not loss.requires_grad:
                fail("no tensor returned by forward_train carries a gradient",
                     fix="do not detach outputs or run _forward_train under torch.no_grad()")
            loss.backward()
            return {n: p.grad for n, p in params}
    finally:
        for n, p in params:
            p.grad = saved[n]
        module.train(was_training)


check_gradients = Check(
    "gradients",
    _gradients,
    fix="use every trainable layer in _forward_train without detaching or torch.no_grad(); "
    "freeze parameters that must not train with requires_grad_(False)",
    requires=("forward_outputs",),
)

