"""rlmodules.sharing: a trained policy as a folder for the Hugging Face Hub.

:func:`package_policy` (``rlmodules package``) evaluates a policy on fresh seeds, records a
replay video, writes a model card and a checksummed file list next to its checkpoints;
``hf upload org/name DIR`` publishes the folder, and ``RLModule.from_checkpoint(
"hf://org/name")`` loads it back (see :mod:`rlmodules.hub`).

Importing this package is cheap (no torch): names are imported on first use.

Example::

    from rlmodules.sharing import package_policy

    packaged = package_policy("runs/cartpole", "ppo-cartpole", episodes=10, video="gif")
    print(packaged.evaluation.mean, packaged.path / "README.md")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlmodules.lazy import lazy_exports

# Public name -> defining submodule, imported on first access (PEP 562).
_LAZY = {
    "package_policy": "package",
    "PackagedPolicy": "package",
    "Evaluation": "evaluation",
    "evaluate_policy": "evaluation",
    "write_video": "video",
    "model_card": "card",
    "card_metadata": "card",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)

if TYPE_CHECKING:
    from .card import card_metadata, model_card
    from .evaluation import Evaluation, evaluate_policy
    from .package import PackagedPolicy, package_policy
    from .video import write_video
