"""OnnxExportFormat: the ``"onnx"`` export format (one graph per module id, verified).

Graphs are written by ``torch.onnx.export(..., dynamo=True)``, torch's torch.export-based
exporter (the default since torch 2.9; the TorchScript-based one is deprecated and warns
that it will be removed). Its internal warnings and log lines are not actionable for a user
and are silenced during the export; what matters is checked afterwards: the graph, run
through :class:`~rlmodules_onnx.OnnxPolicy`'s own code path, must give the module's greedy
actions and distribution inputs (within :attr:`OnnxExportFormat.tolerance`) on sampled
observations, and a stateful module's next state, step after step.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rlmodules.actions import compute_actions
from rlmodules.columns import Columns
from rlmodules.errors import ExportError
from rlmodules.export import module_entries, sample_observations

from .describe import describe_distribution
from .graph import ActingGraph, input_dtype
from .manifest import OnnxArtefact
from .runtime import ModuleGraph, structure_artefact
from .samplers import find_sampler, missing_sampler_message
from .tree import flatten, leaf_names, tree_map

__all__ = ["ExplorationUnavailableWarning", "OnnxExportFormat"]

_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: |numpy - torch| allowed for a plugin sampler's log-probabilities (float64 vs float32 math).
_SAMPLER_TOLERANCE = 1e-4
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ExplorationUnavailableWarning(UserWarning):
    """An export whose OnnxPolicy can act greedily but not explore (and why)."""


class OnnxExportFormat:
    """The ``"onnx"`` export format: one ONNX graph per module id (``<module_id>.onnx``),
    checked against the module on sampled observations before it is kept.

    Example::

        rlmodules.export.export("ckpt", "exported", format="onnx")
    """

    #: Largest allowed |ONNX - torch| of distribution inputs, continuous actions and state.
    tolerance = 1e-5
    #: Sampled observations the verification runs (as 10 steps of 100 for stateful modules).
    verify_observations = 1000
    #: The schema of this format's per-module manifest entry (``read_manifest(artefact=)``).
    artefact_schema = OnnxArtefact

    def export(self, module: Any, directory: Path, *, verify: bool,
               observation_normalization: Any = None) -> dict[str, Any]:
        import onnx
        import onnxruntime

        modules = {}
        for index, (module_id, sub) in enumerate(module_entries(module).items()):
            graph = ActingGraph(module, module_id, sub, observation_normalization).eval()
            file = f"{module_id}.onnx" if _SAFE_FILE.match(module_id) else f"module_{index}.onnx"
            entry = _write_graph(graph, sub, directory / file)
            entry["file"] = file
            entry["verification"], reason = (self._verify(module, module_id, graph, directory,
                                                          entry) if verify else (None, None))
            _warn_if_greedy_only(module_id, entry, sub, reason)
            modules[module_id] = entry
        return {"modules": modules, "libraries": {"onnx": onnx.__version__,
                                                  "onnxruntime": onnxruntime.__version__}}

    def _verify(self, module: Any, module_id: str, graph: ActingGraph, directory: Path,
                entry: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """What was verified, and why exploring was found unavailable (``None``: it is
        available, or was not to begin with)."""
        import onnxruntime

        runner = ModuleGraph(directory, structure_artefact(entry), onnxruntime.SessionOptions())
        steps = 10 if graph.stateful else 1
        size = self.verify_observations // steps
        sub = graph.sub
        observations = _observations(graph, size * steps)
        state = _tiled(graph.initial_state, size) if graph.stateful else None
        worst = 0.0
        reason = None
        explorable = entry["action_distribution"]["exploration"] is not None
        for step in range(steps):
            raw = _rows(observations, slice(step * size, (step + 1) * size))
            obs = _normalized(raw, graph.normalization)
            batch = {Columns.OBS: obs, **({Columns.STATE_IN: state} if graph.stateful else {})}
            expected = _act(module, module_id, batch, explore=False, multi=graph.multi)
            got = runner.act(raw, tree_map(state, lambda t: t.numpy()), False, None)
            worst = max(worst, _compare(expected, got, graph, self.tolerance, module_id))
            if explorable:
                explored = _act(module, module_id, batch, explore=True, multi=graph.multi)
                if not _close(explored.get(Columns.ACTION_DIST_INPUTS),
                              expected.get(Columns.ACTION_DIST_INPUTS), self.tolerance):
                    reason = ("the module's exploration step gives other distribution inputs "
                              "than its inference step")
            if explorable and reason is None and step == 0:
                reason = _sampler_problem(sub, entry, expected, self.tolerance)
            explorable = explorable and reason is None
            state = expected.get(Columns.STATE_OUT)
        if not explorable:
            entry["action_distribution"]["exploration"] = None
        return {"observations": size * steps, "max_abs_diff": worst,
                "tolerance": self.tolerance}, reason


def _write_graph(graph: ActingGraph, sub: Any, path: Path) -> dict[str, Any]:
    """Export ``graph`` to ``path``; the manifest entry describing its tensors."""
    example = _example_inputs(graph, sub, batch_size=3)
    with torch.no_grad():
        eager = graph(example)  # also fills the distributions' constant caches outside tracing
    dist_inputs = len(eager) > len(graph.output_names(with_dist_inputs=False))
    output_names = graph.output_names(with_dist_inputs=dist_inputs)
    batch = torch.export.Dim("batch")
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                graph, (example,), dynamo=True, input_names=graph.input_names,
                output_names=output_names, dynamic_shapes=(tuple({0: batch} for _ in example),),
                verbose=False,
            )
            assert program is not None  # dynamo=True always returns the program
            program.save(str(path), external_data=False)
    except Exception as exc:
        raise ExportError(
            f"torch.onnx could not export {type(sub).__name__}'s inference step: {_cause(exc)}"
        ) from exc
    space_leaves = dict(zip(leaf_names(graph.templates[Columns.ACTIONS]),
                            _space_leaves(sub.action_space)))
    return {
        "inputs": [_tensor_info(n, t) for n, t in zip(graph.input_names, example)],
        "outputs": [_tensor_info(n, t) for n, t in zip(output_names, eager)],
        "observations": graph.templates[Columns.OBS],
        "actions": graph.templates[Columns.ACTIONS],
        "state_in": graph.templates[Columns.STATE_IN],
        "state_out": graph.templates[Columns.STATE_OUT],
        "initial_state": {
            name: value.tolist() for name, value in flatten(
                tree_map(graph.initial_state, lambda t: t.numpy()),
                graph.templates[Columns.STATE_IN], Columns.STATE_IN).items()
        } if graph.stateful else None,
        "action_distribution": {
            "inference": describe_distribution(graph.dist_cls, sub.action_space),
            "exploration": describe_distribution(sub.get_exploration_action_dist_cls(),
                                                 sub.action_space) if dist_inputs else None,
        },
        "actions_for_env": {name: _env_cast(space) for name, space in space_leaves.items()},
        "opset": _opset(program),
    }


def _tensor_info(name: str, tensor: torch.Tensor) -> dict[str, Any]:
    return {"name": name, "dtype": str(tensor.numpy().dtype), "shape": [None, *tensor.shape[1:]]}


def _cause(exc: BaseException) -> str:
    """The first paragraph of the innermost cause, as plain text: torch.onnx wraps what
    went wrong in several layers of advice with terminal colour codes."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    text = _ANSI.sub("", str(root)).strip().split("\n\n")[0]
    text = " ".join(text.split())
    return f"{type(root).__name__}: {text[:600]}" if text else type(root).__name__


