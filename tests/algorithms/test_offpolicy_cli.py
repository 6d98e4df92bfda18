"""`rlmodules train --algo dqn|sac` with their presets; eval, record, inspect and --resume
on their runs."""

import json
import re
from pathlib import Path

from rlmodules.cli import main

FAST = ["--num-threads", "1", "--seed", "0"]


def test_dqn_run_trains_evaluates_records_inspects_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--algo", "dqn", "--timesteps", "2048", *FAST, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training dqn on CartPole-v1" in printed and "finished CartPole-v1" in printed
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["num_gradient_steps"] for r in rows] == [128, 512]  # the zoo preset
    assert json.loads((out / "run.json").read_text())["algo"] == "dqn"
    assert main(["eval", str(out), "--episodes", "2"]) == 0
    assert "CartPole-v1: return" in capsys.readouterr().out
    assert main(["record", str(out), "--episodes", "2", "--out", str(tmp_path / "eps")]) == 0
    assert "recorded 2 episodes" in capsys.readouterr().out
    module_dir = out / "checkpoint" / "learner_group" / "learner" / "rl_module"
    assert main(["inspect", str(module_dir)]) == 0
    assert "dqn" in capsys.readouterr().out
    assert main(["train", "--resume", str(out), "--timesteps", "3072", "--num-threads",
                 "1"]) == 0
    assert "resuming at iteration 2, 2,048 steps" in capsys.readouterr().out
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["num_env_steps_sampled_lifetime"] for r in rows] == [1024, 2048, 3072]
    # Without its saved buffer the resumed run would hold only the 1024 steps it sampled.
    assert rows[-1]["replay_buffer_size"] > 2048


def test_sac_run_on_pendulum_with_a_smaller_config(tmp_path, capsys):
    config = tmp_path / "sac.json"
    config.write_text(json.dumps({
        "training": {"min_sample_timesteps_per_iteration": 200, "train_batch_size": 32,
                     "training_intensity": 32},
        "rl_module": {"model_config": {"fcnet_hiddens": [32]}}}))
    out = tmp_path / "run"
    assert main(["train", "--algo", "sac", "--env", "Pendulum-v1", "--timesteps", "400",
                 "--config", str(config), *FAST, "--out", str(out)]) == 0
    assert "training sac on Pendulum-v1" in capsys.readouterr().out
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["num_gradient_steps"] for r in rows] == [101, 200]
    assert main(["eval", str(out), "--episodes", "1"]) == 0
    assert "Pendulum-v1: return" in capsys.readouterr().out


def test_resume_refuses_another_algorithm(tmp_path, capsys):
    assert main(["train", "--algo", "sac", "--resume", str(tmp_path)]) != 0
    assert "--resume continues the run's own algorithm; drop --algo" in capsys.readouterr().err


def test_readme_example_builds_both_algorithms():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Off-policy learning: DQN and SAC\n", 1)[1].split("\n## ", 1)[0]
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", section, re.S).group(1), namespace)
    assert namespace["dqn"].replay_buffer.capacity == 100_000
    assert namespace["sac"].learner.target_entropy < 0
    namespace["dqn"].stop()
    namespace["sac"].stop()
