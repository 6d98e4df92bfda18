"""Channels-first and channels-last images: decided by the space, or by conv_data_format."""


import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import RLModuleSpec, compute_actions
from rlmodules.errors import BatchError, ConfigError, SpaceError
from rlmodules_cnn import CNNEncoder, image_layout

FILTERS = [[8, 3, 2], [16, 3, 2]]


@pytest.mark.parametrize(("shape", "expected"), [
    ((84, 84, 4), (84, 84, 4, False)),
    ((4, 84, 84), (84, 84, 4, True)),      # gymnasium's FrameStackObservation over grayscale
    ((3, 64, 48), (64, 48, 3, True)),
    ((42, 42), (42, 42, 1, False)),
])
def test_layout_is_read_from_the_space(shape, expected):
    layout = image_layout(gym.spaces.Box(0, 255, shape, np.uint8))
    assert (layout.height, layout.width, layout.channels, layout.channels_first) == expected


def test_an_ambiguous_shape_names_both_layouts_and_the_switch():
    space = gym.spaces.Box(0, 255, (16, 16, 16), np.uint8)
    message = (
        "rlmodules-cnn cannot tell the layout of images of shape [16, 16, 16]: channels last "
        "(H, W, C) = 16x16 with 16 channels, or channels first (C, H, W) = 16x16 with 16 "
        "channels; set model_config conv_data_format='channels_last' or 'channels_first'")
    with pytest.raises(SpaceError) as info:
        CNNEncoder(space)
    assert str(info.value) == message
    with pytest.raises(SpaceError) as info:  # through a default module, as it is
        RLModuleSpec(module_class="ppo", observation_space=space,
                     action_space=gym.spaces.Discrete(2)).build()
    assert str(info.value) == message


def test_conv_data_format_decides_where_the_shape_does_not():
    space = gym.spaces.Box(0, 255, (16, 16, 16), np.uint8)
    for fmt, first in (("channels_first", True), ("channels_last", False)):
        module = RLModuleSpec(module_class="ppo", observation_space=space,
                              action_space=gym.spaces.Discrete(2),
                              model_config={"conv_data_format": fmt,
                                            "conv_filters": FILTERS}).build()
        assert module.encoder.channels_first is first


def test_a_bad_conv_data_format_is_a_config_error():
    with pytest.raises(ConfigError, match=r"conv_data_format must be 'channels_last' \(H, W, C\), "
                                          r"'channels_first' \(C, H, W\) or None"):
        RLModuleSpec(module_class="ppo", observation_space=gym.spaces.Box(0, 1, (4,)),
                     action_space=gym.spaces.Discrete(2),
                     model_config={"conv_data_format": "NCHW"}).build()


def test_channels_first_gives_the_features_of_the_same_images_channels_last():
    torch.manual_seed(0)
    last = CNNEncoder(gym.spaces.Box(0, 255, (20, 24, 3), np.uint8), conv_filters=FILTERS)
    first = CNNEncoder(gym.spaces.Box(0, 255, (3, 20, 24), np.uint8), conv_filters=FILTERS)
    first.load_state_dict(last.state_dict())
    images = torch.randint(0, 256, (5, 20, 24, 3), dtype=torch.uint8)
    out_last = last({"obs": images})["encoder_out"]
    out_first = first({"obs": images.permute(0, 3, 1, 2)})["encoder_out"]
    assert torch.allclose(out_last, out_first, atol=1e-6)


def test_a_channels_first_frame_stack_acts_and_trains_with_the_default_module():
    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    module = RLModuleSpec(module_class="ppo", observation_space=space,
                          action_space=gym.spaces.Discrete(6)).build()
    frames = np.stack([space.sample() for _ in range(3)])
    out = compute_actions(module, {"obs": frames}, explore=True)
    assert out["actions"].shape == (3,)
    train = module.forward_train({"obs": torch.from_numpy(frames)})
    train["action_dist_inputs"].sum().backward()
    assert module.encoder.net[1].weight.grad is not None


def test_a_wrong_batch_shape_names_the_layout():
    encoder = CNNEncoder(gym.spaces.Box(0, 255, (4, 42, 42), np.uint8))
    with pytest.raises(BatchError, match=r"images \(4, 42, 42\) \(channels first\)"):
        encoder({"obs": torch.zeros(4, 42, 42, dtype=torch.uint8)})
