"""CNNEncoder: default stacks per image size, conv_filters, dtypes, batch axes, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import BatchError, ConfigError, DefaultModelConfig, SpaceError
from rlmodules_cnn import CNNEncoder, default_conv_filters


@pytest.mark.parametrize(("size", "output_dim"), [(84, 64 * 6 * 6), (64, 128 * 4 * 4),
                                                  (42, 64 * 6 * 6)])
def test_default_stacks_for_common_sizes(size, output_dim):
    space = gym.spaces.Box(0, 255, (size, size, 4), np.uint8)
    encoder = CNNEncoder(space)
    out = encoder({"obs": torch.as_tensor(np.stack([space.sample() for _ in range(2)]))})
    assert encoder.output_dim == output_dim
    assert out["encoder_out"].shape == (2, output_dim)


def test_unsupported_size_without_conv_filters_is_a_clear_space_error():
    with pytest.raises(SpaceError) as err:
        CNNEncoder(gym.spaces.Box(0, 255, (100, 80, 3), np.uint8))
    message = str(err.value)
    assert "no default conv_filters for 100x80 images" in message
    assert "84x84, 64x64, 42x42" in message and "set model_config conv_filters" in message
    with pytest.raises(SpaceError, match="100x80"):
        default_conv_filters(100, 80)


def test_custom_conv_filters_with_pairs_and_valid_padding():
    space = gym.spaces.Box(0.0, 1.0, (100, 80, 3), np.float32)
    encoder = CNNEncoder(space, conv_filters=[[8, [5, 3], 2], [16, 3, [2, 1], "valid"]])
    # "same": 100x80 -> 50x40; "valid" kernel 3, stride (2, 1): 24x38.
    assert encoder.output_dim == 16 * 24 * 38
    out = encoder({"obs": torch.rand(3, 100, 80, 3)})["encoder_out"]
    assert out.shape == (3, 16 * 24 * 38)


def test_valid_kernel_larger_than_its_input_is_a_space_error():
    space = gym.spaces.Box(0, 255, (42, 42, 1), np.uint8)
    with pytest.raises(SpaceError, match=r"conv_filters\[1\] = \[8, 30, 1, 'valid'\] cannot "
                                         r"apply to a 21x21 map"):
        CNNEncoder(space, conv_filters=[[4, 4, 2], [8, 30, 1, "valid"]])


@pytest.mark.parametrize(("filters", "expected"), [
    ([[16, 4]], r"conv_filters\[0\] must be \[out_channels, kernel, stride\]"),
    ([[0, 4, 2]], r"out_channels must be a positive int, got 0"),
    ([[16, [4, 4, 4], 2]], r"kernel must be a positive int or a \[height, width\] pair"),
    ([[16, 4, 2, "full"]], r"padding must be one of \['same', 'valid'\], got 'full'"),
    ([], r"non-empty list"),
])
def test_bad_conv_filters_are_config_errors(filters, expected):
    space = gym.spaces.Box(0, 255, (42, 42, 3), np.uint8)
    with pytest.raises(ConfigError, match=expected):
        CNNEncoder(space, conv_filters=filters)


def test_uint8_images_are_scaled_to_unit_range():
    filters = [[4, 3, 2]]
    uint8 = CNNEncoder(gym.spaces.Box(0, 255, (42, 42, 3), np.uint8), conv_filters=filters)
    floats = CNNEncoder(gym.spaces.Box(0.0, 1.0, (42, 42, 3), np.float32), conv_filters=filters)
    floats.load_state_dict(uint8.state_dict())
    images = torch.randint(0, 256, (2, 42, 42, 3), dtype=torch.uint8)
    expected = floats({"obs": images.float() / 255.0})["encoder_out"]
    torch.testing.assert_close(uint8({"obs": images})["encoder_out"], expected)


def test_grayscale_images_and_time_axes():
    space = gym.spaces.Box(0, 255, (42, 42), np.uint8)
    encoder = CNNEncoder(space)
    frames = torch.randint(0, 256, (2, 5, 42, 42), dtype=torch.uint8)
    out = encoder({"obs": frames})["encoder_out"]
    assert out.shape == (2, 5, encoder.output_dim)
    flat = encoder({"obs": frames.reshape(10, 42, 42)})["encoder_out"]
    torch.testing.assert_close(out.reshape(10, -1), flat)


def test_channels_last_layout_is_respected():
    space = gym.spaces.Box(0.0, 1.0, (42, 42, 2), np.float32)
    encoder = CNNEncoder(space, conv_filters=[[1, 1, 1]])
    conv = encoder.net[1]
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0]).view(1, 2, 1, 1))
        conv.bias.zero_()
    images = torch.zeros(1, 42, 42, 2)
    images[0, 3, 7, 0] = 5.0  # channel 0 at row 3, column 7
    images[0, 10, 10, 1] = 9.0  # channel 1 is ignored by the weights
    out = encoder({"obs": images})["encoder_out"].view(42, 42)
    assert out[3, 7] == 5.0 and out.sum() == 5.0


def test_conv_initializers_from_the_model_config():
    space = gym.spaces.Box(0, 255, (42, 42, 3), np.uint8)
    config = DefaultModelConfig(conv_kernel_initializer="constant",
                                conv_kernel_initializer_kwargs={"val": 0.5},
                                conv_bias_initializer="ones")
    encoder = CNNEncoder.from_model_config(space, config)
    for conv in (m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)):
        assert torch.all(conv.weight == 0.5) and torch.all(conv.bias == 1.0)


def test_non_image_spaces_and_unbatched_observations_are_rejected():
    with pytest.raises(SpaceError, match=r"image Box space of shape \[H, W, C\], "
                                         r"\[C, H, W\] or \[H, W\], got "
                                         r"Discrete\(3\)"):
        CNNEncoder(gym.spaces.Discrete(3))
    encoder = CNNEncoder(gym.spaces.Box(0, 255, (42, 42, 3), np.uint8))
    with pytest.raises(BatchError, match=r"got shape \(42, 42, 3\)"):
        encoder({"obs": torch.zeros(42, 42, 3, dtype=torch.uint8)})


def test_padding_and_a_map_sized_kernel_compute_what_plain_convolutions_do():
    # "same" 3x3 stride 1 pads symmetrically (inside the conv); the last layer covers the
    # whole 6x6 map (computed as a matrix product). Both must equal plain conv2d + pad.
    torch.manual_seed(0)
    space = gym.spaces.Box(0.0, 1.0, (12, 12, 2), np.float32)
    encoder = CNNEncoder(space, conv_filters=[[4, 3, 1], [8, 2, 2], [16, 6, 1, "valid"]])
    images = torch.rand(5, 12, 12, 2)
    x = images.permute(0, 3, 1, 2)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    x = torch.relu(torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1)),
                                              convs[0].weight, convs[0].bias))
    x = torch.relu(torch.nn.functional.conv2d(x, convs[1].weight, convs[1].bias, stride=2))
    x = torch.relu(torch.nn.functional.conv2d(x, convs[2].weight, convs[2].bias))
    assert torch.allclose(encoder({"obs": images})["encoder_out"], x.flatten(1), atol=1e-5)
    assert [name for name, _ in encoder.named_parameters()] == [
        "net.1.weight", "net.1.bias", "net.4.weight", "net.4.bias", "net.7.weight", "net.7.bias"]