def _observations(graph: ActingGraph, n: int) -> Any:
    """``n`` observations to verify on: sampled from the space, or (statistics baked in) raw
    ones spread around the statistics' mean, 4 standard deviations wide, so some clip."""
    stats = graph.normalization
    if stats is None:
        return sample_observations(graph.sub.observation_space, n, seed=0)
    shape = tuple(graph.sub.observation_space.shape)
    mean = np.asarray(stats.mean, np.float64).reshape(shape)
    std = np.sqrt(np.asarray(stats.var, np.float64) + stats.epsilon).reshape(shape)
    return mean + std * np.random.default_rng(0).normal(0.0, 4.0, size=(n, *shape))


def _normalized(obs: Any, stats: Any) -> Any:
    """What the trainer feeds the module for raw ``obs``: its numpy normalisation."""
    if stats is None:
        return obs
    shape = obs.shape[1:]
    mean = np.asarray(stats.mean, np.float64).reshape(shape)
    scaled = (obs - mean) / np.sqrt(np.asarray(stats.var, np.float64).reshape(shape)
                                    + stats.epsilon)
    return np.clip(scaled, -stats.clip, stats.clip).astype(np.float32)


def _example_inputs(graph: ActingGraph, sub: Any, batch_size: int) -> tuple[torch.Tensor, ...]:
    obs = _observations(graph, batch_size)
    leaves = flatten(obs, graph.templates[Columns.OBS], Columns.OBS)
    spaces = dict(zip(leaves, _space_leaves(sub.observation_space)))
    tensors = [torch.as_tensor(np.asarray(v, dtype=np.float64 if graph.normalization
                                          else input_dtype(spaces[n])))
               for n, v in leaves.items()]
    if graph.stateful:
        state = flatten(_tiled(graph.initial_state, batch_size),
                        graph.templates[Columns.STATE_IN], Columns.STATE_IN)
        tensors += list(state.values())
    return tuple(tensors)


def _act(module: Any, module_id: str, batch: dict[str, Any], *, explore: bool,
         multi: bool) -> dict[str, Any]:
    if multi:
        return compute_actions(module, {module_id: batch}, explore=explore)[module_id]
    return compute_actions(module, batch, explore=explore)


