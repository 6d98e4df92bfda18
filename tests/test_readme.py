"""The README's quick start and module example run as written, and the quickstart script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_block(section: str) -> str:
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", body, re.S).group(1)


def test_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_python_block("Quick start"), "README quick start", "exec"), namespace)
    assert (tmp_path / "ppo-cartpole" / "rlmodule.json").is_file()
    assert type(namespace["same_module"]) is type(namespace["module"])


def test_writing_a_module_example_builds_and_acts():
    import gymnasium as gym
    import torch
    from rlmodules import compute_actions

    namespace: dict = {}
    exec(compile(_python_block("Writing a module"), "README module example", "exec"), namespace)
    module = namespace["MyPolicy"](
        observation_space=gym.spaces.Box(-1, 1, (4,)),
        action_space=gym.spaces.Discrete(2),
        model_config={"fcnet_hiddens": [16]},
    )
    out = compute_actions(module, {"obs": torch.zeros(3, 4)}, explore=True)
    assert out["actions"].shape == (3,)


def test_quickstart_script_runs():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "identical outputs: True" in result.stdout
