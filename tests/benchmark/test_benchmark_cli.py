"""`rlmodules benchmark` end to end on a tiny suite: runs in their own processes, the report
and its plots, resuming, --compare sb3, failures and bad arguments."""

import importlib.util
import json

import pytest
from rlmodules.cli import main

TINY = """
[suite]
description = "Two tiny tasks."
eval_episodes = 2

[[task]]
preset = "dqn/CartPole-v1"
timesteps = 512
eval_interval = 256
[task.settings.training]
min_sample_timesteps_per_iteration = 256
num_steps_sampled_before_learning_starts = 256
[task.settings.rl_module.model_config]
fcnet_hiddens = [16]

[[task]]
preset = "dqn-dueling/CartPole-v1"
timesteps = 256
[task.settings]
training = { min_sample_timesteps_per_iteration = 256 }
rl_module = { model_config = { fcnet_hiddens = [16] } }
"""


def test_a_suite_runs_reports_and_resumes(tmp_path, capsys):
    suite = tmp_path / "tiny.toml"
    suite.write_text(TINY)
    out = tmp_path / "out"
    args = ["benchmark", str(suite), "--seeds", "0", "--jobs", "2", "--out", str(out),
            "--compare", "sb3"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "tiny: 2 tasks x 2 libraries x 1 seeds" in printed and "3 to run" in printed
    assert "dqn/CartPole-v1 sb3 seed 0: return" in printed
    report = (out / "report.md").read_text()
    assert report.startswith("# Benchmark: tiny\n\nTwo tiny tasks.\n")
    assert f"Made by `rlmodules benchmark {suite} --seeds 0 --jobs 2 --out {out} " \
           f"--compare sb3`" in report
    rows = [line for line in report.splitlines() if line.startswith("| dqn")]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| dqn/CartPole-v1", "rlmodules"], ["| dqn/CartPole-v1", "sb3"],
        ["| dqn-dueling/CartPole-v1", "rlmodules"], ["| dqn-dueling/CartPole-v1", "sb3"]]
    assert "| 512 |" in rows[0] and "500.0 ± 0.0 @ 50k | 475 | below | 0/1 |" in rows[0]
    assert "SB3's DQN is plain DQN, without Double-Q" in rows[3]
    assert (out / "dqn_CartPole-v1.png").is_file() and "![dqn/CartPole-v1]" in report
    run = out / "runs" / "dqn_CartPole-v1" / "rlmodules" / "seed0"
    result = json.loads((run / "result.json").read_text())
    assert result["timesteps"] == 512 and result["episodes"] == 2
    assert [json.loads(line)["at"] for line in (run / "evals.jsonl").read_text().splitlines()] \
        == [256]
    assert (run / "module" / "rlmodule.json").is_file()
    # Again: nothing to run, the same report; one more seed of one task runs only that.
    assert main(args) == 0
    assert "(3 runs already done, 0 to run" in capsys.readouterr().out
    assert (out / "report.md").read_text() == report
    more = ["benchmark", str(suite), "--seeds", "0", "1", "--out", str(out), "--tasks",
            "dqn-dueling/CartPole-v1"]
    assert main([*more, "--report-only"]) == 0  # what is there so far; runs nothing
    assert "(1 runs already done, 1 to run, 1 at a time)" in capsys.readouterr().out
    assert not (out / "runs" / "dqn-dueling_CartPole-v1" / "rlmodules" / "seed1").exists()
    assert main(more) == 0
    assert "(1 runs already done, 1 to run, 1 at a time)" in capsys.readouterr().out
    (row,) = [line for line in (out / "report.md").read_text().splitlines()
              if line.startswith("| dqn-dueling/CartPole-v1 | rlmodules")]
    assert row.split(" | ")[3].count(", ") == 1  # both seeds' returns