def _compare(expected: dict[str, Any], got: dict[str, Any], graph: ActingGraph,
             tolerance: float, module_id: str) -> float:
    """The largest |difference|; raises ExportError beyond ``tolerance`` or on a different
    discrete action."""
    worst = 0.0
    for column in (Columns.ACTION_DIST_INPUTS, Columns.ACTIONS, Columns.STATE_OUT):
        if column not in expected:
            continue
        template = graph.templates.get(column, column)  # dist inputs: one leaf, its name
        want = flatten(tree_map(expected[column], lambda t: t.numpy()), template, column)
        have = flatten(got[column], template, column)
        for name, value in want.items():
            mine = np.asarray(have[name])
            if value.dtype.kind in "iub" and not np.array_equal(value, mine):
                bad = int((value != mine).sum())
                raise ExportError(
                    f"the ONNX graph of module {module_id!r} picks different greedy actions "
                    f"than the module on {bad} of {len(value)} sampled observations "
                    f"({name!r}); the export is not faithful"
                )
            if value.dtype.kind == "f":
                diff = float(np.abs(value - mine).max()) if value.size else 0.0
                if not diff <= tolerance:
                    raise ExportError(
                        f"the ONNX graph of module {module_id!r} differs from the module in "
                        f"{name!r} by up to {diff:.2e} on sampled observations (tolerance "
                        f"{tolerance:.0e}); the export is not faithful"
                    )
                worst = max(worst, diff)
    return worst


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if a is None or b is None:
        return False
    return bool((a - b).abs().max() <= tolerance) if a.numel() else True


def _space_leaves(space: Any) -> list[Any]:
    import gymnasium as gym

    if isinstance(space, gym.spaces.Dict):
        return [leaf for s in space.spaces.values() for leaf in _space_leaves(s)]
    if isinstance(space, gym.spaces.Tuple):
        return [leaf for s in space.spaces for leaf in _space_leaves(s)]
    return [space]


def _env_cast(space: Any) -> dict[str, Any]:
    import gymnasium as gym

    spec: dict[str, Any] = {"dtype": str(np.dtype(space.dtype))}
    if isinstance(space, gym.spaces.Box):
        finfo = np.finfo(space.dtype) if np.issubdtype(space.dtype, np.floating) else None
        big = float(finfo.max) if finfo is not None else float(np.iinfo(space.dtype).max)
        spec["low"] = np.nan_to_num(space.low.astype(np.float64), neginf=-big).tolist()
        spec["high"] = np.nan_to_num(space.high.astype(np.float64), posinf=big).tolist()
    return spec


def _opset(program: Any) -> int | None:
    for opset in program.model_proto.opset_import:
        if opset.domain in ("", "ai.onnx"):
            return int(opset.version)
    return None


def _rows(batch: Any, rows: slice) -> Any:
    return tree_map(batch, lambda x: x[rows])


def _tiled(state: Any, batch_size: int) -> Any:
    return tree_map(state, lambda t: t.unsqueeze(0).repeat(batch_size, *([1] * t.dim())))


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """torch's warnings, log lines and prints during the export (missing torchvision ops,
    the FX graph a failed trace prints to stderr, deprecations inside torch) are silenced:
    the verification judges the result, and a failure's cause is in the ExportError."""
    names = ["torch", *(n for n in logging.root.manager.loggerDict if n.startswith("torch."))]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _warn_if_greedy_only(module_id: str, entry: dict[str, Any], sub: Any,
                         reason: str | None) -> None:
    """Say at export time, not at first use, that OnnxPolicy will not explore."""
    exploration = entry["action_distribution"]["exploration"]
    if exploration is not None and exploration["type"] is not None:
        return
    if reason is not None:
        why = reason
    elif exploration is not None:
        why = missing_sampler_message(exploration["class"])
    else:
        why = f"{type(sub).__name__} returns actions, not {Columns.ACTION_DIST_INPUTS}"
    warnings.warn(ExplorationUnavailableWarning(
        f"module {module_id!r}: OnnxPolicy will act greedily only (explore=True will fail): "
        f"{why}"), stacklevel=3)


def _sampler_problem(sub: Any, entry: dict[str, Any], expected: dict[str, Any],
                     tolerance: float) -> str | None:
    """For a plugin's numpy sampler: why it cannot stand in for the torch distribution (its
    greedy actions or log-probabilities differ on the verification's inputs), or ``None``."""
    desc = entry["action_distribution"]["exploration"]
    if desc["type"] != "plugin":
        return None
    inputs = expected[Columns.ACTION_DIST_INPUTS]
    dist = sub.get_exploration_action_dist_cls().from_logits(inputs)
    drawn = dist.sample()
    sampler = find_sampler(desc["distribution"])
    try:
        flat, space = inputs.numpy(), desc["space"]
        greedy = np.asarray(sampler.deterministic(flat, space))
        logp = np.asarray(sampler.logp(flat, drawn.numpy(), space))
        gap = max(float(np.abs(greedy - dist.to_deterministic().sample().numpy()).max()),
                  float(np.abs(logp - dist.logp(drawn).numpy()).max()))  # NaN fails below
    except Exception as exc:  # the plugin's code: any failure means it cannot be used
        return (f"the numpy sampler for {desc['distribution']!r} raised "
                f"{type(exc).__name__}: {exc}")
    if gap <= max(tolerance, _SAMPLER_TOLERANCE):
        return None
    return (f"the numpy sampler for {desc['distribution']!r} differs from the torch "
            f"distribution by {gap:.2e} in greedy actions or log-probabilities")
