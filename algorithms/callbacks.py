"""Callbacks: user code the algorithm calls at fixed points, with RLlib's new-stack names.

Subclass :class:`RLlibCallback` and override the hooks you need, then hand the class to
``config.callbacks(MyCallbacks)`` (several: a list), or give one function per hook
(``config.callbacks(on_train_result=fn)``). A config file names a callbacks class by the
name a plugin registered (``[callbacks] callbacks_class = "my_callbacks"``, through the
``rlmodules_callbacks`` hook): nothing named in a file is imported.

Every hook takes keywords only (take ``**kwargs`` too: more may come):

- ``on_algorithm_init(algorithm, metrics_logger)``: the algorithm is built.
- ``on_episode_end(episode, metrics_logger, rl_module)``: for each training episode that
  finished this iteration (``episode.get_return()``, ``len(episode)``), once the
  iteration's sampling and learning are done.
- ``on_evaluate_start(algorithm, metrics_logger)`` / ``on_evaluate_end(algorithm,
  metrics_logger, evaluation_metrics)``: around ``evaluate()``.
- ``on_train_result(algorithm, metrics_logger, result)``: at the end of ``train()``;
  ``result`` may be changed.
- ``on_checkpoint_loaded(algorithm)``: a checkpoint was restored into the algorithm.

Values logged to ``metrics_logger`` (:class:`~rlmodules.algorithms.metrics_logger.
MetricsLogger`) appear in that iteration's result. A hook that raises stops ``train()``
with a :class:`~rlmodules.errors.CallbackError` naming the callback and the hook; the
algorithm's state is that of a finished iteration, so it can be saved or trained on.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from rlmodules.errors import CallbackError, ConfigError

__all__ = ["RLlibCallback", "Callbacks", "HOOKS", "make_callbacks", "check_callbacks_setting",
           "check_callback_functions"]

#: The hooks rlmodules calls, in the order of a run.
HOOKS = ("on_algorithm_init", "on_episode_end", "on_evaluate_start", "on_evaluate_end",
         "on_train_result", "on_checkpoint_loaded")
#: RLlib hooks with no counterpart here: a callbacks class defining one is refused, so
#: ported code does not silently lose it.
_NOT_CALLED = ("on_episode_created", "on_episode_start", "on_episode_step", "on_sample_end",
               "on_environment_created", "on_env_runners_recreated", "on_learn_on_batch",
               "on_postprocess_trajectory", "on_create_policy", "on_sub_environment_created",
               "on_evaluate_offline_start", "on_evaluate_offline_end")


class RLlibCallback:
    """Base of callbacks classes: every hook does nothing until overridden.

    Example::

        class CountLongEpisodes(RLlibCallback):
            def on_episode_end(self, *, episode, metrics_logger, **kwargs):
                metrics_logger.log_value("long_episodes", float(len(episode) >= 200),
                                         reduce="sum")

        algo = PPOConfig().environment("CartPole-v1").callbacks(CountLongEpisodes).build()
    """

    def on_algorithm_init(self, *, algorithm: Any, metrics_logger: Any = None,
                          **kwargs: Any) -> None:
        """The algorithm has been built."""

    def on_episode_end(self, *, episode: Any, metrics_logger: Any = None,
                       rl_module: Any = None, **kwargs: Any) -> None:
        """A training episode finished (called at the end of the iteration)."""

    def on_evaluate_start(self, *, algorithm: Any, metrics_logger: Any = None,
                          **kwargs: Any) -> None:
        """``evaluate()`` is about to play its episodes."""

    def on_evaluate_end(self, *, algorithm: Any, metrics_logger: Any = None,
                        evaluation_metrics: dict[str, Any], **kwargs: Any) -> None:
        """``evaluate()`` is done; ``evaluation_metrics`` may be changed."""

    def on_train_result(self, *, algorithm: Any, metrics_logger: Any = None,
                        result: dict[str, Any], **kwargs: Any) -> None:
        """``train()`` is done; ``result`` may be changed."""

    def on_checkpoint_loaded(self, *, algorithm: Any, **kwargs: Any) -> None:
        """A checkpoint has been restored into ``algorithm``."""


class Callbacks:
    """The hooks to call, each with the name of the callback it belongs to; empty (and
    false) when nothing is configured, so the loop skips callbacks at no cost."""

    def __init__(self, calls: dict[str, list[tuple[str, Callable[..., Any]]]]) -> None:
        self._calls = {hook: fns for hook, fns in calls.items() if fns}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def wants(self, hook: str) -> bool:
        """Whether any callback implements ``hook``."""
        return hook in self._calls

    def call(self, hook: str, **kwargs: Any) -> None:
        """Call every callback's ``hook``; an exception becomes a ``CallbackError``."""
        for label, fn in self._calls.get(hook, ()):
            try:
                fn(**kwargs)
            except Exception as exc:
                raise CallbackError(
                    f"callback {label} raised {type(exc).__name__}: {exc}"
                ) from exc


