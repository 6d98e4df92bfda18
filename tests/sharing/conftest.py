"""Trained runs and their packages, made once per test session (tiny runs: seconds each)."""

from __future__ import annotations

import json
import socket

import pytest
from rlmodules import registry
from rlmodules.cli import main

TRAIN = ["--timesteps", "512", "--num-threads", "1", "--seed", "0"]
#: The recurrent example, shrunk: a memory module on CartPole without velocities.
LSTM_CONFIG = {
    "environment": {"env": "rlmodules.envs:StatelessCartPole"},
    "env_runners": {"num_envs_per_env_runner": 2},
    "training": {"train_batch_size": 128, "minibatch_size": 64, "num_epochs": 1},
    "rl_module": {"module_class": "lstm",
                  "model_config": {"lstm_cell_size": 8, "dense_layers": [8],
                                   "max_seq_len": 8}},
}


def _run(args):
    assert main(args) == 0, args


@pytest.fixture(scope="session")
def cartpole_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cartpole") / "run"
    _run(["train", *TRAIN, "--out", str(run)])
    return run


@pytest.fixture(scope="session")
def cartpole_package(cartpole_run):
    """The run packaged with the ONNX export and a GIF of the first of 3 episodes."""
    out = cartpole_run.parent / "package"
    _run(["package", str(cartpole_run), "--out", str(out), "--episodes", "3", "--seed", "7",
          "--video", "--repo-id", "org/ppo-cartpole"])
    return out


@pytest.fixture(scope="session")
def lstm_package(tmp_path_factory):
    """A recurrent (rlmodules-lstm) run packaged with an MP4 replay, without the export."""
    if "lstm" not in [record.name for record in registry.list("module")]:
        pytest.skip("rlmodules-lstm is not installed")
    root = tmp_path_factory.mktemp("lstm")
    config = root / "lstm.json"
    config.write_text(json.dumps(LSTM_CONFIG))
    _run(["train", "--timesteps", "256", "--num-threads", "1", "--seed", "0",
          "--config", str(config), "--out", str(root / "run")])
    _run(["package", str(root / "run"), "--out", str(root / "package"), "--episodes", "2",
          "--seed", "3", "--video", "mp4", "--no-export"])
    return root / "package"


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty Hugging Face cache with the Hub offline (``HF_HUB_OFFLINE=1``), and every
    connection that is not to this machine refused: nothing may reach a network."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    for name, value in (("HF_HUB_CACHE", str(cache)), ("HF_HUB_OFFLINE", True)):
        monkeypatch.setattr(huggingface_hub.constants, name, value)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    connect = socket.socket.connect

    def local_only(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") \
                and sock.family != socket.AF_UNIX:
            raise OSError(f"the network is off in this test (connect to {address!r})")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    return cache
