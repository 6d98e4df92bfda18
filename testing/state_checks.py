"""Checks of stateful (recurrent) modules: initial state, state_out shapes, sequences."""

from __future__ import annotations

from typing import Any

import torch
from rlmodules.columns import Columns

from .batches import (
    batched_initial_state,
    mixed_seq_lens,
    sample_space,
    tree_index,
    tree_leaves,
    tree_mismatch,
)
from .check import Check, fail, skip
from .forward_checks import forward
from .subject import Subject, eval_mode

__all__ = ["check_state_shapes", "check_sequence_equivalence"]

#: Looser than exact: a whole-sequence kernel may sum in another order than T single steps.
_SEQ_TOLERANCE = {"atol": 1e-5, "rtol": 1e-4}


def _require_stateful(subject: Subject) -> dict[str, Any]:
    initial = subject.module.get_initial_state()
    if not initial:
        skip("stateless module (get_initial_state() is empty)")
    return initial


def _state_shapes(subject: Subject) -> str:
    """``get_initial_state`` is unbatched tensors; every ``state_out`` leaf is ``[B, ...]``."""
    initial = dict(tree_leaves(_require_stateful(subject)))
    for path, leaf in initial.items():
        if not isinstance(leaf, torch.Tensor):
            fail(f"get_initial_state()[{path!r}] is a {type(leaf).__name__}, not a tensor")
    module, size = subject.module, subject.batch_size
    phases = {"inference": subject.acting_batch(), "exploration": subject.acting_batch()}
    if not module.inference_only:
        phases["train"] = subject.train_batch()
    for phase, batch in phases.items():
        with torch.no_grad():
            out = forward(module, phase, batch)
        if Columns.STATE_OUT not in out:
            if phase == "train":
                continue
            fail(f"forward_{phase} of a stateful module returned no state_out "
                 f"(keys {sorted(out)})", fix="return Columns.STATE_OUT from the acting forwards")
        returned = dict(tree_leaves(out[Columns.STATE_OUT]))
        if returned.keys() != initial.keys():
            fail(f"forward_{phase}'s state_out has leaves {sorted(returned)} but "
                 f"get_initial_state() has {sorted(initial)}")
        for path, leaf in returned.items():
            expected = (size, *initial[path].shape)
            if tuple(leaf.shape) != expected:
                fail(f"forward_{phase}'s state_out[{path!r}] has shape {tuple(leaf.shape)}; "
                     f"expected {expected}: batch first, then get_initial_state()[{path!r}]'s "
                     f"shape {tuple(initial[path].shape)}")
    return f"state leaves {sorted(initial)} unbatched at start, [B, ...] out"


check_state_shapes = Check(
    "state_shapes",
    _state_shapes,
    fix="keep get_initial_state() unbatched and return state_out leaves as [B, ...], batch "
    "first (e.g. move torch.nn.LSTM's [num_layers, B, H] state to [B, num_layers, H])",
)


def _sequence_key(out: dict[str, Any]) -> str:
    return Columns.ACTION_DIST_INPUTS if Columns.ACTION_DIST_INPUTS in out else Columns.ACTIONS


def _sequence_equivalence(subject: Subject) -> str:
    """A [B, T] sequence at once gives what T single steps give, and so does forward_train."""
    _require_stateful(subject)
    module, size, steps = subject.module, subject.batch_size, subject.seq_len
    obs = sample_space(module.observation_space, (size, steps), subject.seed + 7)
    state = batched_initial_state(module, size)
    with eval_mode(module):
        whole = forward(module, "inference", {Columns.OBS: obs, Columns.STATE_IN: state})
        key = _sequence_key(whole)
        stepped, carried = [], state
        for t in range(steps):
            step_obs = tree_index(obs, (slice(None), slice(t, t + 1)))
            out = forward(module, "inference", {Columns.OBS: step_obs, Columns.STATE_IN: carried})
            stepped.append(out[key][:, 0])
            carried = out[Columns.STATE_OUT]
        for t, step_out in enumerate(stepped):
            mismatch = tree_mismatch(whole[key][:, t], step_out, **_SEQ_TOLERANCE)
            if mismatch:
                fail(f"forward_inference on a [B, {steps}] sequence differs from {steps} "
                     f"single steps at t={t} ({key} {mismatch})")
        mismatch = tree_mismatch(whole[Columns.STATE_OUT], carried, **_SEQ_TOLERANCE)
        if mismatch:
            fail(f"the state_out after a [B, {steps}] sequence differs from the one after "
                 f"{steps} single steps ({mismatch})")
        if not module.inference_only:
            _compare_train(subject, obs, state, stepped, key)
    return f"{steps} steps at once == {steps} single steps"


def _compare_train(
    subject: Subject, obs: Any, state: Any, stepped: list[Any], key: str
) -> None:
    seq_lens = mixed_seq_lens(subject.batch_size, subject.seq_len)
    batch = {**subject.train_batch(), Columns.OBS: obs, Columns.STATE_IN: state,
             Columns.SEQ_LENS: seq_lens}
    trained = forward(subject.module, "train", batch)
    if key not in trained:
        return
    for row, length in enumerate(seq_lens.tolist()):
        for t in range(length):
            mismatch = tree_mismatch(trained[key][row, t], stepped[t][row], **_SEQ_TOLERANCE)
            if mismatch:
                fail(f"forward_train with seq_lens={seq_lens.tolist()} differs from acting "
                     f"step by step at row {row}, t={t} ({key} {mismatch})",
                     fix="let forward_train run the same recurrence as the acting forwards, "
                     "starting from state_in, with padding only after each sequence's end")


check_sequence_equivalence = Check(
    "sequence_equivalence",
    _sequence_equivalence,
    fix="carry the state across the time axis exactly as across separate calls: start each "
    "row from its state_in and return the state after the last step as state_out",
    requires=("forward_outputs", "state_shapes"),
)
