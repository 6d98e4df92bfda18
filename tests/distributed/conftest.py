"""One local Ray cluster for the whole session, only ever on the loopback interface.

These tests run through ``scripts/private_network.sh`` (``scripts/test.sh`` does that): in a
network namespace whose only interface is ``lo``, Ray and gloo bind 127.0.0.1. Outside
one, Ray would bind the machine's external address, so the fixture refuses to start.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # ray_test_envs, for the tests (the workers get PYTHONPATH)


def _interfaces_up() -> list[str]:
    up = []
    for _, name in socket.if_nameindex():
        flags = Path(f"/sys/class/net/{name}/flags")
        if flags.exists() and int(flags.read_text(), 16) & 0x1:  # IFF_UP
            up.append(name)
    return up


def _require_private_network() -> None:
    up = _interfaces_up()
    if up != ["lo"]:
        pytest.fail(
            f"the Ray tests must run in a private network namespace with only the loopback "
            f"interface up (network interfaces up here: {up}); run them through "
            f"scripts/private_network.sh, as scripts/test.sh does",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A 2-CPU local Ray instance: no dashboard, no usage stats, temp and token files in
    this session's temporary directory; the helper envs importable on its workers."""
    _require_private_network()
    root = tmp_path_factory.mktemp("ray")
    token = root / "auth_token"
    token.write_text(secrets.token_hex(32))
    # Workers inherit the driver's environment.
    os.environ.update({
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    })
    ray = pytest.importorskip("ray")  # after the settings above: Ray reads them on import
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(root / "t"),
             log_to_driver=False, address="local")
    yield ray
    ray.shutdown()
