"""rlmodules-cnn through the registry: blocked (as if not installed) versus installed."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from rlmodules import RLModuleSpec, SpaceError, UnknownNameError, registry

IMAGES = gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)
ACTIONS = gym.spaces.Discrete(2)


def test_blocked_package_names_are_unknown_and_the_hint_names_the_package():
    with registry.isolated_registry(blocked=("rlmodules-cnn",)):
        with pytest.raises(UnknownNameError, match=r"pip install rlmodules-cnn"):
            registry.get("module", "tiny_atari_cnn")
        assert "tiny_atari_cnn" not in {r.name for r in registry.list("module")}


def test_blocked_package_default_catalog_error_names_the_package():
    with registry.isolated_registry(blocked=("rlmodules-cnn",)):
        spec = RLModuleSpec(module_class="ppo", observation_space=IMAGES, action_space=ACTIONS)
        with pytest.raises(SpaceError,
                           match=r"Box\(0, 255, \(84, 84, 3\).*pip install rlmodules-cnn"):
            spec.build()


def test_installed_names_resolve_with_their_distribution():
    from rlmodules_cnn.tiny_atari import TinyAtariCNN

    with registry.isolated_registry():
        assert registry.get("module", "tiny_atari_cnn") is TinyAtariCNN
        assert registry.get("module", "rlmodules_cnn/tiny_atari_cnn") is TinyAtariCNN
        record = registry.record("module", "tiny_atari_cnn")
        assert (record.distribution, record.version) == ("rlmodules-cnn", "0.1.0")


def test_installed_package_extends_the_default_ppo_and_bc_modules():
    from rlmodules_cnn import CNNEncoder

    with registry.isolated_registry():
        for name in ("ppo", "bc"):
            module = RLModuleSpec(module_class=name, observation_space=IMAGES,
                                  action_space=ACTIONS).build()
            assert isinstance(module.encoder, CNNEncoder)


def test_non_image_spaces_are_left_to_the_built_in_encoders():
    from rlmodules_cnn import CNNEncoder

    module = RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(-1, 1, (4,)),
                          action_space=ACTIONS).build()
    assert not isinstance(module.encoder, CNNEncoder)


def test_listing_and_importing_the_plugin_import_no_torch():
    code = (
        "import sys, rlmodules_cnn, rlmodules_cnn.plugin\n"
        "from rlmodules import registry\n"
        "assert 'tiny_atari_cnn' in {r.name for r in registry.list('module')}\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"
