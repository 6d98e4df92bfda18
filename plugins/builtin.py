"""The built-in plugin, registered through the ``rlmodules`` entry point like any other.

Every target is a lazy string, so listing names imports neither torch nor the classes.
The decision hooks are ``trylast``: an installed plugin's answer comes first.
"""

from __future__ import annotations

from typing import Any

from rlmodules.hookspecs import hookimpl

_P = "rlmodules.plugins"


@hookimpl
def rlmodules_modules() -> dict[str, str]:
    return {
        "bc": f"{_P}.bc:DefaultBCTorchRLModule",
        "ppo": f"{_P}.ppo:DefaultPPOTorchRLModule",
        "dqn": f"{_P}.dqn:DefaultDQNTorchRLModule",
        "ppo_action_masking": f"{_P}.action_masking:ActionMaskingPPOModule",
        "sac": f"{_P}.sac:DefaultSACTorchRLModule",
    }


@hookimpl
def rlmodules_catalogs() -> dict[str, str]:
    return {
        "bc": f"{_P}.bc:BCCatalog",
        "ppo": f"{_P}.ppo:PPOCatalog",
        "dqn": f"{_P}.dqn:DQNCatalog",
        "sac": f"{_P}.sac:SACCatalog",
    }


@hookimpl
def rlmodules_distributions() -> dict[str, str]:
    return {
        "categorical": f"{_P}.categorical:Categorical",
        "diag_gaussian": f"{_P}.gaussians:DiagGaussian",
        "squashed_gaussian": f"{_P}.gaussians:SquashedGaussian",
        "deterministic": f"{_P}.deterministic:Deterministic",
        "multi_categorical": f"{_P}.categorical:MultiCategorical",
        "multi_distribution": f"{_P}.multi_distribution:MultiDistribution",
        "bernoulli": f"{_P}.bernoulli:Bernoulli",
    }


@hookimpl
def rlmodules_checkpoint_formats() -> dict[str, str]:
    return {
        "safetensors": f"{_P}.checkpoint_formats:SafetensorsFormat",
        "torch": f"{_P}.checkpoint_formats:TorchStateDictFormat",
    }


@hookimpl(trylast=True)
def rlmodules_build_encoder(observation_space: Any, model_config: Any, catalog: Any) -> Any:
    from .encoders import build_default_encoder

    return build_default_encoder(observation_space, model_config)


@hookimpl(trylast=True)
def rlmodules_action_dist_cls(action_space: Any, model_config: Any, catalog: Any) -> Any:
    from .distributions import default_distribution_name

    return default_distribution_name(action_space)
