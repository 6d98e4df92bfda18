"""The hook through which a plugin gives OnnxPolicy the numpy sampler of its distribution.

OnnxPolicy acts without torch, so exploring needs each action distribution in numpy. The
built-in distributions have theirs (``rlmodules_onnx.sampling``); a plugin that registers a
distribution (``rlmodules_distributions``) registers its sampler here, from the same plugin
object, with ``@rlmodules.hookimpl``. Without one, ``rlmodules export`` warns that exploring
will not be available and ``OnnxPolicy`` acts greedily only (greedy actions are computed
inside the graph).

A sampler is any object with three methods; ``inputs`` is ``action_dist_inputs`` ``[B, D]``
(float32) and ``space`` the action space as rlmodules writes it in JSON (e.g. ``{"type":
"Box", "shape": [1], "low": -2.0, "high": 2.0, "dtype": "float32"}``):

* ``sample(inputs, space, rng)``: actions ``[B, ...]`` drawn with the numpy Generator ``rng``;
* ``logp(inputs, actions, space)``: their log-probabilities ``[B]``;
* ``deterministic(inputs, space)``: the greedy actions (what ``to_deterministic().sample()``
  gives in torch).

``rlmodules export`` checks the sampler against the torch distribution (greedy actions and
log-probabilities of torch's samples, within the export's tolerance) before it records
that the export can explore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlmodules.hookspecs import hookspec

__all__ = ["rlmodules_onnx_samplers"]


@hookspec
def rlmodules_onnx_samplers() -> Mapping[str, Any]:  # type: ignore[empty-body]
    """Register numpy samplers by the name of the distribution they sample.

    Return ``{distribution name: sampler}``: a plain name means the distribution of that
    name registered by the same plugin, ``"plugin/name"`` any plugin's; a sampler is an
    object or a lazy ``"pkg.mod:attr"`` string, imported when an export or OnnxPolicy first
    needs it. Called once per process; a plugin whose hook raises or returns something else
    is skipped with a warning.

    Example::

        @rlmodules.hookimpl
        def rlmodules_onnx_samplers():
            return {"beta": "my_plugin.numpy_beta:BetaSampler"}
    """
