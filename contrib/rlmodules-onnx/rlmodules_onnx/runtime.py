"""OnnxPolicy: an exported policy acting with onnxruntime and numpy, without torch.

It reads the manifest ``rlmodules export`` wrote and offers ``compute_actions`` with the
meaning of ``rlmodules.compute_actions(module, batch, explore=..., for_env=True)``: greedy
actions from the graph, or (``explore=True``) actions drawn from the module's exploration
distribution with ``action_logp`` / ``action_prob``, plus ``actions_for_env`` (numpy, the
action space's dtype, Box actions clipped to its bounds). Neither torch nor gymnasium is
imported, so a process that only acts starts fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from rlmodules.columns import Columns
from rlmodules.errors import BatchError, ExportError
from rlmodules.export import read_manifest

from . import sampling
from .tree import flatten, unflatten

__all__ = ["OnnxPolicy"]

class OnnxPolicy:
    """The policy exported to ``directory`` (by ``rlmodules export ... --format onnx``).

    ``seed`` seeds the numpy Generator that exploration draws from (:attr:`rng`, made on
    first use: importing ``numpy.random`` costs start-up time a greedy policy need not pay);
    ``num_threads`` sets onnxruntime's intra-op threads (``None``: its default). For an
    export of a MultiRLModule, observations, states and results are ``{module_id: ...}``.

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
        self.manifest = _read_manifest(self.directory)
        self._seed = seed
        self._rng: np.random.Generator | None = None
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
        self.multi_agent = bool(self.manifest["multi_agent"])
        self._graphs = {module_id: ModuleGraph(self.directory, entry, options)
                        for module_id, entry in self.manifest["modules"].items()}

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
        ``action_logp`` and ``action_prob``.
        """
        rng = self.rng if explore else None
        if not self.multi_agent:
            return self._graph(None).act(obs, state, explore, rng)
        if not isinstance(obs, dict):
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


class ModuleGraph:
    """One module id's graph and manifest entry; ``act`` is the per-step action step."""

    def __init__(self, directory: Path, entry: dict[str, Any], options: Any) -> None:
        self.entry = entry
        path = directory / entry["file"]
        try:
            self.session = ort.InferenceSession(str(path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ExportError(f"cannot load the ONNX graph {path}: {exc}") from None
        self.inputs = {i["name"]: (np.dtype(i["dtype"]), tuple(i["shape"][1:]))
                       for i in entry["inputs"]}
        self.output_names = list(entry["outputs"])
        self.stateful = entry["state_in"] is not None
        self._initial = {name: np.asarray(value, dtype=self.inputs[name][0])
                         for name, value in (entry["initial_state"] or {}).items()}
        self._for_env = {name: _EnvCast(spec) for name, spec in entry["actions_for_env"].items()}

    def initial_state(self, batch_size: int) -> Any:
        if not self.stateful:
            return None
        tiled = {name: np.repeat(value[None], batch_size, axis=0)
                 for name, value in self._initial.items()}
        return unflatten(self.entry["state_in"], tiled)

    def act(
        self, obs: Any, state: Any, explore: bool, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        feed = self._feed(flatten(obs, self.entry["observations"], Columns.OBS), "observation")
        batch_size = next(iter(feed.values())).shape[0]
        if self.stateful:
            if state is None:
                state = self.initial_state(batch_size)
            feed.update(self._feed(flatten(state, self.entry["state_in"], Columns.STATE_IN),
                                   "state"))
        results = dict(zip(self.output_names, self.session.run(self.output_names, feed)))
        out: dict[str, Any] = {}
        dist_inputs = results.get(Columns.ACTION_DIST_INPUTS)
        if dist_inputs is not None:
            out[Columns.ACTION_DIST_INPUTS] = dist_inputs
        if explore:
            desc = self.entry["action_distribution"]["exploration"]
            if dist_inputs is None or desc is None or rng is None:
                raise ExportError(
                    "this export cannot explore: the module's exploration step was not the "
                    "inference step's distribution (see the manifest's action_distribution); "
                    "use explore=False"
                )
            actions, logp = sampling.sample(desc, dist_inputs, rng)
            out[Columns.ACTIONS] = actions
            out[Columns.ACTION_LOGP] = logp
            out[Columns.ACTION_PROB] = np.exp(logp)
            by_name = flatten(actions, self.entry["actions"], Columns.ACTIONS)
        else:
            out[Columns.ACTIONS] = unflatten(self.entry["actions"], results)
            by_name = results
        if self.stateful:
            out[Columns.STATE_OUT] = unflatten(self.entry["state_out"], results)
        for_env = {name: cast(by_name[name]) for name, cast in self._for_env.items()}
        out[Columns.ACTIONS_FOR_ENV] = unflatten(self.entry["actions"], for_env)
        return out

    def _feed(self, leaves: dict[str, Any], what: str) -> dict[str, np.ndarray]:
        feed = {}
        for name, value in leaves.items():
            dtype, shape = self.inputs[name]
            array = np.asarray(value)
            if array.shape[1:] != shape or array.ndim != len(shape) + 1:
                raise BatchError(
                    f"{what} {name!r} has shape {array.shape}; the policy takes a batch "
                    f"[B, {', '.join(map(str, shape))}]".replace(", ]", "]")
                    + (" (add a batch axis: obs[None])" if array.shape == shape else "")
                )
            feed[name] = array.astype(dtype, copy=False)
        return feed


class _EnvCast:
    """An action leaf as the env takes it: the space's dtype, Box actions clipped."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.dtype = np.dtype(spec["dtype"])
        self.low = None if spec.get("low") is None else np.asarray(spec["low"])
        self.high = None if spec.get("high") is None else np.asarray(spec["high"])

    def __call__(self, actions: np.ndarray) -> np.ndarray:
        if self.low is not None:
            actions = np.clip(actions, self.low, self.high)
        return actions.astype(self.dtype, copy=False)


def _read_manifest(directory: Path) -> dict[str, Any]:
    manifest = read_manifest(directory)
    fmt = str((manifest.get("format") or {}).get("name", ""))
    if fmt.rpartition("/")[2] != "onnx":
        raise ExportError(f"{directory} holds a {fmt!r} export, not an ONNX one")
    return manifest
