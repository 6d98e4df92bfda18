"""RLlib's distribution classes under RLlib's names: the classes the registry names.

``TorchCategorical`` is the class registered as ``"categorical"`` (by the built-in
plugin), ``TorchDiagGaussian`` is ``"diag_gaussian"``, and so on; each is resolved through
the registry on first access, so ``isinstance`` and subclassing agree with what the default
catalogs build. Constructors and ``from_logits`` keywords are RLlib's
(``TorchCategorical(logits=..., probs=...)``, ``TorchDiagGaussian(loc, scale)``,
``TorchMultiDistribution.get_partial_dist_cls(child_distribution_cls_struct=...,
input_lens=...)``).

Example::

    from rlmodules.distributions import TorchCategorical

    class TorchCategoricalWithTemp(TorchCategorical):
        def __init__(self, logits=None, probs=None, temperature=2.0):
            super().__init__(logits=logits / temperature)
"""

from __future__ import annotations

from typing import Any

from rlmodules import registry

from .distribution import Distribution

#: RLlib's name -> the built-in plugin's registered name (qualified: never a third party's).
_REGISTERED = {
    "TorchCategorical": "rlmodules/categorical",
    "TorchDiagGaussian": "rlmodules/diag_gaussian",
    "TorchSquashedGaussian": "rlmodules/squashed_gaussian",
    "TorchDeterministic": "rlmodules/deterministic",
    "TorchMultiCategorical": "rlmodules/multi_categorical",
    "TorchMultiDistribution": "rlmodules/multi_distribution",
}

__all__ = ["Distribution", "TorchDistribution", *_REGISTERED]

#: RLlib's base of its torch distributions; here every distribution works on torch tensors.
TorchDistribution = Distribution


def __getattr__(name: str) -> Any:
    ref = _REGISTERED.get(name)
    if ref is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = registry.get("distribution", ref)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