def test_a_failing_run_is_reported_and_the_others_still_count(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text('[[task]]\npreset = "dqn/CartPole-v1"\ntimesteps = 256\n'
                     'settings = { rl_module = { module_class = "ppo" } }\n')
    out = tmp_path / "out"
    assert main(["benchmark", str(suite), "--seeds", "0", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    log = out / "runs" / "dqn_CartPole-v1" / "rlmodules" / "seed0" / "log.txt"
    assert "failed with exit code 1" in captured.out and str(log) in captured.err
    assert "cannot be trained with DQN" in log.read_text()
    assert "| dqn/CartPole-v1 | rlmodules | — | no finished run |" in \
        (out / "report.md").read_text()


def test_compare_sb3_names_the_extra_when_sb3_is_missing(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "stable_baselines3" else real(name, *a))
    assert main(["benchmark", "reference", "--compare", "sb3", "--out", str(tmp_path)]) == 1
    assert ("--compare sb3 needs Stable-Baselines3, which is not installed: pip install "
            "'rlmodules[benchmark]'") in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "--jobs must be a positive integer, got 0"),
    (["--seeds", "1", "1"], r"--seeds must be distinct integers >= 0, got \[1, 1\]"),
    (["--tasks", "dqn/Pong"], "--tasks dqn/Pong: not in suite .*reference.toml; its tasks "
                              "are ppo/CartPole-v1, ppo/Acrobot-v1"),
])
def test_bad_arguments_are_named(tmp_path, capsys, args, message):
    import re

    assert main(["benchmark", "reference", "--out", str(tmp_path), *args]) == 1
    assert re.search(message, capsys.readouterr().err)


def test_a_bad_setting_in_a_suite_is_named_before_anything_runs(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text('[[task]]\npreset = "dqn/CartPole-v1"\n'
                     'settings = { training = { learning_rate = 1e-3 } }\n')
    assert main(["benchmark", str(suite), "--out", str(tmp_path / "out")]) == 1
    assert "task dqn/CartPole-v1: training() got an unknown setting 'learning_rate'" in \
        capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, text, message", [
    ("result.json", '{"return_mean": "high"}', "result.json is malformed"),
    ("result.json", "{", "result.json is not valid JSON"),
    ("result.json", '{"return_mean": NaN}', "NaN"),
])
def test_a_damaged_run_file_is_named_and_nothing_is_rerun(tmp_path, capsys, name, text,
                                                          message):
    suite = tmp_path / "tiny.toml"
    suite.write_text(TINY)
    run = tmp_path / "out" / "runs" / "dqn_CartPole-v1" / "rlmodules" / "seed0"
    run.mkdir(parents=True)
    result = {"return_mean": 9.0, "return_std": 0.0, "episodes": 2, "timesteps": 512,
              "train_time_s": 1.0, "env_steps_per_s": 512.0, "spec_digest": "0" * 64,
              "library": "rlmodules", "seed": 0}
    (run / "result.json").write_text(json.dumps(result))
    (run / name).write_text(text)
    args = ["benchmark", str(suite), "--seeds", "0", "--out", str(tmp_path / "out"),
            "--tasks", "dqn/CartPole-v1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and str(run) in err, err
    assert (run / name).read_text() == text


def test_a_damaged_evaluation_line_is_named(tmp_path):
    from rlmodules.cli.benchmark_files import read_curve
    from rlmodules.errors import ConfigError

    good = '{"at": 256, "timesteps": 256, "return_mean": 9.5, "return_std": 0.5}'
    (tmp_path / "evals.jsonl").write_text(good + "\n\n" + good.replace("0.5", "-1") + "\n")
    with pytest.raises(ConfigError, match=r"evals.jsonl line 3 .*return_std.*>= 0"):
        read_curve(tmp_path)
    (tmp_path / "evals.jsonl").write_text(good + "\n")
    assert read_curve(tmp_path) == [{"at": 256, "timesteps": 256, "return_mean": 9.5,
                                     "return_std": 0.5}]
