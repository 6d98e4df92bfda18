"""OnnxPolicy: an exported policy acting with onnxruntime and numpy, without torch.

It reads the manifest ``rlmodules export`` wrote, checked whole before anything is loaded
(``rlmodules.export.read_manifest``: checksums of the manifest and every graph, files inside
the directory, every field against :class:`~rlmodules_onnx.manifest.OnnxArtefact`), checks
each graph's inputs and outputs against the manifest (names, dtypes, ranks), and offers
``compute_actions`` with the meaning of ``rlmodules.compute_actions(module, batch,
explore=..., for_env=True)``: greedy actions from the graph, or (``explore=True``) actions
drawn from the module's exploration distribution with ``action_logp`` / ``action_prob``,
plus ``actions_for_env`` (numpy, the action space's dtype, Box actions clipped to its
bounds). Neither torch nor gymnasium is imported, so a process that only acts starts fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from rlmodules.columns import Columns
from rlmodules.errors import BatchError, ExportError
from rlmodules.export import read_manifest, structure

from . import sampling
from .manifest import OnnxArtefact
from .tree import build_template, flatten, leaf_names, unflatten

__all__ = ["OnnxPolicy", "structure_artefact"]

#: onnxruntime's tensor type names -> numpy dtype names.
_ORT_TYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(bool)": "bool", "tensor(int8)": "int8", "tensor(int16)": "int16",
    "tensor(int32)": "int32", "tensor(int64)": "int64", "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16", "tensor(uint32)": "uint32", "tensor(uint64)": "uint64",
}


class OnnxPolicy:
    """The policy exported to ``directory`` (by ``rlmodules export ... --format onnx``).

    ``seed`` seeds the numpy Generator that exploration draws from (:attr:`rng`, made on
    first use: importing ``numpy.random`` costs start-up time a greedy policy need not pay);
    ``num_threads`` sets onnxruntime's intra-op threads (``None``: its default). For an
    export of a MultiRLModule, observations, states and results are ``{module_id: ...}``.
    A damaged, altered or malformed export is an :class:`~rlmodules.ExportError` (or
    :class:`~rlmodules.CheckpointError`) here, before anything acts.

    Example::

        policy = OnnxPolicy("exported", seed=0)
        state = None                                   # the initial state, if stateful
        out = policy.compute_actions(obs[None], state=state, explore=True)
        env.step(out["actions_for_env"][0])
        state = out.get("state_out")
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, seed: int | None = None,
        num_threads: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory, artefact=OnnxArtefact)
        fmt = self.manifest.format.name
        if fmt.rpartition("/")[2] != "onnx":
            raise ExportError(f"{directory} holds a {fmt!r} export, not an ONNX one")
        self._seed = seed
        self._rng: np.random.Generator | None = None
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
        self.multi_agent = self.manifest.multi_agent
        unlisted = [e.artefact.file for e in self.manifest.modules.values()
                    if e.artefact.file not in self.manifest.files]
        if unlisted:
            raise ExportError(f"{directory}: the manifest names graphs {unlisted} that it "
                              f"holds no checksum of; export the checkpoint again")
        for module_id, entry in self.manifest.modules.items():
            _check_templates(module_id, entry)
        self._graphs = {
            module_id: ModuleGraph(self.directory, entry.artefact, options,
                                   entry.observation_space)
            for module_id, entry in self.manifest.modules.items()
        }

    @property
    def rng(self) -> np.random.Generator:
        """The Generator exploration draws from (seeded with ``seed``)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    @property
    def module_ids(self) -> list[str]:
        return list(self._graphs)

    def get_initial_state(self, batch_size: int = 1, module_id: str | None = None) -> Any:
        """The initial recurrent state for ``batch_size`` episodes (``None`` if stateless)."""
        return self._graph(module_id).initial_state(batch_size)

    def compute_actions(
        self, obs: Any, *, explore: bool = False, state: Any = None
    ) -> dict[str, Any]:
        """Act on a batch of observations ``[B, ...]`` (``{module_id: ...}`` when multi-agent).

        ``state`` is the previous step's ``state_out`` (``None``: the initial state).
        Returns ``actions``, ``actions_for_env``, ``action_dist_inputs`` (when the module
        gives them), ``state_out`` (stateful modules) and, when exploring,
        ``action_logp`` and ``action_prob``. Observations that are not numbers of the
        graph's shape (strings, ``None``, ragged or complex values, a Discrete index out of
        range) are a :class:`~rlmodules.BatchError`, and so is NaN wherever it would reach
        the result (continuous actions, the exploration logp): never NaN actions.
        """
        rng = self.rng if explore else None
        if not self.multi_agent:
            return self._graph(None).act(obs, state, explore, rng)
        if not isinstance(obs, Mapping):
            raise BatchError(
                f"this policy is multi-agent (module ids {self.module_ids}): pass "
                f"observations as {{module_id: obs}}, got {type(obs).__name__}"
            )
        states = state or {}
        return {mid: self._graph(mid).act(o, states.get(mid), explore, rng)
                for mid, o in obs.items()}

    def _graph(self, module_id: str | None) -> ModuleGraph:
        if module_id is None and not self.multi_agent:
            return next(iter(self._graphs.values()))
        graph = self._graphs.get(module_id)  # type: ignore[arg-type]
        if graph is None:
            raise BatchError(
                f"unknown module id {module_id!r}; this policy has {self.module_ids}"
            )
        return graph


def structure_artefact(entry: Mapping[str, Any]) -> OnnxArtefact:
    """The JSON form of a manifest's ONNX entry as an :class:`OnnxArtefact`, checked."""
    return structure(dict(entry), OnnxArtefact, "the ONNX manifest entry")  # type: ignore[no-any-return]


