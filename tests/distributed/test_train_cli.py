"""`rlmodules train` with env runners, and a resume that changes their count."""

from __future__ import annotations

import json

import pytest
from rlmodules.cli import main

pytestmark = pytest.mark.usefixtures("ray_cluster")

FAST = ["--timesteps", "512", "--num-threads", "1", "--seed", "0"]


def test_train_with_runners_then_resume_in_process(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--num-env-runners", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "steps/s  runners 2  ETA" in printed
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["num_env_runners_alive"] == 2
    assert rows[-1]["num_env_steps_sampled_lifetime"] == 512

    assert main(["train", "--resume", str(out), "--timesteps", "1024",
                 "--num-env-runners", "0"]) == 0
    printed = capsys.readouterr().out
    assert "resuming at iteration 2, 512 steps" in printed and "steps/s  runners" not in printed
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["num_env_steps_sampled_lifetime"] == 1024
    assert "num_env_runners_alive" not in rows[-1]
