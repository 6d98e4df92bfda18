"""The registered "mobilenet_v2" PPO module: building, freezing, fine-tuning, weights."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import (
    ConfigError,
    RLModuleSpec,
    SpaceError,
    UnknownNameError,
    compute_actions,
    registry,
)

IMAGES = gym.spaces.Box(0, 255, (32, 32, 3), np.uint8)
ACTIONS = gym.spaces.Discrete(3)


def build(**config):
    return RLModuleSpec(module_class="mobilenet_v2", observation_space=IMAGES,
                        action_space=ACTIONS, model_config=config).build()


def images(batch: int = 2) -> torch.Tensor:
    return torch.randint(0, 256, (batch, 32, 32, 3), dtype=torch.uint8)


def test_name_resolves_only_when_installed():
    from rlmodules_mobilenet import MobileNetV2PPOTorchRLModule

    with registry.isolated_registry(blocked=("rlmodules-mobilenet",)):
        with pytest.raises(UnknownNameError, match=r"pip install rlmodules-mobilenet"):
            registry.get("module", "mobilenet_v2")
    with registry.isolated_registry():
        assert registry.get("module", "mobilenet_v2") is MobileNetV2PPOTorchRLModule
        assert registry.record("module", "mobilenet_v2").distribution == "rlmodules-mobilenet"


def test_ppo_module_with_mobilenet_encoder_acts_and_computes_values():
    from rlmodules.plugins import DefaultPPOTorchRLModule
    from rlmodules_mobilenet import MobileNetV2Encoder

    module = build()
    assert isinstance(module, DefaultPPOTorchRLModule)
    assert isinstance(module.encoder, MobileNetV2Encoder)
    obs = images()
    out = compute_actions(module, {"obs": obs}, explore=True)
    assert out["actions"].shape == (2,)
    train = module.forward_train({"obs": obs})
    assert train["action_dist_inputs"].shape == (2, 3) and train["embeddings"].shape == (2, 1280)
    assert module.compute_values({"obs": obs}, train["embeddings"]).shape == (2,)


def test_frozen_encoder_trains_only_the_heads():
    module = build(freeze_encoder=True).train()
    stats = module.encoder.features[1].conv[0][1].running_mean.clone()
    out = module.forward_train({"obs": images()})
    values = module.compute_values({}, out["embeddings"])
    (out["action_dist_inputs"].sum() + values.sum()).backward()
    assert all(p.grad is None for p in module.encoder.parameters())
    assert all(p.grad is not None for p in [*module.pi.parameters(), *module.vf.parameters()])
    assert torch.equal(module.encoder.features[1].conv[0][1].running_mean, stats)
    assert not module.encoder.features.training


def test_fine_tuned_encoder_gets_gradients():
    module = build().train()
    module.forward_train({"obs": images()})["action_dist_inputs"].sum().backward()
    assert all(p.grad is not None for p in module.encoder.parameters())


def test_weights_load_into_actor_and_separate_critic(tmp_path):
    from rlmodules_mobilenet import mobilenet_v2_features

    torch.manual_seed(0)
    source = mobilenet_v2_features()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save({f"features.{k}": v for k, v in source.state_dict().items()}, path)
    module = build(vf_share_layers=False, freeze_encoder=True)
    module.load_torchvision_weights(path)
    for encoder in (module.encoder, module.vf_encoder):
        for name, tensor in source.state_dict().items():
            assert torch.equal(encoder.features.state_dict()[name], tensor)


def test_state_round_trips_into_an_inference_only_build():
    module = build()
    inference = RLModuleSpec(module_class="mobilenet_v2", observation_space=IMAGES,
                             action_space=ACTIONS, inference_only=True).build()
    inference.set_state(module.get_state(inference_only=True))
    module.eval()
    inference.eval()
    obs = images()
    torch.testing.assert_close(inference.forward_inference({"obs": obs})["action_dist_inputs"],
                               module.forward_inference({"obs": obs})["action_dist_inputs"])


def test_bad_spaces_and_config_keys():
    with pytest.raises(SpaceError, match=r"MobileNetV2 needs RGB images: a Box of shape "
                                         r"\[H, W, 3\].*got Box\(0, 255, \(32, 32, 4\)"):
        RLModuleSpec(module_class="mobilenet_v2",
                     observation_space=gym.spaces.Box(0, 255, (32, 32, 4), np.uint8),
                     action_space=ACTIONS).build()
    with pytest.raises(ConfigError, match=r"unknown model config key 'freeze'.*Did you mean "
                                          r"'freeze_encoder'\?"):
        build(freeze=True)
    with pytest.raises(ConfigError, match=r"freeze_encoder must be True or False, got 'yes'"):
        build(freeze_encoder="yes")