class ModuleGraph:
    """One module id's graph and manifest entry; ``act`` is the per-step action step."""

    def __init__(self, directory: Path, artefact: OnnxArtefact, options: Any,
                 observation_space: Mapping[str, Any] | None = None) -> None:
        self.artefact = artefact
        path = directory / artefact.file
        try:
            self.session = ort.InferenceSession(str(path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ExportError(f"cannot load the ONNX graph {path}: {exc}") from None
        _check_graph(self.session, artefact, path)
        self.inputs = {t.name: (np.dtype(t.dtype), tuple(t.shape[1:])) for t in artefact.inputs}
        self.output_names = [t.name for t in artefact.outputs]
        self.stateful = artefact.state_in is not None
        self._initial = {name: np.asarray(value, dtype=self.inputs[name][0])
                         for name, value in (artefact.initial_state or {}).items()}
        self._for_env = {name: _EnvCast(c.dtype, c.low, c.high)
                         for name, c in artefact.actions_for_env.items()}
        self._index_bounds = _index_bounds(observation_space, artefact)
        actions = set(leaf_names(artefact.actions))
        self._floats = [t.name for t in artefact.outputs
                        if t.name in actions and np.dtype(t.dtype).kind == "f"]

    def initial_state(self, batch_size: int) -> Any:
        if not self.stateful:
            return None
        tiled = {name: np.repeat(value[None], batch_size, axis=0)
                 for name, value in self._initial.items()}
        return unflatten(self.artefact.state_in, tiled)

    def act(
        self, obs: Any, state: Any, explore: bool, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        art = self.artefact
        feed = self._feed(flatten(obs, art.observations, Columns.OBS), "observation")
        batch_size = next(iter(feed.values())).shape[0]
        if self.stateful:
            if state is None:
                state = self.initial_state(batch_size)
            feed.update(self._feed(flatten(state, art.state_in, Columns.STATE_IN), "state"))
        try:
            results = dict(zip(self.output_names, self.session.run(self.output_names, feed)))
        except Exception as exc:  # inputs were checked: the graph itself failed
            raise ExportError(f"the ONNX graph {art.file} failed: {exc}") from None
        out: dict[str, Any] = {}
        dist_inputs = results.get(Columns.ACTION_DIST_INPUTS)
        if dist_inputs is not None:
            out[Columns.ACTION_DIST_INPUTS] = dist_inputs
        if explore:
            actions, logp, by_name = self._explore(dist_inputs, rng)
            out[Columns.ACTIONS] = actions
            out[Columns.ACTION_LOGP], out[Columns.ACTION_PROB] = logp, np.exp(logp)
        else:
            out[Columns.ACTIONS] = unflatten(art.actions, results)
            by_name = results
        if self.stateful:
            out[Columns.STATE_OUT] = unflatten(art.state_out, results)
        # NaN is looked for only where it would reach the caller (continuous actions, the
        # exploration logp), and its cause only then: the happy path pays one check at most.
        checked = [out[Columns.ACTION_LOGP]] if explore else [by_name[n] for n in self._floats]
        if any(np.isnan(x).any() for x in checked):
            raise _nan_error(feed, art.file)
        for_env = {name: cast(by_name[name]) for name, cast in self._for_env.items()}
        out[Columns.ACTIONS_FOR_ENV] = unflatten(art.actions, for_env)
        return out

    def _explore(self, dist_inputs: Any, rng: np.random.Generator | None) -> tuple[Any, ...]:
        """``(actions, logp, {action leaf name: actions})`` drawn from the exploration
        distribution; a description that does not fit the graph is an ExportError."""
        desc = self.artefact.action_distribution.exploration
        if dist_inputs is None or desc is None or rng is None:
            raise ExportError(
                "this export cannot explore: the module's exploration step was not the "
                "inference step's distribution (see the manifest's action_distribution and "
                "the warning `rlmodules export` gave); use explore=False"
            )
        try:
            actions, logp = sampling.sample(desc, dist_inputs, rng)
            return actions, logp, flatten(actions, self.artefact.actions, Columns.ACTIONS)
        except (ExportError, BatchError):
            raise
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise ExportError(
                f"the manifest's exploration distribution ({desc.get('type')}) does not fit "
                f"the graph's distribution inputs {dist_inputs.shape}: {exc}"
            ) from None

    def _feed(self, leaves: dict[str, Any], what: str) -> dict[str, np.ndarray]:
        feed = {}
        for name, value in leaves.items():
            dtype, shape = self.inputs[name]
            array = value if type(value) is np.ndarray else _as_array(value, name, what)
            if array.dtype.kind not in "biuf":
                raise BatchError(
                    f"{what} {name!r} must hold numbers (a numpy array or nested lists of "
                    f"numbers), got {_describe(value, array)}"
                )
            if array.shape[1:] != shape or array.ndim != len(shape) + 1:
                raise BatchError(
                    f"{what} {name!r} has shape {array.shape}; the policy takes a batch "
                    f"[B, {', '.join(map(str, shape))}]".replace(", ]", "]")
                    + (" (add a batch axis: obs[None])" if array.shape == shape else "")
                )
            bounds = self._index_bounds.get(name)
            if bounds is not None:
                _check_indices(array, bounds, name, what)
            feed[name] = array.astype(dtype, copy=False)
        return feed


def _nan_error(feed: Mapping[str, np.ndarray], file: str) -> Exception:
    """Why the graph gave NaN: a NaN input (a BatchError naming it), else the graph."""
    for name, array in feed.items():
        if array.dtype.kind == "f" and np.isnan(array).any():
            what = "state" if name.startswith(Columns.STATE_IN) else "observation"
            return BatchError(
                f"{what} {name!r} contains NaN ({int(np.isnan(array).sum())} of "
                f"{array.size} values), which no observation is (check the env, or the "
                f"wrapper that produces it)"
            )
    return ExportError(f"the ONNX graph {file} gave NaN actions for observations without NaN")


def _as_array(value: Any, name: str, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError):  # ragged nesting
        raise BatchError(
            f"{what} {name!r} must hold numbers in a regular batch, got a ragged list (rows "
            f"of different lengths)"
        ) from None


def _describe(value: Any, array: np.ndarray) -> str:
    if array.dtype.kind == "c":
        return "complex numbers"
    if array.dtype.kind == "O":
        return "a ragged list or None values" if array.ndim else f"{value!r:.40}"
    return f"{array.dtype} values such as {array.reshape(-1)[0]!r:.40}"


def _check_indices(array: np.ndarray, bounds: tuple[Any, Any], name: str, what: str) -> None:
    """A Discrete / MultiDiscrete leaf takes whole numbers in its range: the graph's one-hot
    of anything else would be silently wrong."""
    low, high = bounds
    bad = (array != np.round(array)) | (array < low) | (array > high)
    if bad.any():
        raise BatchError(
            f"{what} {name!r} must be integers in [{low.tolist()}, {high.tolist()}] for its "
            f"space; got {array[bad].reshape(-1)[0].item()!r}"
        )


def _index_bounds(space: Mapping[str, Any] | None, art: OnnxArtefact) -> dict[str, Any]:
    """``{input name: (low, high)}`` of the observation leaves that are indices."""
    if space is None:
        return {}
    leaves = dict(zip(leaf_names(art.observations), _space_leaves(space)))
    bounds = {}
    for name, leaf in leaves.items():
        kind = leaf.get("type") if isinstance(leaf, Mapping) else None
        try:
            if kind == "Discrete":
                start = np.asarray(leaf.get("start", 0))
                bounds[name] = (start, start + np.asarray(leaf["n"]) - 1)
            elif kind == "MultiDiscrete":
                start = np.asarray(leaf.get("start") or 0)
                bounds[name] = (start, start + np.asarray(leaf["nvec"]) - 1)
        except (KeyError, TypeError, ValueError):
            raise ExportError(f"the manifest's observation space leaf {name!r} is malformed: "
                              f"{leaf!r:.80}") from None
    return bounds


def _space_leaves(space: Any) -> list[Any]:
    if isinstance(space, Mapping) and space.get("type") == "Dict":
        return [leaf for s in dict(space.get("spaces") or {}).values()
                for leaf in _space_leaves(s)]
    if isinstance(space, Mapping) and space.get("type") == "Tuple":
        return [leaf for s in list(space.get("spaces") or []) for leaf in _space_leaves(s)]
    return [space]


def _json_space_children(space: Any) -> tuple[str, Any] | None:
    kind = space.get("type") if isinstance(space, Mapping) else None
    if kind == "Dict" and isinstance(space.get("spaces"), Mapping):
        return "dict", dict(space["spaces"])
    if kind == "Tuple" and isinstance(space.get("spaces"), list):
        return "tuple", list(space["spaces"])
    return None


def _check_templates(module_id: str, entry: Any) -> None:
    """The graph's observation and action tensors nest as the manifest's spaces do."""
    art = entry.artefact
    for column, got, space, what in (
        (Columns.OBS, art.observations, entry.observation_space, "observation_space"),
        (Columns.ACTIONS, art.actions, entry.action_space, "action_space"),
    ):
        expected = build_template(space, column, _json_space_children)
        if got != expected:
            raise ExportError(
                f"module {module_id!r}: the manifest's {column} template {got!r:.80} does not "
                f"match its {what} (expected {expected!r:.80}); export the checkpoint again"
            )


def _check_graph(session: Any, art: OnnxArtefact, path: Path) -> None:
    """The graph's inputs and outputs are the manifest's: names, dtypes, ranks, fixed sizes."""
    for what, got, want in (("inputs", session.get_inputs(), art.inputs),
                            ("outputs", session.get_outputs(), art.outputs)):
        have = [(t.name, _ORT_TYPES.get(t.type, t.type), list(t.shape)) for t in got]
        expected = [(t.name, t.dtype, list(t.shape)) for t in want]
        if len(have) == len(expected) and all(
            n == m and d == e and len(s) == len(f) and all(
                not isinstance(a, int) or not isinstance(b, int) or a == b
                for a, b in zip(s, f))
            for (n, d, s), (m, e, f) in zip(have, expected)
        ):
            continue
        raise ExportError(
            f"the ONNX graph {path} does not match its manifest: its {what} are "
            f"{[(n, d, s) for n, d, s in have]}, the manifest says "
            f"{[(n, d, s) for n, d, s in expected]}; export the checkpoint again"
        )


class _EnvCast:
    """An action leaf as the env takes it: the space's dtype, Box actions clipped."""

    def __init__(self, dtype: str, low: Any, high: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.low = None if low is None else np.asarray(low)
        self.high = None if high is None else np.asarray(high)

    def __call__(self, actions: np.ndarray) -> np.ndarray:
        if self.low is not None:
            actions = np.clip(actions, self.low, self.high)
        return actions.astype(self.dtype, copy=False)
