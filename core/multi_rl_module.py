"""MultiRLModule: a mapping of module id → RLModule, itself an RLModule.

Subclasses may add shared networks in ``setup()`` after ``super().setup()`` (the seeds'
shared-encoder example). Forwards take and return ``{module_id: batch}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._module_spec import MODULE_ID_RULE, RLModuleSpec, inherit_from_parent, is_valid_module_id
from .checkpoint import module_fields, node_spaces, resolve_class
from .errors import BatchError, CheckpointError, SpecError, UnknownNameError
from .rl_module import RLModule
from .torch_rl_module import TorchRLModule, checked_state

__all__ = ["MultiRLModule"]


class MultiRLModule(TorchRLModule):
    """A container of RLModules keyed by module id (string).

    Example::

        multi = MultiRLModuleSpec(rl_module_specs={"p0": spec0, "p1": spec1}).build()
        out = multi.forward_inference({"p0": {"obs": obs0}, "p1": {"obs": obs1}})
    """

    #: Key in ``get_state()`` for the MultiRLModule's own (shared) parameters.
    OWN_STATE_KEY = "__multi__"

    def __init__(
        self,
        *,
        observation_space: Any = None,
        action_space: Any = None,
        inference_only: bool = False,
        learner_only: bool = False,
        model_config: Any = None,
        rl_module_specs: Mapping[str, Any] | None = None,
        catalog_class: Any = None,
    ) -> None:
        nn.Module.__init__(self)
        self._rl_modules = nn.ModuleDict()
        self.rl_module_specs = dict(rl_module_specs or {})
        RLModule.__init__(
            self,
            observation_space=observation_space,
            action_space=action_space,
            inference_only=inference_only,
            learner_only=learner_only,
            model_config=model_config,
            catalog_class=catalog_class,
        )

    @classmethod
    def _build_from_checkpoint(cls, node: dict[str, Any], *, inference_only: bool | None,
                               root: Path) -> MultiRLModule:
        """This container as a checkpoint's ``node`` describes it: leaf components become
        ``rl_module_specs`` (so a ``setup()`` that builds them with shared parts still
        does), nested containers build themselves and are added."""
        leaf_specs, nested = {}, {}
        for module_id, child in node.get("components", {}).items():
            child_class = resolve_class("module", child["module_class"], root)
            if "components" in child:
                nested[module_id] = child_class._build_from_checkpoint(
                    child, inference_only=inference_only, root=root)
            else:
                leaf_specs[module_id] = RLModuleSpec(
                    module_class=child_class,
                    **module_fields(child, inference_only=inference_only, root=root))
        obs, act = node_spaces(node)
        multi = cls(
            observation_space=obs,
            action_space=act,
            inference_only=node["inference_only"] if inference_only is None else inference_only,
            model_config=node.get("model_config"),
            rl_module_specs=leaf_specs,
        )
        for module_id, sub in nested.items():
            multi.add_module(module_id, sub)
        return multi

    def setup(self) -> None:
        """Build every sub-module from ``rl_module_specs`` (spaces inherited from self)."""
        for module_id, spec in self.rl_module_specs.items():
            if self.inference_only and spec.learner_only:
                continue  # exists on learners only (RLlib's learner_only)
            self.add_module(module_id, inherit_from_parent(spec, self).build())

    # --- mapping of module ids ---------------------------------------------------------------
    def add_module(  # type: ignore[override]
        self, module_id: str, module: RLModule, *, override: bool = False
    ) -> None:
        """Add ``module`` under ``module_id``; an existing id needs ``override=True``."""
        if not is_valid_module_id(module_id):
            raise SpecError(f"MultiRLModule.add_module: {MODULE_ID_RULE}; got {module_id!r}")
        if not isinstance(module, RLModule):
            raise SpecError(
                f"MultiRLModule.add_module({module_id!r}, ...) needs an RLModule, "
                f"got {type(module).__name__}"
            )
        if module_id in self._rl_modules and not override:
            raise SpecError(
                f"module id {module_id!r} already exists; pass override=True to replace it"
            )
        # A module without torch weights (a random or heuristic policy) is held, unregistered.
        self._rl_modules[module_id] = module if isinstance(module, nn.Module) else _Held(module)

    def remove_module(self, module_id: str, *, raise_err_if_not_found: bool = True) -> None:
        if module_id in self._rl_modules:
            del self._rl_modules[module_id]
        elif raise_err_if_not_found:
            raise KeyError(self._unknown_id(module_id))

    def _unknown_id(self, module_id: Any) -> str:
        return f"no module id {module_id!r} in this MultiRLModule; it has {list(self.keys())}"

    def __getitem__(self, module_id: str) -> RLModule:
        try:
            return _unheld(self._rl_modules[module_id])
        except KeyError:
            raise KeyError(self._unknown_id(module_id)) from None

    def __contains__(self, module_id: object) -> bool:
        return isinstance(module_id, str) and module_id in self._rl_modules

    def __iter__(self) -> Iterator[str]:
        return iter(self._rl_modules)

    def __len__(self) -> int:
        return len(self._rl_modules)

    def keys(self) -> list[str]:
        return list(self._rl_modules.keys())

    def values(self) -> list[RLModule]:
        return [_unheld(m) for m in self._rl_modules.values()]

    def items(self) -> list[tuple[str, RLModule]]:
        return [(k, _unheld(m)) for k, m in self._rl_modules.items()]

    # --- forwards: route {module_id: batch} to each sub-module -----------------------------------
    def _routed(self, batch: Mapping[str, Any], method: str) -> dict[str, Any]:
        out = {}
        for module_id, sub_batch in batch.items():
            if module_id not in self._rl_modules:
                raise BatchError(self._unknown_id(module_id) + "; the batch must be keyed by them")
            out[module_id] = getattr(self[module_id], method)(sub_batch)
        return out

    def _forward_inference(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._routed(batch, "forward_inference")

    def _forward_exploration(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._routed(batch, "forward_exploration")

    def _forward_train(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._routed(batch, "forward_train")

    def _check_inputs(self, batch: Any, keys: list[str], where: str) -> None:
        if not isinstance(batch, Mapping):
            raise BatchError(
                f"{type(self).__name__}.{where} expects {{module_id: batch}}, "
                f"got {type(batch).__name__}"
            )

    def _check_action_outputs(self, out: Any, where: str) -> None:
        self._check_outputs(out, [], where)  # sub-modules check their own outputs

    # --- distributions and state per module ----------------------------------------------------
    def get_train_action_dist_cls(self) -> Any:
        raise TypeError(
            "a MultiRLModule has one action distribution per module id: "
            "use multi[module_id].get_train_action_dist_cls()"
        )

    def get_initial_state(self) -> dict[str, Any]:
        return {mid: m.get_initial_state() for mid, m in self.items() if m.is_stateful()}

    def as_multi_rl_module(self) -> MultiRLModule:
        return self

    def get_checkpointable_components(self) -> list[tuple[str, RLModule]]:
        """``(module_id, module)`` pairs: each module id is saved and restorable alone."""
        return self.items()

    def get_state(
        self,
        components: str | list[str] | None = None,
        *,
        not_components: str | list[str] | None = None,
        inference_only: bool = False,
    ) -> dict[str, Any]:
        """``{module_id: state}``, plus this container's own (shared) weights under
        ``"__multi__"``.

        ``components`` keeps only the named module ids (paths ``"a/b"`` reach into nested
        containers; ``"__multi__"`` names the shared weights); ``not_components`` drops
        them. Unknown names raise ``UnknownNameError``.

        Example::

            multi.get_state(components="p0")          # {"p0": {...}}
            multi.get_state(not_components="__multi__")
        """
        include = None if components is None else self._component_paths(components, "components")
        exclude = self._component_paths(not_components, "not_components")
        state: dict[str, Any] = {}
        for module_id in self.keys():
            if include is not None and module_id not in include:
                continue
            if exclude.get(module_id, ()) is None:
                continue
            state[module_id] = self[module_id].get_state(
                None if include is None else include[module_id],
                not_components=exclude.get(module_id),
                inference_only=inference_only,
            )
        own_key = self.OWN_STATE_KEY
        wanted = (include is None or own_key in include) and own_key not in exclude
        own = self._own_state()
        if wanted and own:
            state[own_key] = own
        return state

    def _component_paths(
        self, paths: str | list[str] | None, argument: str
    ) -> dict[str, list[str] | None]:
        """Group paths by their first module id: ``{id: sub-paths, or None for all of it}``."""
        grouped: dict[str, list[str] | None] = {}
        for path in _as_list(paths):
            head, _, rest = str(path).strip("/").partition("/")
            if head != self.OWN_STATE_KEY and head not in self._rl_modules:
                raise UnknownNameError(
                    f"{argument}={paths!r}: {type(self).__name__} has no component "
                    f"{head!r}; it has {self.keys()} (and {self.OWN_STATE_KEY!r} for its "
                    f"shared weights)"
                )
            current = grouped.get(head, [])
            if not rest or current is None:
                grouped[head] = None
            else:
                current.append(rest)
                grouped[head] = current
        return grouped

    def _own_state(self) -> dict[str, Any]:
        return {
            k: v.detach() for k, v in self.state_dict().items() if not k.startswith("_rl_modules.")
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load ``{module_id: state}`` (any subset of ids, ``"__multi__"`` for shared weights).

        Unknown module ids raise, never silently dropped; every module's state is checked
        before any weight changes.
        """
        self._apply_state(self._validated_state(state))

    def _validated_state(self, state: Any) -> dict[str, Any]:
        if not isinstance(state, Mapping):
            raise CheckpointError(
                f"cannot load state into {type(self).__name__}: expected "
                f"{{module_id: state}}, got {type(state).__name__}"
            )
        unknown = [k for k in state if k != self.OWN_STATE_KEY and k not in self._rl_modules]
        if unknown:
            raise CheckpointError(
                f"cannot load state into {type(self).__name__}: module ids {unknown} are not "
                f"in it (it has {self.keys()}); add them first or drop them from the state"
            )
        validated: dict[str, Any] = {}
        for module_id, sub_state in state.items():
            if module_id == self.OWN_STATE_KEY:
                validated[module_id] = checked_state(
                    self._own_state(), sub_state,
                    owner=f"{type(self).__name__}'s shared weights", ignore_unexpected=False,
                )
                continue
            try:
                validated[module_id] = self[module_id]._validated_state(sub_state)  # type: ignore[attr-defined]
            except CheckpointError as exc:
                raise CheckpointError(f"module id {module_id!r}: {exc}") from None
        return validated

    def _apply_state(self, state: dict[str, Any]) -> None:
        for module_id, sub_state in state.items():
            if module_id == self.OWN_STATE_KEY:
                with torch.no_grad():
                    self.load_state_dict(sub_state, strict=False)
            else:
                self[module_id]._apply_state(sub_state)  # type: ignore[attr-defined]


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class _Held(nn.Module):
    """Keeps an RLModule that is not a torch module (it has no weights) in the ModuleDict."""

    def __init__(self, module: RLModule) -> None:
        super().__init__()
        self.held = module


def _unheld(module: Any) -> Any:
    return module.held if type(module) is _Held else module
