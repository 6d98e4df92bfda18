"""Evaluation during training: when it runs, where its results go, best/, --stop-on eval,
behaviour cloning from the command line, eval --explore."""

import json

import pytest
from rlmodules.algorithms import PPOConfig
from rlmodules.cli import main
from rlmodules.errors import ConfigError

FAST = ["--num-threads", "1", "--seed", "0"]


def test_evaluations_run_each_time_the_steps_pass_a_multiple_of_the_interval():
    algo = (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=192, minibatch_size=192, num_epochs=1)
            .evaluation(evaluation_interval_timesteps=400, evaluation_duration=2).build())
    evaluated = ["evaluation" in algo.train() for _ in range(5)]  # at 192, 384, ... 960 steps
    algo.stop()
    assert evaluated == [False, False, True, False, True]  # past 400 at 576, past 800 at 960


def test_both_intervals_at_once_are_refused():
    with pytest.raises(ConfigError, match=r"evaluation_interval=2 \(iterations\) and "
                                          r"evaluation_interval_timesteps=100 \(env steps\) are "
                                          r"both set; set one"):
        PPOConfig().environment("CartPole-v1").evaluation(
            evaluation_interval=2, evaluation_interval_timesteps=100).build()
    with pytest.raises(ConfigError, match="evaluation_explore must be True"):
        PPOConfig().environment("CartPole-v1").evaluation(evaluation_explore="yes").validate()


def test_a_run_that_evaluates_keeps_its_best_and_stops_on_the_evaluation(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--timesteps", "2048", *FAST, "--eval-freq", "512",
                 "--eval-episodes", "2", "--stop-return", "1", "--out", str(run)]) == 0
    printed = capsys.readouterr().out
    assert "stop at eval return 1.0" in printed
    assert "solved CartPole-v1: evaluation return" in printed  # any greedy return is >= 1
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and "evaluation" in rows[-1]  # 512 steps: the first evaluation
    assert "evaluation/episode_return_mean" in (run / "metrics.csv").read_text()
    saved = json.loads((run / "run.json").read_text())
    assert saved["stop_on"] == "eval"
    assert saved["best_evaluation"]["episode_return_mean"] == \
        rows[-1]["evaluation"]["episode_return_mean"]
    assert "best evaluation: return" in printed and str(run / "best") in printed
    assert main(["eval", str(run / "best"), "--episodes", "2", "--explore"]) == 0
    assert "over 2 exploring episodes" in capsys.readouterr().out
    # Resumed to a budget whose last iteration does not evaluate: its training return shows.
    assert main(["train", "--resume", str(run), "--timesteps", "768"]) == 0
    printed = capsys.readouterr().out
    assert "finished CartPole-v1: mean return" in printed, printed
    assert "best evaluation: return" in printed


def test_stop_on_eval_needs_evaluations_and_bc_needs_its_episodes(tmp_path, capsys):
    assert main(["train", "--timesteps", "256", *FAST, "--stop-on", "eval",
                 "--out", str(tmp_path / "a")]) == 1
    assert "--stop-on eval needs evaluation during training: pass --eval-freq STEPS" in \
        capsys.readouterr().err
    assert main(["train", "--algo", "bc", *FAST, "--out", str(tmp_path / "b")]) == 1
    assert "--algo bc clones recorded episodes: pass --input DIR" in capsys.readouterr().err
    assert main(["train", "--input", str(tmp_path), *FAST, "--out", str(tmp_path / "c")]) == 1
    assert "--input names recorded episodes for --algo bc; --algo ppo samples its own" in \
        capsys.readouterr().err
    assert not (tmp_path / "a").exists()  # refused before anything was written


def test_behaviour_cloning_from_the_command_line(tmp_path, capsys):
    expert = tmp_path / "expert"
    assert main(["train", "--timesteps", "256", *FAST, "--out", str(expert)]) == 0
    assert main(["record", str(expert), "--episodes", "4", "--out",
                 str(tmp_path / "episodes")]) == 0
    run = tmp_path / "bc"
    assert main(["train", "--algo", "bc", "--input", str(tmp_path / "episodes"), *FAST,
                 "--timesteps", "4096", "--eval-episodes", "2", "--set",
                 "training.train_batch_size=512", "--out", str(run)]) == 0
    printed = capsys.readouterr().out
    assert "training bc on CartPole-v1" in printed and "stop at eval return 475.0" in printed
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and rows[-1]["num_offline_steps_trained_lifetime"] == 4096
    assert [("evaluation" in r) for r in rows] == [False] * 4 + [True] + [False] * 3
    assert (run / "best").is_dir()
