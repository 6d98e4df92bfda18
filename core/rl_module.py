"""RLModule: the framework-agnostic base of every module (the seeds' contract).

Subclasses build layers in :meth:`RLModule.setup` (an ``__init__`` override that takes
RLlib's keywords and calls ``super().__init__(...)`` works too) and implement
``_forward_inference`` / ``_forward_exploration`` / ``_forward_train`` (or a single
``_forward`` that serves all three). The public ``forward_*`` methods wrap them with a
cheap check of inputs and outputs (``module.check_io = False`` turns it off), and run
``forward_inference`` / ``forward_exploration`` in eval mode and ``forward_train`` in train
mode (restoring the mode afterwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ._module_args import build_catalog, coerce_model_config, construct, fixed_shape
from .checkpoint import load_module, module_fields, module_metadata, restore_module, save_module
from .columns import Columns
from .decisions import action_dist_cls_for
from .errors import BatchError, CheckpointError, SpecError, UnknownNameError
from .model_config import DefaultModelConfig
from .rl_module_compat import RLModuleConfig, deprecated_config, drop_non_inference_attributes

if TYPE_CHECKING:
    import gymnasium as gym

    from .catalog import Catalog
    from .multi_rl_module import MultiRLModule

__all__ = ["RLModule", "RLModuleConfig", "DEFAULT_MODULE_ID"]

#: Module id of a single-agent module inside a MultiRLModule (RLlib's value).
DEFAULT_MODULE_ID = "default_policy"


class RLModule:
    """Base class of all RL modules.

    Constructed by keyword only: ``observation_space``, ``action_space``, ``inference_only``,
    ``model_config`` (a dict, or a :class:`DefaultModelConfig` for default modules) and
    ``catalog_class`` (a class, a registered name or an import path).

    Example::

        class MyPolicy(TorchRLModule):
            def setup(self):
                self.pi = torch.nn.Linear(self.observation_space.shape[0], self.action_space.n)

            def _forward(self, batch, **kwargs):
                return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}
    """

    framework: ClassVar[str | None] = None
    #: Default modules set this; a dict ``model_config`` is then validated into it.
    default_model_config_class: ClassVar[type[DefaultModelConfig] | None] = None
    #: Catalog used when none is given (a class or a registered catalog name).
    default_catalog_class: ClassVar[Any] = None
    #: The cheap forward input/output check; set to False on a module to skip it.
    check_io: bool = True

    def __init__(
        self,
        *,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
        inference_only: bool | None = False,
        learner_only: bool = False,
        model_config: Mapping[str, Any] | DefaultModelConfig | None = None,
        catalog_class: Any = None,
    ) -> None:
        if inference_only and learner_only:
            raise SpecError(
                f"{type(self).__name__} got inference_only=True and learner_only=True; a "
                f"learner-only module is never built for inference, so set at most one"
            )
        self.observation_space = observation_space
        self.action_space = action_space
        self.inference_only = bool(inference_only)
        self.learner_only = bool(learner_only)
        self.model_config = coerce_model_config(type(self), model_config)
        self.catalog: Catalog | None = build_catalog(self, catalog_class)
        #: A Distribution class set in ``setup()`` serves all three forwards (RLlib's hook).
        self.action_dist_cls: Any = None
        self._obs_shape = fixed_shape(observation_space)
        self.setup()
        if self.inference_only:
            drop_non_inference_attributes(self)

    @property
    def config(self) -> RLModuleConfig:
        """Deprecated (as in RLlib 2.60): this module's constructor arguments in one object;
        use ``observation_space``, ``action_space``, ``inference_only``, ``learner_only``,
        ``model_config`` and ``catalog`` directly."""
        return deprecated_config(self)

    @config.setter
    def config(self, value: Any) -> None:
        self.__dict__["_config_override"] = value

    def setup(self) -> None:
        """Build the module's layers; the constructor calls it once, after setting attributes."""

    def required_catalog(self) -> Catalog:
        """The catalog, for ``setup`` of modules that build their networks from it; a
        ``SpecError`` naming what is missing when the module got no spaces."""
        if self.catalog is None:
            raise SpecError(
                f"{type(self).__name__} needs an observation_space and an action_space to "
                f"build its networks; got {self.observation_space} and {self.action_space}"
            )
        return self.catalog

    # --- forwards -------------------------------------------------------------------------
    def forward_inference(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Forward pass for acting greedily (evaluation, production)."""
        if self.check_io:
            self._check_inputs(batch, self.input_specs_inference(), "forward_inference")
        out = self._in_mode(False, self._forward_inference, batch, kwargs)
        if self.check_io:
            self._check_action_outputs(out, "forward_inference")
        return out

    def forward_exploration(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Forward pass for acting while collecting training data."""
        if self.check_io:
            self._check_inputs(batch, self.input_specs_exploration(), "forward_exploration")
        out = self._in_mode(False, self._forward_exploration, batch, kwargs)
        if self.check_io:
            self._check_action_outputs(out, "forward_exploration")
        return out

    def forward_train(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Forward pass right before the loss (must keep gradients)."""
        if self.inference_only:
            raise RuntimeError(
                f"{type(self).__name__} was built with inference_only=True and cannot run "
                f"forward_train; build it with inference_only=False to train"
            )
        if self.check_io:
            self._check_inputs(batch, self.input_specs_train(), "forward_train")
        out = self._in_mode(True, self._forward_train, batch, kwargs)
        if self.check_io:
            self._check_outputs(out, self.output_specs_train(), "forward_train")
        return out

    def _in_mode(self, training: bool, forward: Any, batch: Mapping[str, Any],
                 kwargs: dict[str, Any]) -> dict[str, Any]:
        """``forward(batch, **kwargs)`` with the module in train or eval mode."""
        restore = self._set_mode(training)
        if restore is None:
            return forward(batch, **kwargs)  # type: ignore[no-any-return]
        try:
            return forward(batch, **kwargs)  # type: ignore[no-any-return]
        finally:
            restore()

    def _set_mode(self, training: bool) -> Any:
        """Put the layers whose output depends on train/eval mode (dropout, batch norm) in
        ``training`` mode for one forward; return the function that restores them, or
        ``None`` when nothing changed. Acting forwards run in eval mode, ``forward_train``
        in train mode, whatever mode the module was left in (RLlib's behaviour)."""
        return None

    def _forward_inference(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._forward(batch, **kwargs)

    def _forward_exploration(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._forward(batch, **kwargs)

    def _forward_train(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._forward(batch, **kwargs)

    def _forward(self, batch: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError(
            f"{type(self).__name__} implements neither _forward nor this phase's "
            f"_forward_inference / _forward_exploration / _forward_train"
        )

    # --- declared inputs and outputs (checked cheaply when check_io is on) -----------------
    def input_specs_inference(self) -> list[str]:
        """Keys ``forward_inference`` needs in its batch."""
        return []

    def input_specs_exploration(self) -> list[str]:
        """Keys ``forward_exploration`` needs in its batch."""
        return []

    def input_specs_train(self) -> list[str]:
        """Keys ``forward_train`` needs in its batch."""
        return []

    def output_specs_inference(self) -> list[str]:
        """Keys ``forward_inference`` returns (besides actions or action_dist_inputs)."""
        return []

    def output_specs_exploration(self) -> list[str]:
        """Keys ``forward_exploration`` returns (besides actions or action_dist_inputs)."""
        return []

    def output_specs_train(self) -> list[str]:
        """Keys ``forward_train`` returns."""
        return []

    def _check_inputs(self, batch: Any, keys: list[str], where: str) -> None:
        # Runs on every forward: a plain dict skips the slower Mapping ABC check.
        if type(batch) is not dict and not isinstance(batch, Mapping):
            raise BatchError(
                f"{type(self).__name__}.{where} expects a dict batch such as "
                f"{{'obs': tensor}}, got {type(batch).__name__}"
            )
        for key in keys:
            if key not in batch:
                raise BatchError(
                    f"{type(self).__name__}.{where}: the input batch has no {key!r} column "
                    f"(it has {sorted(batch)}); this module needs {keys}"
                )
        shape = self._obs_shape
        if shape:
            obs_shape = getattr(batch.get(Columns.OBS), "shape", None)
            if obs_shape is not None and obs_shape[len(obs_shape) - len(shape):] != shape:
                lead = "[B, T, ...]" if self.is_stateful() else "[B, ...]"
                raise BatchError(
                    f"{type(self).__name__}.{where}: observations have shape "
                    f"{tuple(obs_shape)} but the observation space {self.observation_space} "
                    f"needs trailing dims {shape} (a batch {lead} of them)"
                )

    def _check_action_outputs(self, out: Any, where: str) -> None:
        if type(out) is not dict:
            self._check_outputs(out, [], where)
        if Columns.ACTIONS not in out and Columns.ACTION_DIST_INPUTS not in out:
            raise BatchError(
                f"{type(self).__name__}.{where} must return {Columns.ACTIONS!r} and/or "
                f"{Columns.ACTION_DIST_INPUTS!r}; it returned keys {sorted(out)}"
            )

    def _check_outputs(self, out: Any, keys: list[str], where: str) -> None:
        if not isinstance(out, Mapping):
            raise BatchError(
                f"{type(self).__name__}.{where} must return a dict, got {type(out).__name__}"
            )
        for key in keys:
            if key not in out:
                raise BatchError(
                    f"{type(self).__name__}.{where} did not return {key!r} "
                    f"(it returned {sorted(out)})"
                )

    # --- distributions (RLlib's chain: exploration and train follow inference) -------------
    def get_inference_action_dist_cls(self) -> Any:
        """The Distribution class for ``forward_inference`` outputs (made deterministic).

        ``self.action_dist_cls`` when ``setup()`` set one; else the catalog's choice, else
        the installed plugins' choice for the action space.
        """
        chosen = self.action_dist_cls
        if chosen is not None:
            return chosen
        cached = self.__dict__.get("_action_dist_cls")
        if cached is None:
            if self.catalog is not None:
                cached = self.catalog.get_action_dist_cls()
            else:
                if self.action_space is None:
                    raise SpecError(
                        f"{type(self).__name__} has no action_space, so no action "
                        f"distribution can be chosen; build it with an action_space"
                    )
                cached = action_dist_cls_for(
                    self.action_space, self.model_config, module_class=type(self))
            self.__dict__["_action_dist_cls"] = cached
        return cached

    def get_exploration_action_dist_cls(self) -> Any:
        """The Distribution class for ``forward_exploration`` outputs."""
        return self.get_inference_action_dist_cls()

    def get_train_action_dist_cls(self) -> Any:
        """The Distribution class for ``forward_train`` outputs."""
        return self.get_inference_action_dist_cls()

    # --- state (recurrence) -----------------------------------------------------------------
    def get_initial_state(self) -> dict[str, Any]:
        """The recurrent state at an episode start: a dict of UNBATCHED tensors ({} if none)."""
        return {}

    def is_stateful(self) -> bool:
        """True if :meth:`get_initial_state` is not empty (then observations are [B, T, ...])."""
        stateful = self.__dict__.get("_stateful")
        if stateful is None:
            stateful = self.__dict__["_stateful"] = bool(self.get_initial_state())
        return stateful

    # --- wrappers ---------------------------------------------------------------------------
    def as_multi_rl_module(self) -> MultiRLModule:
        """This module inside a MultiRLModule, under ``"default_policy"``."""
        # The one import of core that points up: the base class returns its container
        # subclass (RLlib's API), which is defined on top of this module.
        from .multi_rl_module import MultiRLModule

        multi = MultiRLModule(
            observation_space=self.observation_space,
            action_space=self.action_space,
            inference_only=self.inference_only,
        )
        multi.add_module(DEFAULT_MODULE_ID, self)
        return multi

    def unwrapped(self) -> RLModule:
        """The underlying module if this one wraps another (e.g. DDP); else itself."""
        return self

    # --- state and checkpoints -----------------------------------------------------------------
    def get_state(
        self,
        components: str | list[str] | None = None,
        *,
        not_components: str | list[str] | None = None,
        inference_only: bool = False,
    ) -> dict[str, Any]:
        """The module's weights as a (nested) dict of tensors: ``{}`` for a module without
        weights (e.g. a random or heuristic policy)."""
        self._check_no_components(components, not_components)
        return {}

    def _check_no_components(self, components: Any, not_components: Any) -> None:
        """Refuse a selection of components: only a MultiRLModule has them."""
        if components or not_components:
            raise UnknownNameError(
                f"{type(self).__name__} has no checkpointable components, so components="
                f"{components!r} / not_components={not_components!r} select nothing; they "
                f"apply to a MultiRLModule's module ids"
            )

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load weights from :meth:`get_state` output; mismatches raise."""
        self._apply_state(self._validated_state(state))

    def _validated_state(self, state: Any) -> dict[str, Any]:
        """``state`` checked against this module; raises ``CheckpointError``, changes nothing."""
        if not isinstance(state, Mapping) or state:
            got = sorted(state) if isinstance(state, Mapping) else type(state).__name__
            raise CheckpointError(
                f"cannot load state into {type(self).__name__}: it has no weights, so the "
                f"state must be {{}}, got {got}"
            )
        return {}

    def _apply_state(self, state: dict[str, Any]) -> None:
        """Write a state :meth:`_validated_state` accepted (nothing to write here)."""

    def get_checkpointable_components(self) -> list[tuple[str, RLModule]]:
        """Sub-components saved and restorable on their own (module ids of a MultiRLModule)."""
        return []

    def get_metadata(self) -> dict[str, Any]:
        """JSON-writable facts about this module (class, spaces, config) for checkpoints."""
        return module_metadata(self)

    def save_to_path(self, path: Any = None, *, format: str | None = None) -> Any:
        """Write a checkpoint directory (a fresh temp dir when ``path`` is None); returns it."""
        return save_module(self, path, format=format)

    def restore_from_path(self, path: Any, *, component: str | None = None) -> None:
        """Load weights from a checkpoint (optionally one ``component``) into this module."""
        restore_module(self, path, component=component)

    @classmethod
    def from_checkpoint(cls, path: Any, **kwargs: Any) -> RLModule:
        """Build a module from a checkpoint; its class comes from the registry."""
        module = load_module(path, **kwargs)
        if not isinstance(module, cls):
            raise CheckpointError(
                f"checkpoint {path} holds a {type(module).__name__}, not a {cls.__name__}"
            )
        return module

    @classmethod
    def _build_from_checkpoint(cls, node: dict[str, Any], *, inference_only: bool | None,
                               root: Path) -> RLModule:
        """This class built as the checkpoint's (checked) metadata ``node`` describes; the
        loader calls it on the class the node names (``MultiRLModule`` overrides it)."""
        if "components" in node:
            raise CheckpointError(
                f"checkpoint {root} records components for {cls.__name__}, which is not a "
                f"MultiRLModule class"
            )
        return construct(cls, **module_fields(node, inference_only=inference_only, root=root))
