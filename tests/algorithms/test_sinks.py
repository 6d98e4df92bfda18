"""Where results go: metrics.csv with every number, and the optional trackers (W&B offline,
MLflow on a local file store)."""

import csv
import sys

import pytest
from rlmodules.algorithms.sinks import MetricsWriter
from rlmodules.errors import ConfigError

FIRST = {"training_iteration": 1, "num_env_steps_sampled_lifetime": 100,
         "episode_return_mean": float("-inf"), "default_policy/vf_loss": 0.5}
SECOND = {"training_iteration": 2, "num_env_steps_sampled_lifetime": 200,
          "episode_return_mean": 12.0, "default_policy/vf_loss": 0.25,
          "evaluation": {"episode_return_mean": 20.0, "num_episodes": 3}, "custom/x": 7}


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_csv_gets_a_column_for_every_number_any_result_had(tmp_path):
    writer = MetricsWriter(tmp_path, loggers=())
    writer.write(FIRST)
    writer.write(SECOND)
    writer.close()
    rows = _rows(tmp_path / "metrics.csv")
    assert list(rows[0])[:3] == ["training_iteration", "num_env_steps_sampled_lifetime",
                                 "episode_return_mean"]
    assert rows[0]["episode_return_mean"] == ""  # no episode yet: an empty cell
    assert rows[0]["evaluation/episode_return_mean"] == ""  # a column that came later
    assert rows[1]["evaluation/episode_return_mean"] == "20.0"
    assert rows[1]["custom/x"] == "7" and rows[1]["default_policy/vf_loss"] == "0.25"
    assert not list(tmp_path.glob("*.tmp"))
    resumed = MetricsWriter(tmp_path, resume=True, loggers=())
    resumed.write({**SECOND, "training_iteration": 3, "new": 1.5})
    resumed.close()
    rows = _rows(tmp_path / "metrics.csv")
    assert [r["training_iteration"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["new"] == "1.5" and rows[0]["new"] == ""


def test_an_unknown_logger_or_a_missing_tracker_package_is_a_clear_error(tmp_path,
                                                                         monkeypatch):
    with pytest.raises(ConfigError, match="unknown logger 'neptune'; loggers are "
                                          "tensorboard, wandb, mlflow"):
        MetricsWriter(tmp_path, loggers=["neptune"])
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ConfigError, match=r"--logger wandb needs the wandb package; install "
                                          r"it with `pip install \"rlmodules\[wandb\]\"`"):
        MetricsWriter(tmp_path, loggers=["wandb"])


def test_results_reach_weights_and_biases_offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    ids = {}
    writer = MetricsWriter(tmp_path, loggers=["wandb"], run_config={"training": {"lr": 0.1}},
                           tracking_ids=ids)
    writer.write(FIRST)
    writer.write(SECOND)
    run = writer.sinks[0].run
    assert run.summary["default_policy/vf_loss"] == 0.5  # the first step, committed
    assert run.config["training"] == {"lr": 0.1}
    writer.close()
    assert ids["wandb"] == run.id
    assert list(tmp_path.glob(f"wandb/offline-run-*-{run.id}/run-{run.id}.wandb"))


def test_results_reach_mlflow_on_a_local_store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    ids = {}
    writer = MetricsWriter(tmp_path, loggers=["mlflow"], run_name="cartpole",
                           run_config={"training": {"lr": 0.1}}, tracking_ids=ids)
    writer.write(FIRST)
    writer.write(SECOND)
    writer.close()
    client = MlflowClient()
    history = client.get_metric_history(ids["mlflow"], "evaluation/episode_return_mean")
    assert [(m.step, m.value) for m in history] == [(200, 20.0)]
    run = client.get_run(ids["mlflow"])
    assert run.data.params == {"training.lr": "0.1"} and run.info.run_name == "cartpole"
    assert run.info.status == "FINISHED"
    # A resumed run logs on in the same MLflow run.
    resumed = MetricsWriter(tmp_path, resume=True, loggers=["mlflow"], tracking_ids=ids)
    resumed.write({**SECOND, "num_env_steps_sampled_lifetime": 300})
    resumed.close()
    history = client.get_metric_history(ids["mlflow"], "episode_return_mean")
    assert [m.step for m in history] == [200, 300]  # -inf at 100 was not logged
