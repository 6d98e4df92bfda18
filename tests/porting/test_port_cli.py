"""``rlmodules port``: the rewrite, ``--write``, and the report of what has no counterpart."""

from __future__ import annotations

import os

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
        "from ray.rllib.policy.sample_batch import SampleBatch\n"
        "from ray.rllib.core.models.configs import MLPHeadConfig, NoSuchConfig\n"
        "import ray\n"
    )
    assert main(["port", str(path), "--write"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}: line 2: module ray.rllib.policy.sample_batch has no rlmodules counterpart",
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


# --- `--write` never loses a user's source -----------------------------------------------------
LINE = "from ray.rllib.core.columns import Columns"


def test_port_write_keeps_crlf_line_endings_and_form_feeds(tmp_path):
    path = tmp_path / "mod.py"
    path.write_bytes(b"import os\r\n\x0c\r\n" + LINE.encode() + b"\r\nx = 1\r\n")
    assert main(["port", str(path), "--write"]) == 0
    assert path.read_bytes() == b"import os\r\n\x0c\r\nfrom rlmodules import Columns\r\nx = 1\r\n"


def test_port_write_keeps_the_declared_encoding_and_a_bom(tmp_path):
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + LINE.encode() + b"\n")
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + LINE.encode() + b"\nname = '\xc3\xa9'\n")
    assert main(["port", str(latin), str(bom), "--write"]) == 0
    assert latin.read_bytes() == (b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n"
                                  b"from rlmodules import Columns\n")
    assert bom.read_bytes() == b"\xef\xbb\xbffrom rlmodules import Columns\nname = '\xc3\xa9'\n"


def test_port_refuses_undeclared_non_utf8_input_in_one_line_before_writing(tmp_path, capsys):
    good = tmp_path / "a.py"
    good.write_text(LINE + "\n")
    bad = tmp_path / "b.py"
    bad.write_bytes(LINE.encode() + b"\nname = '\xe9'\n")
    assert main(["port", str(tmp_path), "--write"]) == 1
    err = capsys.readouterr().err
    assert err == (f"rlmodules port: error: cannot port {bad}: byte 0xe9 at offset 51 is not "
                   f"UTF-8, and the file declares no other encoding; save it as UTF-8 or declare "
                   f"its encoding in a PEP 263 coding line such as '# -*- coding: latin-1 -*-'\n")
    assert good.read_text() == LINE + "\n"  # nothing is written when any file cannot be read
    unknown = tmp_path / "c.py"
    unknown.write_bytes(b"# coding: klingon\n" + LINE.encode() + b"\n")
    assert main(["port", str(unknown)]) == 1
    assert (f"rlmodules port: error: cannot port {unknown}: its coding line names an unknown "
            f"encoding") in capsys.readouterr().err
    wrong = tmp_path / "d.py"
    wrong.write_bytes(b"# coding: ascii\nname = '\xe9'\n")
    assert main(["port", str(wrong)]) == 1
    assert capsys.readouterr().err == (
        f"rlmodules port: error: cannot port {wrong}: byte 0xe9 at offset 24 is not ascii, the "
        f"encoding its coding line declares; fix the coding line\n")


def test_port_write_keeps_the_file_mode(tmp_path):
    path = tmp_path / "script.py"
    path.write_text("#!/usr/bin/env python\n" + LINE + "\n")
    path.chmod(0o751)
    assert main(["port", str(path), "--write"]) == 0
    assert path.stat().st_mode & 0o7777 == 0o751
    assert "from rlmodules import Columns" in path.read_text()


def test_port_write_follows_a_symlink_to_its_target_and_keeps_the_link(tmp_path, capsys):
    (tmp_path / "pkg").mkdir()
    target = tmp_path / "pkg" / "real.py"
    target.write_text(LINE + "\n")
    link = tmp_path / "pkg" / "alias.py"
    link.symlink_to("real.py")
    assert main(["port", str(tmp_path / "pkg"), "--write"]) == 0
    assert link.is_symlink() and os.readlink(link) == "real.py"
    assert target.read_text() == "from rlmodules import Columns\n"
    # the target is ported once, though two paths lead to it
    assert capsys.readouterr().out == f"rewrote {link} (-> {target})\n"


def test_port_refuses_a_link_out_of_the_directory_it_ports(tmp_path, capsys):
    outside = tmp_path / "elsewhere.py"
    outside.write_text(LINE + "\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "alias.py").symlink_to(outside)
    assert main(["port", str(tmp_path / "pkg"), "--write"]) == 1
    assert capsys.readouterr().err == (
        f"rlmodules port: error: cannot port {tmp_path / 'pkg' / 'alias.py'}: it is a symlink "
        f"to {outside}, outside {tmp_path / 'pkg'}; port {outside} itself if you mean to "
        f"change it\n")
    assert outside.read_text() == LINE + "\n"
    # named on the command line, the link is followed: the user asked for that file
    assert main(["port", str(tmp_path / "pkg" / "alias.py"), "--write"]) == 0
    assert outside.read_text() == "from rlmodules import Columns\n"


def test_port_write_refuses_a_file_that_changed_while_it_ran(tmp_path, capsys, monkeypatch):
    import rlmodules.cli.port as port

    path = tmp_path / "mod.py"
    path.write_text(LINE + "\n")
    other = tmp_path / "other.py"
    other.write_text(LINE + "\n")
    real_port = port.port_source

    def port_and_edit(text, filename="<source>"):
        if filename == str(path):  # the user saves the file while the port runs
            path.write_text(LINE + "\nedited = True\n")
        return real_port(text, filename)

    monkeypatch.setattr(port, "port_source", port_and_edit)
    assert main(["port", str(path), str(other), "--write"]) == 1
    out = capsys.readouterr()
    assert out.err == (f"rlmodules port: error: not rewriting {path}: it changed while it was "
                       f"being ported; it is left as it is now; run `rlmodules port` again\n")
    assert path.read_text() == LINE + "\nedited = True\n"
    assert other.read_text() == "from rlmodules import Columns\n"  # the others are ported
    assert out.out == f"rewrote {other}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mod.py", "other.py"]  # no temp file
