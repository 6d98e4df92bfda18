# mypy: disable-error-code="empty-body"
# (hookspecs are signatures with docstrings; pluggy never runs their bodies)
"""The plugin contract: every hook a plugin may implement, and when rlmodules calls it.

A plugin is a module or object whose functions are marked with ``rlmodules.hookimpl``; it is
found through the ``rlmodules`` entry-point group, or registered in-process with
``rlmodules.registry.register_plugin(obj)``. The built-in plugin (``rlmodules.plugins.builtin``)
uses exactly these hooks.

Two families of hooks:

* **Registration hooks** (``rlmodules_modules``, ``rlmodules_catalogs``,
  ``rlmodules_distributions``, ``rlmodules_checkpoint_formats``, ``rlmodules_export_formats``,
  ``rlmodules_aliases``) are
  collect-all hooks called once per plugin when the registry is first used (never at import).
  They return plain data: a mapping of name to an object or to a lazy
  ``"package.module:attribute"`` string. Return lazy strings: then listing names imports
  nothing heavy (never torch), and the discovery cache keeps the names so that later
  processes list them without importing the plugin at all. A hook that raises or returns bad
  data leaves none of its plugin's names registered. Names are resolved by the registry,
  never by hook-call order: two plugins giving one name is a conflict the user resolves with
  a qualified name ``"plugin/name"``; a built-in name is replaced only by a value wrapped in
  ``rlmodules.registry.override(...)``.

* **Decision hooks** (``rlmodules_build_encoder``, ``rlmodules_action_dist_cls``) are called
  by the default catalogs while they build a module. They are ``firstresult``: the first
  non-``None`` answer wins, in pluggy's order (``tryfirst`` / ``trylast``; the built-in
  plugin answers ``trylast``), so an installed plugin extends the defaults (images, LSTMs)
  without the user changing code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import gymnasium as gym

    from .catalog import Catalog

__all__ = ["PROJECT_NAME", "hookspec", "hookimpl"]

#: The pluggy project name and the entry-point group.
PROJECT_NAME = "rlmodules"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a plugin's hook implementations: ``@rlmodules.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- registration hooks ----------------------------------------------------------------------


@hookspec
def rlmodules_modules() -> Mapping[str, Any]:
    """Register RLModule classes by name.

    Called once per plugin on first use of the registry (collect-all: every plugin's answer
    counts). Return ``{name: target}`` where the target is an ``RLModule`` subclass or a lazy
    ``"pkg.mod:Class"`` string imported on first resolution, or ``None`` for nothing. Names
    are identifiers (``"lstm"``, ``"tiny_atari_cnn"``; no ``/`` or ``:``). To replace a
    built-in name, wrap the target: ``{"ppo": rlmodules.registry.override("pkg:MyPPO")}``.

    Example::

        @rlmodules.hookimpl
        def rlmodules_modules():
            return {"lstm": "rlmodules_lstm.modules:LSTMContainingRLModule"}
    """


@hookspec
def rlmodules_catalogs() -> Mapping[str, Any]:
    """Register Catalog classes by name (same form as :func:`rlmodules_modules`).

    Example::

        @rlmodules.hookimpl
        def rlmodules_catalogs():
            return {"ppo": "rlmodules.plugins.ppo:PPOCatalog"}
    """


@hookspec
def rlmodules_distributions() -> Mapping[str, Any]:
    """Register action Distribution classes by name (same form as :func:`rlmodules_modules`).

    Example::

        @rlmodules.hookimpl
        def rlmodules_distributions():
            return {"beta": "my_pkg.dists:Beta"}
    """


@hookspec
def rlmodules_checkpoint_formats() -> Mapping[str, Any]:
    """Register checkpoint formats by name (same form as :func:`rlmodules_modules`).

    A format object writes and reads one flat ``{name: tensor}`` mapping; see
    ``rlmodules.checkpoint.CheckpointFormat`` for the protocol.

    Example::

        @rlmodules.hookimpl
        def rlmodules_checkpoint_formats():
            return {"npz": "my_pkg.formats:NpzFormat"}
    """


@hookspec
def rlmodules_export_formats() -> Mapping[str, Any]:
    """Register export formats by name (same form as :func:`rlmodules_modules`).

    An export format turns an inference-only module into a deployable artefact in a
    directory (``rlmodules export CKPT --format NAME``); see ``rlmodules.export.ExportFormat``
    for the protocol. A class is instantiated without arguments.

    Example::

        @rlmodules.hookimpl
        def rlmodules_export_formats():
            return {"onnx": "rlmodules_onnx.exporter:OnnxExportFormat"}
    """


@hookspec
def rlmodules_aliases() -> Mapping[str, Mapping[str, str]]:
    """Declare renamed names: ``{kind: {old_name: new_name}}``.

    ``kind`` is one of ``"module"``, ``"catalog"``, ``"distribution"``, ``"checkpoint_format"``,
    ``"export_format"``.
    Resolving an old name returns the new target and warns once (``DeprecationWarning``), so
    checkpoints written under the old name keep loading.

    Example::

        @rlmodules.hookimpl
        def rlmodules_aliases():
            return {"module": {"lstm_ppo": "lstm"}}
    """


# --- decision hooks (firstresult) ------------------------------------------------------------


@hookspec(firstresult=True)
def rlmodules_build_encoder(
    observation_space: gym.Space, model_config: Any, catalog: Catalog
) -> Any:
    """Build the encoder a default catalog uses for ``observation_space``, or return ``None``.

    Called by ``Catalog.build_encoder`` each time a default module builds an encoder (once
    per encoder: a PPO module with separate actor and critic encoders calls it twice).
    ``model_config`` is a ``DefaultModelConfig``. Return an ``rlmodules.Encoder`` (a
    ``torch.nn.Module`` with ``output_dim`` and ``get_initial_state()``) to take the decision,
    or ``None`` to leave it to the next plugin. A plugin that wraps another encoder (e.g. an
    LSTM over whatever encodes the observation) calls ``catalog.build_encoder`` again with
    an updated config (``model_config | {"use_lstm": False}``).

    Example::

        @rlmodules.hookimpl
        def rlmodules_build_encoder(observation_space, model_config, catalog):
            if len(getattr(observation_space, "shape", ())) == 3:
                return CNNEncoder(observation_space, model_config)
            return None
    """


@hookspec(firstresult=True)
def rlmodules_action_dist_cls(action_space: gym.Space, model_config: Any, catalog: Catalog) -> Any:
    """Choose the action distribution for ``action_space``, or return ``None``.

    Called by ``Catalog.get_action_dist_cls`` when a default module is built. Return a
    registered distribution name (``"categorical"``), a ``Distribution`` subclass, or
    ``None`` to leave the decision to the next plugin. The catalog configures the class for
    the space (``cls.for_space(action_space)``).

    Example::

        @rlmodules.hookimpl(tryfirst=True)
        def rlmodules_action_dist_cls(action_space, model_config, catalog):
            if isinstance(action_space, gym.spaces.Box) and catalog.squash_actions:
                return "squashed_gaussian"
            return None
    """
