"""TensorBoard event files next to metrics.jsonl, with the same scalars."""

from __future__ import annotations

import json
import sys

import pytest
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.reporting import MetricsWriter
from rlmodules.algorithms.tensorboard import TensorBoardWriter, scalars

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_training_run_writes_the_jsonl_metrics_as_tensorboard_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    algo = (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=256, minibatch_size=128, num_epochs=1)
            .evaluation(evaluation_interval=2, evaluation_duration=2).debugging(seed=0).build())
    writer = MetricsWriter(tmp_path)
    try:
        for _ in range(2):
            writer.write(algo.train())
    finally:
        writer.close()
        algo.stop()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    expected = dict(scalars(rows[-1]))
    assert "evaluation/episode_return_mean" in expected and "default_policy/policy_loss" in expected
    assert set(expected) <= set(events.Tags()["scalars"])
    for tag, value in expected.items():
        last = events.Scalars(tag)[-1]
        assert last.step == rows[-1]["num_env_steps_sampled_lifetime"]
        assert last.value == pytest.approx(value, rel=1e-6)


def test_nested_and_nan_metrics_are_flattened_or_skipped():
    result = {"a": 1, "b": float("nan"), "flag": True, "m": {"p0": 2.5}, "text": "x"}
    assert dict(scalars(result)) == {"a": 1.0, "m/p0": 2.5}


def test_without_tensorboard_the_metrics_files_are_still_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard fails
    assert TensorBoardWriter.open(tmp_path) is None
    writer = MetricsWriter(tmp_path)
    writer.write({"training_iteration": 1, "num_env_steps_sampled_lifetime": 10})
    writer.close()
    assert (tmp_path / "metrics.jsonl").read_text().strip()
    assert not list(tmp_path.glob("events.out.tfevents.*"))