def check_callbacks_setting(callbacks_class: Any) -> list[Any]:
    """``callbacks_class`` (a class, a registered name, or a list of them) as a list,
    checked for type (names resolve when the algorithm is built)."""
    if callbacks_class is None:
        return []
    items = list(callbacks_class) if isinstance(callbacks_class, (list, tuple)) \
        else [callbacks_class]
    for item in items:
        if not (isinstance(item, str) and item or inspect.isclass(item)):
            raise ConfigError(
                f"callbacks(callbacks_class=...) takes a class (e.g. an RLlibCallback "
                f"subclass), the registered name of one, or a list of them; got "
                f"{type(item).__name__}: {item!r:.80}"
            )
    return items


def check_callback_functions(given: dict[str, Any]) -> dict[str, list[Callable[..., Any]]]:
    """``{hook: [functions]}`` for the hooks given a function or a list of them (None:
    left as configured), each checked to be callable."""
    out: dict[str, list[Callable[..., Any]]] = {}
    for hook, fns in given.items():
        if fns is None:
            continue
        fns = list(fns) if isinstance(fns, (list, tuple)) else [fns]
        for fn in fns:
            if not callable(fn):
                raise ConfigError(
                    f"callbacks({hook}=...) takes a function called with the hook's "
                    f"keywords (or a list of them), got {type(fn).__name__}: {fn!r:.80}; "
                    f"a config file names a registered callbacks class in callbacks_class"
                )
        out[hook] = fns
    return out


def make_callbacks(classes: Sequence[Any], functions: dict[str, list[Callable[..., Any]]]
                   ) -> Callbacks:
    """Instantiate ``classes`` (resolving registered names) and gather the hooks they
    override, then the per-hook ``functions``."""
    calls: dict[str, list[tuple[str, Callable[..., Any]]]] = {hook: [] for hook in HOOKS}
    for item in classes:
        cls = _resolve(item)
        unsupported = [name for name in _NOT_CALLED if callable(getattr(cls, name, None))]
        if unsupported:
            raise ConfigError(
                f"callbacks class {cls.__qualname__} defines {', '.join(unsupported)}, which "
                f"rlmodules does not call; it calls {', '.join(HOOKS)}. Move that code into "
                f"one of these (on_episode_end sees every finished episode)"
            )
        try:
            instance = cls()
        except Exception as exc:
            raise CallbackError(
                f"callbacks class {cls.__qualname__} could not be created without arguments "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        for hook in HOOKS:
            method = getattr(cls, hook, None)
            if callable(method) and method is not getattr(RLlibCallback, hook):
                calls[hook].append((f"{cls.__qualname__}.{hook}", getattr(instance, hook)))
    for hook, fns in functions.items():
        for fn in fns:
            name = getattr(fn, "__qualname__", type(fn).__name__)
            calls[hook].append((f"{name} ({hook})", fn))
    return Callbacks(calls)


def _resolve(item: Any) -> type:
    if not isinstance(item, str):
        return item
    from rlmodules import registry

    cls = registry.get("callbacks", item)
    if not inspect.isclass(cls):
        raise ConfigError(
            f"the registered callbacks {item!r} is a {type(cls).__name__}, not a class; a "
            f"plugin's rlmodules_callbacks hook must register callbacks classes"
        )
    return cls
