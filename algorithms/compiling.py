"""Compiled learner updates and acting forwards (``torch.compile``), with RLlib's settings.

:class:`TorchCompileConfig` is RLlib's ``TorchCompileConfig`` (backend, mode, extra
``torch.compile`` keywords); ``AlgorithmConfig.framework(torch_compile_learner=True, ...)``
makes one for the learner and one for the acting forward. :func:`compiled` wraps a function
so that compiling is never silently wrong: a failure to compile (a missing C++ compiler,
an unsupported operation, dynamo's recompile limit, which it would otherwise pass by
running eagerly without a word) warns once with the reason and runs the function eagerly
from then on.
The seconds spent compiling are counted (:attr:`CompileClock.seconds`) for the progress
line. On CUDA, mode ``"reduce-overhead"`` captures the compiled graphs with CUDA graphs.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["TorchCompileConfig", "CompileClock", "CompileFallbackWarning", "compiled",
           "DYNAMO_MODES"]

#: ``torch.compile`` modes (None: torch's default).
DYNAMO_MODES = (None, "default", "reduce-overhead", "max-autotune",
                "max-autotune-no-cudagraphs")


class CompileFallbackWarning(RuntimeWarning):
    """A function could not be compiled and runs eagerly (the message says why)."""


@attrs.frozen(kw_only=True)
class TorchCompileConfig:
    """How to ``torch.compile`` (RLlib's ``TorchCompileConfig``): ``torch_dynamo_backend``
    (``"inductor"``), ``torch_dynamo_mode`` (None, ``"default"``, ``"reduce-overhead"``:
    CUDA graphs on a GPU, ``"max-autotune"``, ...) and ``kwargs`` for ``torch.compile``.

    Example::

        config = PPOConfig().framework(torch_compile_learner=True)
        config.get_torch_compile_learner_config()   # TorchCompileConfig(...)
    """

    torch_dynamo_backend: str = "inductor"
    torch_dynamo_mode: str | None = None
    kwargs: dict[str, Any] = attrs.field(factory=dict)


class CompileClock:
    """Seconds spent in calls that compiled a graph, summed over the functions that
    share this clock."""

    def __init__(self) -> None:
        self.seconds = 0.0


def _graphs_compiled() -> int:
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def compiled(fn: Callable[..., Any], config: TorchCompileConfig, clock: CompileClock,
             *, what: str) -> Callable[..., Any]:
    """``fn`` compiled with ``config``; calls that compile add their time to ``clock``.

    If compiling fails, a :class:`CompileFallbackWarning` names ``what`` and the reason,
    and ``fn`` runs eagerly from then on (its result for that call included).
    """
    import torch
    import torch._dynamo.config as dynamo_config

    _import_compiler_quietly()
    compiled_fn = torch.compile(fn, backend=config.torch_dynamo_backend,
                                mode=config.torch_dynamo_mode, **config.kwargs)
    state = {"eager": False}

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if state["eager"]:
            return fn(*args, **kwargs)
        before, start = _graphs_compiled(), time.perf_counter()
        try:
            with dynamo_config.patch(fail_on_recompile_limit_hit=True):
                out = compiled_fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (any compiler failure falls back)
            if not _is_compiler_error(exc):
                raise
            state["eager"] = True
            clock.seconds += time.perf_counter() - start
            warnings.warn(
                f"torch.compile could not compile the {what} ({type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}); it "
                f"runs eagerly from now on. Turn compiling off to silence this",
                CompileFallbackWarning, stacklevel=2)
            return fn(*args, **kwargs)
        if _graphs_compiled() != before:
            clock.seconds += time.perf_counter() - start
        return out

    return call


def _import_compiler_quietly() -> None:
    """Import what inductor imports on its first compile, without torch's own deprecation
    notice about TorchScript (an internal import a user can do nothing about)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.script_method.* is deprecated",
                                category=DeprecationWarning)
        import torch.utils.mkldnn  # noqa: F401


def _is_compiler_error(exc: Exception) -> bool:
    """True for failures of dynamo / inductor / the C++ toolchain, not of the function
    itself (those propagate as they would eagerly)."""
    import torch._dynamo.exc as dynamo_exc

    if isinstance(exc, (dynamo_exc.BackendCompilerFailed, dynamo_exc.InternalTorchDynamoError,
                        dynamo_exc.Unsupported, dynamo_exc.FailOnRecompileLimitHit)):
        return True
    return type(exc).__module__.startswith(("torch._inductor", "torch._dynamo"))
