"""Decision hooks, asked one implementation at a time so that a broken one is isolated."""

from __future__ import annotations

from rlmodules.errors import DecisionHookError, RLModulesError

from ._failures import reraise_interrupt

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds to import; only type checkers need it here
    from collections.abc import Callable, Mapping
    from typing import Any

    from ._failures import Failures
    from ._plugins import Plugins

__all__ = ["Decisions"]

_NO_ANSWER = object()


class Decisions:
    """Asks decision hooks; each failing implementation is reported once per hook."""

    def __init__(self, plugins: Plugins, failures: Failures) -> None:
        self._plugins = plugins
        self._failures = failures
        self._reported: set[tuple[str, str]] = set()

    def reset(self) -> None:
        self._reported.clear()

    def decide(
        self, relay: Any, hook: str, convert: Callable[[Any, str], Any], kwargs: Mapping[str, Any]
    ) -> tuple[Any, str | None]:
        """The first usable answer to ``hook`` and the plugin that gave it; see
        :meth:`Registry.decide`. ``relay`` is pluggy's hook relay."""
        for impl in reversed(getattr(relay, hook).get_hookimpls()):
            try:
                answer = _ask(impl, hook, convert, kwargs)
            except DecisionHookError as exc:
                self._report(impl.plugin_name, hook, exc)
                continue
            except RLModulesError:
                raise  # the plugin rejects this input on purpose: the user's error to see
            except BaseException as exc:
                reraise_interrupt(exc)
                self._report(impl.plugin_name, hook, exc)
                continue
            if answer is not _NO_ANSWER:
                return answer, impl.plugin_name
        return None, None

    def _report(self, plugin: str, hook: str, exc: BaseException) -> None:
        if (plugin, hook) not in self._reported or self._failures.strict:
            self._failures.report(plugin, *self._plugins.origin(plugin), "decision", exc)
            self._reported.add((plugin, hook))  # reported once


def _ask(impl: Any, hook: str, convert: Callable[[Any, str], Any],
         kwargs: Mapping[str, Any]) -> Any:
    """One implementation's answer, converted; ``_NO_ANSWER`` if it returned ``None``."""
    if impl.hookwrapper or impl.wrapper:
        raise DecisionHookError(
            f"{hook} is a decision hook, asked one implementation at a time; it "
            f"cannot be a wrapper (remove wrapper=True)"
        )
    missing = [arg for arg in impl.argnames if arg not in kwargs]
    if missing:
        raise DecisionHookError(
            f"{hook} implementation asks for {missing}; it receives {sorted(kwargs)}"
        )
    answer = impl.function(*(kwargs[arg] for arg in impl.argnames))
    if answer is None:
        return _NO_ANSWER
    try:
        return convert(answer, impl.plugin_name)
    except Exception as exc:  # an unusable answer is the plugin's fault
        raise DecisionHookError(f"{hook}() returned {answer!r:.100}: {exc}") from exc
