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
from .runtime import ModuleGraph
from .tree import flatten, leaf_names, tree_map

__all__ = ["OnnxExportFormat"]

_SAFE_FILE = re.compile(r"^[A-Za-z0-9_.-]+$")


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

    def export(self, module: Any, directory: Path, *, verify: bool) -> dict[str, Any]:
        import onnx
        import onnxruntime

        modules = {}
        for index, (module_id, sub) in enumerate(module_entries(module).items()):
            graph = ActingGraph(module, module_id, sub).eval()
            file = f"{module_id}.onnx" if _SAFE_FILE.match(module_id) else f"module_{index}.onnx"
            entry = _write_graph(graph, sub, directory / file)
            entry["file"] = file
            if verify:
                entry["verification"] = self._verify(module, module_id, graph, directory, entry)
            modules[module_id] = entry
        return {"modules": modules, "libraries": {"onnx": onnx.__version__,
                                                  "onnxruntime": onnxruntime.__version__}}

    def _verify(self, module: Any, module_id: str, graph: ActingGraph, directory: Path,
                entry: dict[str, Any]) -> dict[str, Any]:
        import onnxruntime

        runner = ModuleGraph(directory, entry, onnxruntime.SessionOptions())
        steps = 10 if graph.stateful else 1
        size = self.verify_observations // steps
        sub = graph.sub
        observations = sample_observations(sub.observation_space, size * steps, seed=0)
        state = _tiled(graph.initial_state, size) if graph.stateful else None
        worst = 0.0
        explorable = entry["action_distribution"]["exploration"] is not None
        for step in range(steps):
            obs = _rows(observations, slice(step * size, (step + 1) * size))
            batch = {Columns.OBS: obs, **({Columns.STATE_IN: state} if graph.stateful else {})}
            expected = _act(module, module_id, batch, explore=False, multi=graph.multi)
            got = runner.act(obs, tree_map(state, lambda t: t.numpy()), False, None)
            worst = max(worst, _compare(expected, got, graph, self.tolerance, module_id))
            if explorable:
                explored = _act(module, module_id, batch, explore=True, multi=graph.multi)
                explorable = _close(explored.get(Columns.ACTION_DIST_INPUTS),
                                    expected.get(Columns.ACTION_DIST_INPUTS), self.tolerance)
            state = expected.get(Columns.STATE_OUT)
        if not explorable:
            entry["action_distribution"]["exploration"] = None
        return {"observations": size * steps, "max_abs_diff": worst,
                "tolerance": self.tolerance}


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
            f"torch.onnx could not export {type(sub).__name__}'s inference step: "
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
        ) from exc
    space_leaves = dict(zip(leaf_names(graph.templates[Columns.ACTIONS]),
                            _space_leaves(sub.action_space)))
    return {
        "inputs": [{"name": n, "dtype": str(t.numpy().dtype), "shape": [None, *t.shape[1:]]}
                   for n, t in zip(graph.input_names, example)],
        "outputs": output_names,
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


def _example_inputs(graph: ActingGraph, sub: Any, batch_size: int) -> tuple[torch.Tensor, ...]:
    obs = sample_observations(sub.observation_space, batch_size, seed=0)
    leaves = flatten(obs, graph.templates[Columns.OBS], Columns.OBS)
    spaces = dict(zip(leaves, _space_leaves(sub.observation_space)))
    tensors = [torch.as_tensor(np.asarray(v, dtype=input_dtype(spaces[n])))
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
    """torch.onnx's warnings and log lines (missing torchvision ops, deprecations inside
    torch) are silenced; the verification judges the result."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
