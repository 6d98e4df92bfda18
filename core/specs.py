"""RLModuleSpec and MultiRLModuleSpec: plain data that builds modules anywhere.

``module_class`` / ``catalog_class`` accept a class, a registered name (``"ppo"``), a
qualified name (``"rlmodules/ppo"``) or an import path (``"pkg.mod:Class"``); they are
resolved through the registry at ``build()``. ``to_dict()`` gives plain JSON.

This module is the public face of the two spec classes; each lives in its own module, in
the layer of the class it builds (the module spec below ``MultiRLModule``, which builds its
sub-modules from such specs; the multi-module spec above it).

Example::

    spec = RLModuleSpec(module_class="ppo", observation_space=env.observation_space,
                        action_space=env.action_space)
    module = spec.build()
"""

from __future__ import annotations

from ._module_spec import MODULE_ID_RULE, RLModuleSpec, inherit_from_parent, is_valid_module_id
from ._multi_spec import MultiRLModuleSpec

__all__ = [
    "MODULE_ID_RULE", "MultiRLModuleSpec", "RLModuleSpec", "inherit_from_parent",
    "is_valid_module_id",
]
