"""The Catalog API: decides and builds a default module's encoder, heads and distribution.

Each decision goes through the plugin system's decision hooks first
(``rlmodules_build_encoder``, ``rlmodules_action_dist_cls``), so installing a plugin teaches
the default catalogs a new observation or action space with no code change by the user.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import gymnasium as gym
import torch
from torch import nn

from .errors import ConfigError, SpaceError
from .model_config import DefaultModelConfig

__all__ = [
    "ENCODER_OUT",
    "Catalog",
    "Encoder",
    "GaussianPolicyHead",
    "Init",
    "activation",
    "default_action_dist_cls",
    "default_orthogonal",
    "initializer",
    "layer_inits",
    "mlp",
    "orthogonal",
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

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
}


class Encoder(nn.Module):
    """Maps a forward batch to features: ``{"obs", "state_in"?} -> {"encoder_out", "state_out"?}``.

    ``output_dim`` is the width of ``encoder_out``'s last axis. Stateless encoders accept any
    leading batch axes (``[B, ...]`` or ``[B, T, ...]``); stateful ones (``get_initial_state``
    not empty) take ``[B, T, ...]`` and ``state_in`` leaves of shape ``[B, ...]``.
    """

    output_dim: int

    def get_initial_state(self) -> dict[str, Any]:
        """Unbatched initial state tensors; ``{}`` for a stateless encoder."""
        return {}


def activation(name: str | None) -> nn.Module:
    """The activation layer for a DefaultModelConfig activation name."""
    if name in (None, "linear"):
        return nn.Identity()
    try:
        return _ACTIVATIONS[name]()  # type: ignore[index]
    except KeyError:
        raise ConfigError(
            f"unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)} or 'linear'"
        ) from None


def initializer(name: str | None, kwargs: Mapping[str, Any] | None = None, *,
                default: Init | None = None) -> Init | None:
    """The ``torch.nn.init`` function named ``name`` (bound to ``kwargs``), else ``default``.

    Names are the DefaultModelConfig ones (``"orthogonal"``, ``"xavier_uniform"``, ...;
    a trailing ``_`` is accepted).

    Example::

        init = initializer("orthogonal", {"gain": 0.01})
        init(layer.weight)
    """
    if name is None:
        return default
    fn = getattr(nn.init, name.rstrip("_") + "_", None)
    if fn is None:
        raise ConfigError(f"unknown initializer {name!r}; expected a torch.nn.init name "
                          f"such as 'orthogonal' or 'xavier_uniform'")
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


def _init_linear(layer: nn.Linear, weight: Init | None, bias: Init | None) -> nn.Linear:
    if _weights_will_be_loaded.get():
        return layer
    with torch.no_grad():
        if weight is not None:
            weight(layer.weight)
        if bias is not None:
            bias(layer.bias)
    return layer


def mlp(
    input_dim: int,
    hiddens: Sequence[int],
    output_dim: int | None = None,
    *,
    hidden_activation: str | None = "tanh",
    hidden_init: Init | None = None,
    output_init: Init | None = None,
    bias_init: Init | None = None,
) -> nn.Sequential:
    """Linear layers of sizes ``hiddens`` (each followed by the activation), then an
    optional linear output layer without activation.

    ``hidden_init`` / ``output_init`` / ``bias_init`` initialise the weights of hidden
    layers, of the output layer and every bias (``None``: PyTorch's default).

    Example::

        net = mlp(4, [64, 64], 2, hidden_init=orthogonal(2 ** 0.5), output_init=orthogonal(0.01))
    """
    layers: list[nn.Module] = []
    width = input_dim
    for size in hiddens:
        layers += [_init_linear(nn.Linear(width, size), hidden_init, bias_init),
                   activation(hidden_activation)]
        width = size
    if output_dim is not None:
        layers.append(_init_linear(nn.Linear(width, output_dim), output_init, bias_init))
    return nn.Sequential(*layers)


def layer_inits(
    model_config: DefaultModelConfig, group: str, *, output_gain: float | None = None
) -> dict[str, Init | None]:
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
    out: dict[str, Init | None] = {
        "hidden_init": kernel or default_orthogonal(HIDDEN_GAIN), "bias_init": bias,
    }
    if output_gain is not None:
        out["output_init"] = kernel or default_orthogonal(output_gain)
    return out


class GaussianPolicyHead(nn.Module):
    """Policy head for Gaussian distributions: ``[..., 2 * D]`` means then log-stds.

    The log-stds are clipped to ``[-clip, clip]`` (``log_std_clip_param``). With
    ``free_log_std`` they are one learned vector (``log_std``, starting at ``log_std_init``)
    that does not depend on the input, and the network only outputs the ``D`` means.
    """

    def __init__(self, net: nn.Module, *, action_dim: int, free_log_std: bool,
                 clip: float, log_std_init: float = 0.0) -> None:
        super().__init__()
        self.net = net
        self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init))) \
            if free_log_std else None
        self.clip = clip

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.net(features)
        if self.log_std is None:
            mean, log_std = out.chunk(2, dim=-1)
        else:
            mean, log_std = out, self.log_std.expand_as(out)
        if not math.isinf(self.clip):
            log_std = log_std.clamp(-self.clip, self.clip)
        return torch.cat([mean, log_std], dim=-1)


def _encoder_hint(space: gym.Space, config: DefaultModelConfig) -> str:
    if config.use_lstm:
        return " use_lstm=True needs an LSTM encoder plugin: `pip install rlmodules-lstm`."
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 3:
        return " Image observations need a CNN encoder plugin: `pip install rlmodules-cnn`."
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 2:
        return (" A 2-D Box is an image for `pip install rlmodules-cnn` (with a channel axis) or "
                "else flatten it with gymnasium.wrappers.FlattenObservation.")
    return (" Write a plugin implementing the rlmodules_build_encoder hook to support it, or "
            "wrap the env to change its observation space.")


def default_action_dist_cls(
    action_space: gym.Space, model_config: Any = None, catalog: Any = None,
    module_class: Any = None,
) -> Any:
    """The distribution class the installed plugins choose for ``action_space``, asked
    with the module class and its ``model_config`` (see ``rlmodules_action_dist_cls``).

    Example::

        dist_cls = default_action_dist_cls(gym.spaces.Discrete(3))
    """
    from .decisions import action_dist_cls_for

    return action_dist_cls_for(action_space, model_config, catalog, module_class)


class Catalog:
    """Builds the parts of a default module from (observation space, action space, config).

    Decisions go through the plugins' decision hooks; subclass it to change one decision
    (override ``build_encoder``, a ``build_*_head`` or ``get_action_dist_cls``) and pass
    the subclass, or its registered name, as ``catalog_class``.

    Weights start orthogonal (gain sqrt(2) for hidden layers, 0.01 for the policy output,
    1.0 for the value output; layers wider than 512 x 512 keep PyTorch's default, see
    ``default_orthogonal``) with zero biases unless the config names initializers; they
    draw from torch's global RNG, so ``torch.manual_seed`` makes them reproducible.

    Example::

        catalog = Catalog(observation_space=obs_space, action_space=act_space,
                          model_config={"fcnet_hiddens": [64]})
        encoder = catalog.build_encoder()
        pi = catalog.build_pi_head(encoder.output_dim)
    """

    #: Gain of the policy head's output layer (small: a near-uniform initial policy).
    pi_output_gain: float = 0.01
    #: Gain of the value head's output layer.
    vf_output_gain: float = 1.0
    #: The module class this catalog builds for (set by the module; decision hooks get it).
    module_class: type | None = None

    def __init__(
        self,
        *,
        observation_space: gym.Space,
        action_space: gym.Space,
        model_config: Mapping[str, Any] | DefaultModelConfig | None = None,
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.model_config = DefaultModelConfig.from_dict(
            {} if model_config is None else model_config
        )
        self._action_dist_cls: Any = None

    def build_encoder(self, model_config: DefaultModelConfig | None = None) -> Encoder:
        """An encoder for the observation space, chosen by the installed plugins.

        ``model_config`` overrides the catalog's (a wrapping plugin passes
        ``model_config | {"use_lstm": False}`` to get the encoder it wraps).
        """
        from .decisions import encoder_for

        config = self.model_config if model_config is None else model_config
        encoder = encoder_for(self.observation_space, config, self)
        if encoder is None:
            raise SpaceError(
                f"no installed plugin builds an encoder for observation space "
                f"{self.observation_space} (use_lstm={config.use_lstm}). Built in: Box "
                f"(1-D), Discrete, MultiDiscrete, MultiBinary, and Dict and Tuple of those."
                f"{_encoder_hint(self.observation_space, config)}"
            )
        return encoder

    def get_action_dist_cls(self) -> Any:
        """The action distribution class (configured for the action space)."""
        if self._action_dist_cls is None:
            self._action_dist_cls = default_action_dist_cls(
                self.action_space, self.model_config, self
            )
        return self._action_dist_cls

    @property
    def action_dist_input_dim(self) -> int:
        """Width of ``action_dist_inputs`` the distribution needs."""
        return int(
            self.get_action_dist_cls().required_input_dim(
                self.action_space, model_config=self.model_config
            )
        )

    def build_pi_head(self, input_dim: int) -> nn.Module:
        """Policy head: ``head_fcnet_hiddens`` then a linear layer to the distribution inputs.

        For a distribution whose inputs are means then log-stds (the Gaussians) it clips
        the log-stds and honours ``free_log_std``; any other distribution gets a plain head.
        """
        config = self.model_config
        out_dim = self.action_dist_input_dim
        action_dim = self._gaussian_action_dim(out_dim)
        if config.free_log_std and action_dim is None:
            dist = self.get_action_dist_cls().base_class().__name__
            raise ConfigError(
                f"free_log_std=True needs a Gaussian action distribution (inputs: means then "
                f"log-stds) over a Box action space; the action distribution is {dist} for "
                f"{self.action_space}. Set free_log_std=False"
            )
        if config.log_std_init != 0.0 and not config.free_log_std:
            raise ConfigError(
                f"log_std_init={config.log_std_init} sets where free_log_std's learned vector "
                f"starts; set free_log_std=True too (or leave log_std_init at 0.0)"
            )
        head_dim = action_dim if config.free_log_std and action_dim is not None else out_dim
        net = self._head(input_dim, head_dim, self.pi_output_gain)
        if action_dim is None or (math.isinf(config.log_std_clip_param)
                                  and not config.free_log_std):
            return net
        return GaussianPolicyHead(net, action_dim=action_dim, free_log_std=config.free_log_std,
                                  clip=config.log_std_clip_param,
                                  log_std_init=config.log_std_init)

    def build_vf_head(self, input_dim: int) -> nn.Module:
        """Value head: ``head_fcnet_hiddens`` then a linear layer to one value."""
        return self._head(input_dim, 1, self.vf_output_gain)

    def _head(self, input_dim: int, output_dim: int, output_gain: float) -> nn.Sequential:
        config = self.model_config
        return mlp(input_dim, config.head_fcnet_hiddens, output_dim,
                   hidden_activation=config.head_fcnet_activation,
                   **layer_inits(config, "head_fcnet", output_gain=output_gain))

    def _gaussian_action_dim(self, dist_input_dim: int) -> int | None:
        """The action size D when the distribution takes ``[means (D), log-stds (D)]``."""
        space = self.action_space
        if not isinstance(space, gym.spaces.Box) or not getattr(
            self.get_action_dist_cls(), "inputs_are_mean_and_log_std", False
        ):
            return None
        action_dim = math.prod(space.shape)
        return action_dim if dist_input_dim == 2 * action_dim else None
