"""MobileNetV2 features match torchvision's layout, and its saved weights load strictly."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import CheckpointError
from rlmodules_mobilenet import MobileNetV2Encoder, mobilenet_v2_features
from safetensors.torch import save_file

REFERENCE = Path(__file__).parent / "data" / "mobilenet_v2_features.txt"
IMAGES = gym.spaces.Box(0, 255, (32, 32, 3), np.uint8)
#: torchvision's mobilenet_v2 has 3,504,872 parameters; its classifier Linear(1280, 1000)
#: holds 1,281,000 of them.
FEATURES_PARAMETERS = 3_504_872 - 1_281_000


def reference() -> list[tuple[str, tuple[int, ...]]]:
    entries = []
    for line in REFERENCE.read_text().splitlines():
        if line.startswith("#"):
            continue
        name, shape = line.split(" ")
        entries.append((name, () if shape == "scalar" else tuple(map(int, shape.split(",")))))
    return entries


def torchvision_state_dict(features: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A whole-model state dict in torchvision's layout (features plus classifier)."""
    state = {f"features.{k}": v.clone() for k, v in features.state_dict().items()}
    state["classifier.1.weight"] = torch.zeros(1000, 1280)
    state["classifier.1.bias"] = torch.zeros(1000)
    return state


def randomised(features: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for name, tensor in features.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + (0.5 if "running_var" in name else 0.0))
    return features


def test_names_and_shapes_equal_torchvision_features():
    features = mobilenet_v2_features()
    ours = [(name, tuple(t.shape)) for name, t in features.state_dict().items()]
    assert ours == reference()
    reference_parameters = sum(
        math.prod(shape) for name, shape in reference()
        if not name.endswith(("running_mean", "running_var", "num_batches_tracked"))
    )
    assert reference_parameters == FEATURES_PARAMETERS
    assert sum(p.numel() for p in features.parameters()) == FEATURES_PARAMETERS


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_a_saved_torchvision_state_dict_loads_strictly(tmp_path, suffix):
    torch.manual_seed(0)
    source = randomised(mobilenet_v2_features())
    path = tmp_path / f"mobilenet_v2{suffix}"
    state = torchvision_state_dict(source)
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    encoder = MobileNetV2Encoder(IMAGES)
    encoder.load_torchvision_weights(path)
    for name, tensor in source.state_dict().items():
        torch.testing.assert_close(encoder.features.state_dict()[name], tensor)


def test_a_features_only_state_dict_loads_too():
    source = randomised(mobilenet_v2_features())
    encoder = MobileNetV2Encoder(IMAGES).eval()
    encoder.load_torchvision_weights(source.state_dict())
    images = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
    expected = source.eval()((images.permute(0, 3, 1, 2) / 255.0 - encoder.mean) / encoder.std)
    torch.testing.assert_close(encoder({"obs": images})["encoder_out"],
                               expected.mean(dim=(2, 3)))


def test_mismatched_weights_are_refused_and_nothing_loads():
    encoder = MobileNetV2Encoder(IMAGES)
    before = {k: v.clone() for k, v in encoder.features.state_dict().items()}
    state = torchvision_state_dict(randomised(mobilenet_v2_features()))
    del state["features.18.1.running_var"]
    state["features.19.0.weight"] = torch.zeros(1)
    state["features.0.0.weight"] = torch.zeros(16, 3, 3, 3)
    with pytest.raises(CheckpointError) as err:
        encoder.load_torchvision_weights(state)
    message = str(err.value)
    assert "missing keys ['18.1.running_var']" in message
    assert "unexpected keys ['19.0.weight']" in message
    assert "0.0.weight: (16, 3, 3, 3) (expected (32, 3, 3, 3))" in message
    assert "torchvision.models.mobilenet_v2()" in message
    for name, tensor in encoder.features.state_dict().items():
        assert torch.equal(tensor, before[name])


class Payload:
    """Stands for code inside a pickle: loading it must be refused."""


def test_files_that_are_not_plain_state_dicts_are_checkpoint_errors(tmp_path):
    encoder = MobileNetV2Encoder(IMAGES)
    with pytest.raises(CheckpointError, match=r"no MobileNetV2 weights file at '.*absent\.pth'"):
        encoder.load_torchvision_weights(tmp_path / "absent.pth")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match=r"cannot read MobileNetV2 weights from"):
        encoder.load_torchvision_weights(corrupt)
    pickled = tmp_path / "code.pth"
    with open(pickled, "wb") as f:
        pickle.dump({"features.0.0.weight": Payload()}, f)
    with pytest.raises(CheckpointError, match=r"cannot read MobileNetV2 weights"):
        encoder.load_torchvision_weights(pickled)
    tensor_file = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor_file)
    with pytest.raises(CheckpointError, match=r"holds a Tensor, not a state dict"):
        encoder.load_torchvision_weights(tensor_file)
