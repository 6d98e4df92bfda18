"""A third party's Beta distribution plugin, written only against public names.

It declares the config key ``use_beta``; when a default module's ``model_config`` sets it,
its decision hook serves bounded 1-D Box action spaces with a Beta distribution scaled to
the space's bounds, which it reads from the class ``for_space`` configured for the space.
"""

from __future__ import annotations

import gymnasium as gym
import rlmodules
from plugin_author.rlm_beta.rlm_beta.distribution import ScaledBeta
from rlmodules.registry import ConfigKey

__all__ = ["BetaPlugin", "ScaledBeta"]


class BetaPlugin:
    """The plugin object: what a package would name in its entry point."""

    @rlmodules.hookimpl
    def rlmodules_distributions(self):
        return {"scaled_beta": ScaledBeta}

    @rlmodules.hookimpl
    def rlmodules_config_keys(self):
        return {"use_beta": ConfigKey(type=bool, default=False,
                                      doc="Beta distribution for bounded Box actions")}

    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_action_dist_cls(self, action_space, model_config):
        box = isinstance(action_space, gym.spaces.Box) and action_space.is_bounded()
        if box and model_config.get("rlm_beta.use_beta"):
            return "scaled_beta"  # this plugin's own name
        return None
