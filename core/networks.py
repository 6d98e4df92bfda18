"""The one set of network builders: activations, initializers, linear layers and MLPs, and
the encoder contract.

The default catalogs, ``rlmodules.models`` (RLlib's model configs), ``rlmodules.compat``
and the built-in plugins build their layers here, so an activation name, an initializer
name or a layer means the same thing everywhere. Activation names are listed once, in
``rlmodules.model_config.ACTIVATION_LAYERS`` (plain data, so configs are checked without
torch).

Example::

    net = mlp(4, [64, 64], 2, hidden_activation="relu",
              hidden_init=orthogonal(2 ** 0.5), output_init=orthogonal(0.01))
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypedDict, TypeVar

import torch
from torch import nn

from .errors import ConfigError
from .model_config import ACTIVATION_LAYERS, DefaultModelConfig

__all__ = [
    "ENCODER_OUT",
    "HIDDEN_GAIN",
    "ORTHOGONAL_MAX_COST",
    "Encoder",
    "Init",
    "LayerInits",
    "activation",
    "activation_class",
    "default_orthogonal",
    "initialized",
    "initializer",
    "layer_inits",
    "linear",
    "mlp",
    "orthogonal",
    "skipped_initializers",
]

#: Output key of an encoder's forward.
ENCODER_OUT = "encoder_out"

#: An in-place initializer of one weight or bias tensor.
Init = Callable[[torch.Tensor], Any]

#: Gain of hidden layers by default (orthogonal init, as in common PPO practice).
HIDDEN_GAIN = math.sqrt(2.0)
#: Largest ``rows * cols * min(rows, cols)`` (about the QR's flops) of a weight the default
#: initialisation makes orthogonal: every layer up to 512 x 512 (wider ones keep PyTorch's).
ORTHOGONAL_MAX_COST = 512**3

_Layer = TypeVar("_Layer", bound=nn.Module)


class LayerInits(TypedDict, total=False):
    """Initializers of one layer group as :func:`mlp` keywords (see :func:`layer_inits`)."""

    hidden_init: Init | None
    output_init: Init | None
    bias_init: Init | None


class Encoder(nn.Module):
    """Maps a forward batch to features: ``{"obs", "state_in"?} -> {"encoder_out", "state_out"?}``.

    The encoder contract of the catalogs and RLlib's ``Encoder`` in one class
    (``rlmodules.catalog.Encoder`` and ``rlmodules.models.Encoder`` are this class).
    ``output_dim`` is the width of ``encoder_out``'s last axis. Stateless encoders accept any
    leading batch axes (``[B, ...]`` or ``[B, T, ...]``); stateful ones (``get_initial_state``
    not empty) take ``[B, T, ...]`` and ``state_in`` leaves of shape ``[B, ...]``.
    """

    output_dim: int

    def get_initial_state(self) -> dict[str, Any]:
        """Unbatched initial state tensors; ``{}`` for a stateless encoder."""
        return {}


# --- activations ------------------------------------------------------------------------------
def activation_class(name: Any) -> Any:
    """The ``torch.nn`` layer class an activation name stands for (any case, see
    ``ACTIVATION_LAYERS``); ``None`` for ``None`` and ``"linear"``. A callable (a layer
    class) passes through, as in RLlib's ``get_activation_fn``."""
    if name is None or (isinstance(name, str) and name.lower() == "linear"):
        return None
    if callable(name):
        return name
    layer = ACTIVATION_LAYERS.get(str(name).lower())
    if layer is None:
        raise ConfigError(
            f"unknown activation {name!r}; expected one of {sorted(ACTIVATION_LAYERS)} or "
            f"'linear'"
        )
    return getattr(nn, layer)


def activation(name: Any) -> nn.Module:
    """The activation layer for ``name`` (``nn.Identity`` for ``None`` / ``"linear"``)."""
    cls = activation_class(name)
    return nn.Identity() if cls is None else cls()


# --- initializers -----------------------------------------------------------------------------
def initializer(spec: Any, kwargs: Mapping[str, Any] | None = None, *,
                default: Init | None = None) -> Init | None:
    """``spec`` as an in-place initializer bound to ``kwargs``: a ``torch.nn.init`` name
    (``"orthogonal"``, ``"xavier_uniform"``, ...; a trailing ``_`` is accepted) or a
    callable; ``default`` when ``spec`` is ``None``.

    Example::

        init = initializer("orthogonal", {"gain": 0.01})
        init(layer.weight)
    """
    if spec is None:
        return default
    if callable(spec):
        return functools.partial(spec, **dict(kwargs or {}))
    fn = getattr(nn.init, str(spec).rstrip("_") + "_", None)
    if fn is None:
        raise ConfigError(f"unknown initializer {spec!r}; expected a torch.nn.init name "
                          f"such as 'orthogonal' or 'xavier_uniform', or a callable")
    if fn is nn.init.orthogonal_:
        fn = _on_one_thread(fn)
    return functools.partial(fn, **dict(kwargs or {}))


def orthogonal(gain: float = 1.0) -> Init:
    """Orthogonal initialisation with ``gain``, computed on one torch thread."""
    return functools.partial(_on_one_thread(nn.init.orthogonal_), gain=gain)


