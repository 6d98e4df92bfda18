# mypy: disable-error-code="empty-body"
# (hookspecs are signatures with docstrings; pluggy never runs their bodies)
"""The plugin contract: every hook a plugin may implement, and when rlmodules calls it.

This module and ``rlmodules.errors`` are the primitives the registry builds on: they import
nothing else of rlmodules.

A plugin is a module or object whose functions are marked with ``rlmodules.hookimpl``; it is
found through the ``rlmodules`` entry-point group, or registered in-process with
``rlmodules.registry.register_plugin(obj)``. The built-in plugin (``rlmodules.plugins.builtin``)
uses exactly these hooks.

Two families of hooks:

* **Registration hooks** (``rlmodules_modules``, ``rlmodules_catalogs``,
  ``rlmodules_distributions``, ``rlmodules_checkpoint_formats``, ``rlmodules_export_formats``,
  ``rlmodules_config_keys``, ``rlmodules_aliases``) are
  collect-all hooks called once per plugin when the registry is first used (never at import).
  They return plain data: a mapping of name to an object or to a lazy
  ``"package.module:attribute"`` string. Return lazy strings inside your plugin's own
  top-level package: then listing names imports nothing heavy (never torch), and the
  discovery cache keeps the names so that later processes list them without importing the
  plugin at all (a target elsewhere could not be told from a forged cache entry, so such a
  plugin is imported in every process). A hook that raises or returns bad
  data leaves none of its plugin's names registered. Names are resolved by the registry,
  never by hook-call order: two plugins giving one name is a conflict the user resolves with
  a qualified name ``"plugin/name"``; a built-in name is replaced only by a value wrapped in
  ``rlmodules.registry.override(...)``.

* **Decision hooks** (``rlmodules_build_encoder``, ``rlmodules_action_dist_cls``) are called
  by the default catalogs while they build a module, one implementation at a time in
  pluggy's order (``tryfirst`` / ``trylast``; the built-in plugin answers ``trylast``): the
  first acceptable non-``None`` answer wins, so an installed plugin extends the defaults
  (images, LSTMs) without the user changing code. They receive the module class and its own
  ``model_config``, so a plugin can apply only where it is meant to. An implementation that
  fails (any exception, even ``sys.exit``) or answers something unusable is reported (a
  ``PluginWarning``, ``rlmodules doctor``; ``RLMODULES_STRICT=1`` raises) and skipped: one
  plugin never breaks another's modules. To reject an input on purpose (an unsupported
  config), raise an ``rlmodules`` error such as ``ConfigError``: that reaches the user. An
  implementation may take any subset of a hook's arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import gymnasium as gym

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
def rlmodules_config_keys() -> Mapping[str, Any]:
    """Declare the ``model_config`` keys your plugin reads from the default modules' config.

    Called once per plugin on first use of the registry (collect-all, like
    :func:`rlmodules_modules`). Return ``{name: rlmodules.registry.ConfigKey(type=...,
    default=..., doc=...)}`` (or a lazy ``"pkg.mod:attr"`` string naming such an object).
    The key's full name is ``"<plugin>.<name>"`` (``"rlm_beta.use_beta"`` for plugin
    ``rlm_beta``); users may write the plain ``name`` while no other plugin and no
    ``DefaultModelConfig`` field has it. ``DefaultModelConfig`` then accepts the key, checks
    its type (a wrong value or an unknown key is a ``ConfigError`` with a did-you-mean over
    every field and declared key), stores it under its full name, and gives it to your
    decision hooks: ``model_config.get("rlm_beta.use_beta")`` (or ``model_config["use_beta"]``)
    returns the value, or the declared default when unset. ``rlmodules info`` lists the keys,
    and a checkpoint records the distribution and version that declared each key it uses.

    Example::

        @rlmodules.hookimpl
        def rlmodules_config_keys():
            return {"use_beta": rlmodules.registry.ConfigKey(
                type=bool, default=False, doc="Beta distribution for bounded Box actions")}
    """


@hookspec
def rlmodules_aliases() -> Mapping[str, Mapping[str, str]]:
    """Declare renamed names: ``{kind: {old_name: new_name}}``.

    ``kind`` is one of ``"module"``, ``"catalog"``, ``"distribution"``, ``"checkpoint_format"``,
    ``"export_format"``, ``"config_key"``.
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
    observation_space: gym.Space, model_config: Any, catalog: Any, module_class: type | None
) -> Any:
    """Build the encoder a default catalog uses for ``observation_space``, or return ``None``.

    Called by ``Catalog.build_encoder`` each time a default module builds an encoder (once
    per encoder: a PPO module with separate actor and critic encoders calls it twice).
    ``model_config`` is the catalog's ``DefaultModelConfig``, ``catalog`` the
    ``rlmodules.Catalog`` asking, ``module_class`` the module being built (``None`` for a
    catalog used on its own). Return an ``rlmodules.Encoder`` (a
    ``torch.nn.Module`` with an int ``output_dim`` and ``get_initial_state()``) to take the
    decision, or ``None`` to leave it to the next plugin. A plugin that wraps another
    encoder (e.g. an LSTM over whatever encodes the observation) calls
    ``catalog.build_encoder`` again with an updated config
    (``model_config | {"use_lstm": False}``).

    Example::

        @rlmodules.hookimpl
        def rlmodules_build_encoder(observation_space, model_config, catalog):
            if len(getattr(observation_space, "shape", None) or ()) == 3:
                return CNNEncoder(observation_space, model_config)
            return None
    """


@hookspec(firstresult=True)
def rlmodules_action_dist_cls(
    action_space: gym.Space, model_config: Any, catalog: Any, module_class: type | None
) -> Any:
    """Choose the action distribution for ``action_space``, or return ``None``.

    Called when a module's action distribution is chosen: by ``Catalog.get_action_dist_cls``
    for default modules (``catalog`` is that catalog and ``model_config`` its
    ``DefaultModelConfig``), by ``RLModule.get_train_action_dist_cls`` for a module without
    a catalog (``catalog`` is ``None``, ``model_config`` the module's own dict), and for each
    component of a Tuple or Dict space (with the parent's arguments). ``module_class`` is the
    module being built. Return a distribution name (resolved among your own plugin's names
    first: ``"beta"`` means yours), a ``Distribution`` subclass, or ``None`` to leave the
    decision to the next plugin. The class is then configured for the space
    (``cls.for_space(action_space)``): its ``from_logits`` reads the space as ``cls.space``
    (see ``rlmodules.Distribution``). Read your own config keys (:func:`rlmodules_config_keys`)
    from ``model_config``.

    Example::

        @rlmodules.hookimpl(tryfirst=True)
        def rlmodules_action_dist_cls(action_space, module_class):
            ours = isinstance(module_class, type) and issubclass(module_class, MyBetaPolicy)
            if ours and isinstance(action_space, gym.spaces.Box):
                return "beta"  # this plugin's own "beta" distribution
            return None
    """
