"""Mixed precision for learners and acting: which precision a device runs, and the
autocast context around forward passes.

The settings are PyTorch Lightning's names: ``"32-true"`` (fp32), ``"bf16-mixed"``
(bfloat16 autocast: on CPUs with bf16 matrix hardware, AMX or AVX512-BF16, and on GPUs that
have it), ``"16-mixed"`` (float16 autocast with a gradient scaler, GPUs only) and
``"auto"``, which times the first few steps both ways on the real batches and keeps
bfloat16 only where it is clearly faster. Weights stay fp32 (autocast casts them per
operation); networks compute in the lower precision and the losses in fp32: learners cast
network outputs with :func:`fp32` before log-probabilities, targets and projections.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from rlmodules.errors import ConfigError

from .rollout import tree_map

__all__ = ["PRECISIONS", "Precision", "cpu_has_bf16", "fp32", "check_precision"]

PRECISIONS = ("32-true", "bf16-mixed", "16-mixed", "auto")
#: ``"auto"`` keeps bfloat16 where its median step takes at most this share of fp32's.
AUTO_MARGIN = 0.9
#: Timed calls per candidate before ``"auto"`` decides (after one untimed warm-up each).
AUTO_TRIALS = 4


def cpu_has_bf16() -> bool:
    """True on CPUs with bfloat16 matrix hardware (AMX tiles or AVX512-BF16), where
    oneDNN runs bf16 matmuls and convolutions natively."""
    cpu = torch.cpu
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def _supports_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return device.type == "cpu" and cpu_has_bf16()


def check_precision(setting: Any, device: torch.device | None, what: str = "learners"
                    ) -> None:
    """Raise a ``ConfigError`` if ``setting`` is unknown or ``device`` (None: not known
    here) cannot run it."""
    if setting not in PRECISIONS:
        raise ConfigError(
            f"{what}(precision={setting!r}) is not known; use one of {PRECISIONS}"
        )
    if device is None:
        return
    if setting == "16-mixed" and device.type != "cuda":
        raise ConfigError(
            f"precision='16-mixed' (float16 with a gradient scaler) needs a GPU and this "
            f"{what[:-1]} runs on {device}; use 'bf16-mixed' on a CPU with bf16 hardware, "
            f"or '32-true'"
        )
    if setting == "bf16-mixed" and not _supports_bf16(device):
        where = "this GPU" if device.type == "cuda" else "this CPU (it has neither AMX nor " \
            "AVX512-BF16)"
        raise ConfigError(
            f"precision='bf16-mixed' needs bfloat16 hardware and {where} would emulate it "
            f"slower than fp32; use precision='auto' (bf16 where it is faster) or '32-true'"
        )


def fp32(tree: Any) -> Any:
    """Floating-point tensors of ``tree`` as float32 (others, and fp32 ones, as they are):
    network outputs enter the losses in full precision."""
    return tree_map(lambda x: x.float() if isinstance(x, torch.Tensor)
                    and x.is_floating_point() and x.dtype != torch.float32 else x, tree)


class Precision:
    """The precision one learner or acting forward runs at, on ``device``.

    :meth:`autocast` is the context around forward and loss; :meth:`timed` wraps a whole
    step (forward, backward, optimizer) so that ``"auto"`` can measure both candidates on
    real steps before it settles. ``chosen`` is the settled precision (None while
    ``"auto"`` is still measuring).

    Example::

        precision = Precision("bf16-mixed", torch.device("cpu"))
        with precision.timed(), precision.autocast():
            out = net(x)
    """

    def __init__(self, setting: str, device: torch.device) -> None:
        check_precision(setting, device)
        self.setting = setting
        self.device = device
        if setting == "auto":
            self.candidates = ["32-true", "bf16-mixed"] if _supports_bf16(device) \
                else ["32-true"]
        else:
            self.candidates = [setting]
        self.chosen: str | None = self.candidates[0] if len(self.candidates) == 1 else None
        self._calls = 0
        self._times: dict[str, list[float]] = {c: [] for c in self.candidates}

    @property
    def current(self) -> str:
        """The precision of the step now running (a candidate while measuring)."""
        if self.chosen is not None:
            return self.chosen
        return self.candidates[self._calls % len(self.candidates)]

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        return autocast_for(self.current, self.device)

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Around one whole step; while ``"auto"`` measures, times it and moves on to the
        other candidate (the first call of each is a warm-up)."""
        if self.chosen is not None:
            yield
            return
        candidate = self.current
        start = time.perf_counter()
        yield
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        if self._calls >= len(self.candidates):
            self._times[candidate].append(time.perf_counter() - start)
        self._calls += 1
        if all(len(t) >= AUTO_TRIALS for t in self._times.values()):
            self.chosen = self._decide()

    def _decide(self) -> str:
        median = {c: sorted(t)[len(t) // 2] for c, t in self._times.items()}
        return "bf16-mixed" if median["bf16-mixed"] <= AUTO_MARGIN * median["32-true"] \
            else "32-true"

    def wrap_forward(self, forward: Callable[..., Any]) -> Callable[..., Any]:
        """``forward`` under :meth:`autocast` with fp32 outputs (acting: distributions
        and log-probabilities are computed in full precision)."""
        if self.candidates == ["32-true"]:
            return forward

        def forward_in_precision(*args: Any, **kwargs: Any) -> Any:
            with self.timed(), self.autocast():
                out = forward(*args, **kwargs)
            return fp32(out)

        return forward_in_precision


def autocast_for(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The autocast context of ``precision`` on ``device`` (none for ``"32-true"``)."""
    if precision == "bf16-mixed":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "16-mixed":
        return torch.autocast(device.type, dtype=torch.float16)
    return contextlib.nullcontext()
