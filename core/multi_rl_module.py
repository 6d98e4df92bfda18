"""MultiRLModule: a mapping of module id → RLModule, itself an RLModule.

Subclasses may add shared networks in ``setup()`` after ``super().setup()`` (the seeds'
shared-encoder example). Forwards take and return ``{module_id: batch}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from torch import nn

from .errors import BatchError, SpecError
from .rl_module import RLModule
from .torch_rl_module import TorchRLModule

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
            model_config=model_config,
            catalog_class=catalog_class,
        )

    def setup(self) -> None:
        """Build every sub-module from ``rl_module_specs`` (spaces inherited from self)."""
        from .specs import inherit_from_parent

        for module_id, spec in self.rl_module_specs.items():
            self.add_module(module_id, inherit_from_parent(spec, self).build())

    # --- mapping of module ids ---------------------------------------------------------------
    def add_module(  # type: ignore[override]
        self, module_id: str, module: RLModule, *, override: bool = False
    ) -> None:
        """Add ``module`` under ``module_id``; an existing id needs ``override=True``."""
        if not isinstance(module_id, str) or not module_id or "." in module_id:
            raise SpecError(
                f"module ids are non-empty strings without '.', got {module_id!r}"
            )
        if not isinstance(module, RLModule):
            raise SpecError(
                f"MultiRLModule.add_module({module_id!r}, ...) needs an RLModule, "
                f"got {type(module).__name__}"
            )
        if module_id in self._rl_modules and not override:
            raise SpecError(
                f"module id {module_id!r} already exists; pass override=True to replace it"
            )
        self._rl_modules[module_id] = module  # type: ignore[assignment]

    def remove_module(self, module_id: str, *, raise_err_if_not_found: bool = True) -> None:
        if module_id in self._rl_modules:
            del self._rl_modules[module_id]
        elif raise_err_if_not_found:
            raise KeyError(self._unknown_id(module_id))

    def _unknown_id(self, module_id: Any) -> str:
        return f"no module id {module_id!r} in this MultiRLModule; it has {list(self.keys())}"

    def __getitem__(self, module_id: str) -> RLModule:
        try:
            return self._rl_modules[module_id]  # type: ignore[return-value]
        except KeyError:
            raise KeyError(self._unknown_id(module_id)) from None

    def __contains__(self, module_id: object) -> bool:
        return module_id in self._rl_modules

    def __iter__(self) -> Iterator[str]:
        return iter(self._rl_modules)

    def __len__(self) -> int:
        return len(self._rl_modules)

    def keys(self) -> list[str]:
        return list(self._rl_modules.keys())

    def values(self) -> list[RLModule]:
        return list(self._rl_modules.values())  # type: ignore[arg-type]

    def items(self) -> list[tuple[str, RLModule]]:
        return list(self._rl_modules.items())  # type: ignore[arg-type]

    # --- forwards: route {module_id: batch} to each sub-module -----------------------------------
    def _routed(self, batch: Mapping[str, Any], method: str) -> dict[str, Any]:
        out = {}
        for module_id, sub_batch in batch.items():
            if module_id not in self._rl_modules:
                raise BatchError(self._unknown_id(module_id) + "; the batch must be keyed by them")
            out[module_id] = getattr(self._rl_modules[module_id], method)(sub_batch)
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
        return self.items()

    def get_state(
        self,
        components: str | list[str] | None = None,
        *,
        not_components: str | list[str] | None = None,
        inference_only: bool = False,
    ) -> dict[str, Any]:
        """``{module_id: state}`` for the chosen ids, plus shared weights under ``__multi__``."""
        wanted = _as_list(components) or self.keys()
        skipped = set(_as_list(not_components))
        for module_id in wanted:
            if module_id not in self._rl_modules:
                raise KeyError(self._unknown_id(module_id))
        state: dict[str, Any] = {
            mid: self[mid].get_state(inference_only=inference_only)
            for mid in wanted
            if mid not in skipped
        }
        own = {
            k: v.detach()
            for k, v in self.state_dict().items()
            if not k.startswith("_rl_modules.")
        }
        if own and components is None:
            state[self.OWN_STATE_KEY] = own
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load ``{module_id: state}``; unknown module ids raise (never silently dropped)."""
        unknown = [k for k in state if k != self.OWN_STATE_KEY and k not in self._rl_modules]
        if unknown:
            raise KeyError(
                f"state has module ids {unknown} that this MultiRLModule lacks "
                f"(it has {self.keys()})"
            )
        for module_id, sub_state in state.items():
            if module_id == self.OWN_STATE_KEY:
                missing, unexpected = self.load_state_dict(sub_state, strict=False)
                bad = [k for k in unexpected]
                if bad:
                    raise KeyError(f"unexpected shared keys in state: {bad}")
            else:
                self[module_id].set_state(sub_state)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