def _on_one_thread(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with one torch thread: the QR decomposition of a small matrix on several
    threads spends most of its time waiting for them (an orthogonal 64 x 64 init: 0.3 ms on
    one thread, about 90 ms on two busy cores)."""

    @functools.wraps(fn)
    def one_thread(*args: Any, **kwargs: Any) -> Any:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return one_thread


def default_orthogonal(gain: float) -> Init:
    """The default modules' initialisation: :func:`orthogonal` where its QR is cheap
    (``rows * cols * min(rows, cols) <= ORTHOGONAL_MAX_COST``), else PyTorch's own (the
    layer keeps its construction-time init): an orthogonal 2048 x 2048 layer costs about
    half a second, 15 times PyTorch's default."""
    orthogonal_init = orthogonal(gain)

    def init(tensor: torch.Tensor) -> Any:
        rows, cols = tensor.shape[0], tensor[0].numel()
        if rows * cols * min(rows, cols) <= ORTHOGONAL_MAX_COST:
            orthogonal_init(tensor)

    return init


def layer_inits(
    model_config: DefaultModelConfig, group: str, *, output_gain: float | None = None
) -> LayerInits:
    """Initializers of one layer group (``"fcnet"``, ``"head_fcnet"``, ``"conv"``) as
    ``mlp`` keywords: the config's choice where set, else :func:`default_orthogonal` (gain
    sqrt(2) for hidden layers, ``output_gain`` for the output layer) and zero biases.

    Example::

        net = mlp(8, [32], 1, **layer_inits(config, "head_fcnet", output_gain=1.0))
    """
    kernel = initializer(
        model_config[f"{group}_kernel_initializer"],
        model_config[f"{group}_kernel_initializer_kwargs"],
    )
    bias = initializer(
        model_config[f"{group}_bias_initializer"],
        model_config[f"{group}_bias_initializer_kwargs"],
        default=nn.init.zeros_,
    )
    out: LayerInits = {"hidden_init": kernel or default_orthogonal(HIDDEN_GAIN), "bias_init": bias}
    if output_gain is not None:
        out["output_init"] = kernel or default_orthogonal(output_gain)
    return out


#: True while a module is built to receive a checkpoint's weights (see below).
_weights_will_be_loaded: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "rlmodules_weights_will_be_loaded", default=False
)


@contextlib.contextmanager
def skipped_initializers() -> Iterator[None]:
    """Build modules whose every weight a strict checkpoint load overwrites next: the
    initializers here do nothing meanwhile (an orthogonal init of one 2560-wide layer takes
    about half a second), leaving PyTorch's default initialisation in place.

    Example (what ``RLModule.from_checkpoint`` does)::

        with skipped_initializers():
            module = spec.build()
        module.set_state(verified_state)
    """
    token = _weights_will_be_loaded.set(True)
    try:
        yield
    finally:
        _weights_will_be_loaded.reset(token)


# --- layers -----------------------------------------------------------------------------------
def initialized(layer: _Layer, weight_init: Init | None, bias_init: Init | None) -> _Layer:
    """``layer`` (a linear or convolution layer) with its weight and bias initialised in
    place (``None``: PyTorch's default); inside :func:`skipped_initializers`, as built."""
    if _weights_will_be_loaded.get():
        return layer
    weight, bias = layer.weight, getattr(layer, "bias", None)
    with torch.no_grad():
        if weight_init is not None and isinstance(weight, torch.Tensor):
            weight_init(weight)
        if bias_init is not None and isinstance(bias, torch.Tensor):
            bias_init(bias)
    return layer


def linear(in_dim: int, out_dim: int, *, bias: bool = True, weight_init: Init | None = None,
           bias_init: Init | None = None) -> nn.Linear:
    """A ``nn.Linear`` layer, initialised by :func:`initialized`."""
    return initialized(nn.Linear(in_dim, out_dim, bias=bias), weight_init, bias_init)


def mlp(
    input_dim: int,
    hiddens: Sequence[int],
    output_dim: int | None = None,
    *,
    hidden_activation: Any = "tanh",
    hidden_init: Init | None = None,
    output_init: Init | None = None,
    bias_init: Init | None = None,
    bias: bool = True,
    layernorm: bool = False,
) -> nn.Sequential:
    """Linear layers of sizes ``hiddens`` (each followed by a ``LayerNorm`` when
    ``layernorm``, then the activation), then an optional linear output layer without
    activation.

    ``hidden_init`` / ``output_init`` / ``bias_init`` initialise the weights of hidden
    layers, of the output layer and every bias (``None``: PyTorch's default); ``bias=False``
    builds the layers without biases.

    Example::

        net = mlp(4, [64, 64], 2, hidden_init=orthogonal(2 ** 0.5), output_init=orthogonal(0.01))
    """
    layers: list[nn.Module] = []
    width = input_dim
    for size in hiddens:
        layers.append(linear(width, int(size), bias=bias, weight_init=hidden_init,
                             bias_init=bias_init))
        if layernorm:
            layers.append(nn.LayerNorm(int(size)))
        layers.append(activation(hidden_activation))
        width = int(size)
    if output_dim is not None:
        layers.append(linear(width, output_dim, bias=bias, weight_init=output_init,
                             bias_init=bias_init))
    return nn.Sequential(*layers)
