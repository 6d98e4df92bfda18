"""Regressions of the training loop's bugs: threads, resumed budgets and speeds, the last
progress line, reused run directories, runs before the first episode, eval of a module
checkpoint, and the repository's ignored caches."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.reporting import ProgressLine
from rlmodules.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--num-threads", "1", "--seed", "0"]


def test_an_algorithm_acts_with_one_torch_thread_unless_told(two_torch_threads):
    algo = PPOConfig().environment("CartPole-v1").build()
    algo.stop()
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)
    algo = PPOConfig().environment("CartPole-v1").env_runners(num_threads=None).build()
    algo.stop()
    assert torch.get_num_threads() == 2  # None leaves torch's setting


def test_eval_acts_with_one_torch_thread(tmp_path, two_torch_threads, capsys):
    run = tmp_path / "run"
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(run)]) == 0
    torch.set_num_threads(2)
    assert main(["eval", str(run), "--episodes", "1"]) == 0
    assert torch.get_num_threads() == 1


def test_resuming_with_a_larger_budget_stretches_the_budget_schedules(tmp_path, capsys):
    # The CartPole preset decays lr over the run's budget; a resumed run with a larger
    # budget must not train on at a learning rate of 0 from the old budget's end.
    run = tmp_path / "run"
    assert main(["train", "--timesteps", "512", *FAST, "--out", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--timesteps", "1024", "--num-threads",
                 "1"]) == 0
    assert "they now end at 1,024" in capsys.readouterr().out
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    resumed = [r["learner/lr"] for r in rows if r["num_env_steps_sampled_lifetime"] > 512]
    assert resumed[0] == pytest.approx(1e-3 * (1 - 768 / 1024))  # not 0: decaying on
    assert resumed[-1] == 0.0  # to the new end


def test_steps_per_second_count_only_the_steps_since_the_restart(monkeypatch):
    clock = iter([100.0, 102.0])  # the line starts at t=100 s, formats at t=102 s
    monkeypatch.setattr("rlmodules.algorithms.reporting.time.perf_counter",
                        lambda: next(clock))
    line = ProgressLine(total_timesteps=3000, start_timesteps=1000, stream=io.StringIO())
    text = line.format({"training_iteration": 5, "num_env_steps_sampled_lifetime": 1200,
                        "episode_return_mean": 20.0})
    assert "100 steps/s" in text  # 200 steps in 2 s, not 1,200 lifetime steps in 2 s
    assert "ETA 00:18" in text    # 1,800 steps left at 100 steps/s


def test_the_last_progress_line_is_printed_once_off_a_terminal(tmp_path, capsys):
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("iter     1 ") for line in lines) == 1


def test_a_used_run_directory_is_refused_unless_overwritten_or_resumed(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--timesteps", "512", *FAST, "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(run)]) == 1
    assert f"--out {run} already holds an earlier run; pass --resume {run} to continue it, " \
           f"--overwrite to replace it" in capsys.readouterr().err
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(run), "--overwrite"]) == 0
    rows = (run / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 1
    assert len(list(run.glob("events.out.tfevents.*"))) <= 1  # the old run's events are gone
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(other),
                 "--overwrite"]) == 1
    assert "--overwrite refuses to delete" in capsys.readouterr().err
    assert (other / "todo.txt").read_text() == "mine"


def test_runs_without_out_are_numbered_per_env_and_algorithm(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["train", "--timesteps", "256", *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "CartPole-v1_ppo_1", "CartPole-v1_ppo_2"]


def test_the_main_job_writes_each_env_into_its_own_run(tmp_path):
    # The main job's script, with a no-op set-up and this environment's rlmodules.
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "main.sh", tmp_path / "scripts" / "main.sh")
    (tmp_path / "scripts" / "setup.sh").write_text("")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "rlmodules").symlink_to(Path(sys.executable).parent
                                                           / "rlmodules")
    for args in (["--timesteps", "256"], ["--env", "Pendulum-v1", "--timesteps", "256"]):
        done = subprocess.run(["bash", str(tmp_path / "scripts" / "main.sh"), *args],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "Pendulum-v1: return" in done.stdout
    runs = tmp_path / "runs"
    assert [p.name for p in runs.iterdir()] == ["main"]
    assert json.loads((runs / "main" / "run.json").read_text())["env"] == "Pendulum-v1"


def test_before_the_first_episode_the_return_is_below_every_threshold(capsys):
    # Pendulum's episodes last 200 steps: the first iterations of 64 steps finish none.
    algo = (PPOConfig().environment("Pendulum-v1")
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1)
            .reporting(progress=True).build())
    iterations = 0
    while algo.train()["episode_return_mean"] < 475:  # the README's loop keeps training
        iterations += 1
        if iterations == 2:
            break
    algo.stop()
    assert iterations == 2
    printed = capsys.readouterr().out
    assert "return       --" in printed and "nan" not in printed


def test_eval_takes_a_module_checkpoint_as_record_does(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(run)]) == 0
    module = run / "checkpoint" / "learner_group" / "learner" / "rl_module"
    capsys.readouterr()
    assert main(["eval", str(module), "--env", "CartPole-v1", "--episodes", "2"]) == 0
    assert "CartPole-v1: return" in capsys.readouterr().out
    assert main(["eval", str(module), "--episodes", "2"]) == 1
    assert "--env is needed" in capsys.readouterr().err
    assert main(["record", str(module), "--env", "CartPole-v1", "--episodes", "1",
                 "--out", str(tmp_path / "eps")]) == 0


def test_the_tool_caches_are_not_left_untracked(tmp_path):
    # The caches the test command writes, as an interrupted run leaves them: without the
    # .gitignore a tool writes into its own cache. The project's .gitignore covers them.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    for cache in (".mypy_cache/3.10", ".ruff_cache/0.5", ".pytest_cache/v",
                  ".import_linter_cache"):
        (tmp_path / cache).mkdir(parents=True)
        (tmp_path / cache / "data.json").write_text("{}")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    assert status.stdout.splitlines() == ["?? .gitignore"]
