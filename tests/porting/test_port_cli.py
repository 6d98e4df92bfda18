"""``rlmodules port``: the rewrite, ``--write``, and the report of what has no counterpart."""

from __future__ import annotations

import pytest
from rlmodules.cli import main

SOURCE = '''\
import gymnasium as gym
from ray.rllib.algorithms.ppo.torch.ppo_torch_rl_module import PPOTorchRLModule
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import (
    ValueFunctionAPI,
)
from ray.rllib.core.models.configs import MLPHeadConfig
from ray.rllib.utils.annotations import override
import ray.rllib.core.columns as columns
'''

PORTED = '''\
import gymnasium as gym
from rlmodules.plugins import PPOTorchRLModule
from rlmodules import Columns
from rlmodules.apis import (
    ValueFunctionAPI,
)
from rlmodules.models import MLPHeadConfig
from rlmodules.compat import override
import rlmodules as columns
'''


def test_port_prints_a_diff_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    assert main(["port", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\n-from ray.rllib.core.columns import Columns\n" in out
    assert "\n+from rlmodules import Columns\n" in out
    assert "\n+from rlmodules.apis import (\n" in out and "\n     ValueFunctionAPI,\n" in out
    assert path.read_text() == SOURCE


def test_port_write_rewrites_exactly_the_import_lines(tmp_path, capsys):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "mod.py").write_text(SOURCE)
    (package / "plain.py").write_text("import torch\n")
    assert main(["port", str(package), "--write"]) == 0
    assert (package / "sub" / "mod.py").read_text() == PORTED
    assert (package / "plain.py").read_text() == "import torch\n"
    assert capsys.readouterr().out.strip() == f"rewrote {package / 'sub' / 'mod.py'}"
    assert main(["port", str(package)]) == 0  # ported code has nothing left to port


def test_port_lists_every_name_without_a_counterpart_with_its_line(tmp_path, capsys):
    path = tmp_path / "mod.py"
    path.write_text(
        "from ray.rllib.core.columns import Columns\n"
        "from ray.rllib.policy.torch_policy_v2 import TorchPolicyV2\n"
        "from ray.rllib.core.models.configs import MLPHeadConfig, NoSuchConfig\n"
        "import ray\n"
    )
    assert main(["port", str(path), "--write"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}: line 2: module ray.rllib.policy.torch_policy_v2 has no rlmodules counterpart",
        f"{path}: line 3: NoSuchConfig (from ray.rllib.core.models.configs) has no "
        f"counterpart in rlmodules.models",
        f"{path}: line 4: module ray has no rlmodules counterpart",
        "3 import(s) without an rlmodules counterpart (see README: Porting from RLlib)",
    ]
    # What has a counterpart is rewritten all the same.
    assert path.read_text().splitlines()[0] == "from rlmodules import Columns"


@pytest.mark.parametrize("rllib, ours", [
    ("ray.rllib.core", "rlmodules"),
    ("ray.rllib.core.rl_module.torch.torch_rl_module", "rlmodules"),
    ("ray.rllib.core.rl_module.default_model_config", "rlmodules"),
    ("ray.rllib.core.rl_module.apis.value_function_api", "rlmodules.apis"),
    ("ray.rllib.core.models.torch.base", "rlmodules.models"),
    ("ray.rllib.core.distribution.torch.torch_distribution", "rlmodules.distributions"),
    ("ray.rllib.models.torch.torch_distributions", "rlmodules.distributions"),
    ("ray.rllib.algorithms.ppo.ppo_catalog", "rlmodules.plugins"),
    ("ray.rllib.algorithms.dqn.torch.default_dqn_torch_rl_module", "rlmodules.plugins"),
    ("ray.rllib.algorithms.ppo", "rlmodules.algorithms"),
    ("ray.rllib.algorithms.algorithm_config", "rlmodules.algorithms"),
    ("ray.rllib.utils.torch_utils", "rlmodules.compat"),
    ("ray.rllib.models.torch.misc", "rlmodules.compat"),
    ("ray.rllib.core.learner.utils", "rlmodules.compat"),
    ("ray.rllib.core.learner.torch.torch_learner", None),
    ("ray.rllib.env.multi_agent_env", None),
])
def test_the_porting_rule_maps_modules(rllib, ours):
    from rlmodules.cli.port import target_module

    assert target_module(rllib) == ours


def test_port_errors_name_the_bad_input(tmp_path, capsys):
    assert main(["port", str(tmp_path / "missing.py")]) == 1
    assert "cannot port" in capsys.readouterr().err
    broken = tmp_path / "broken.py"
    broken.write_text("from ray.rllib.core import (\n")
    assert main(["port", str(broken)]) == 1
    assert f"rlmodules port: error: cannot port {broken}: it is not valid Python" in (
        capsys.readouterr().err)
