"""`rlmodules train --device / --precision / --compile / --env-backend`, on a resumed run
too, `rlmodules eval` of a run trained with them, and the progress line's compile time."""

from __future__ import annotations

import io
import json

import pytest
import torch
from rlmodules.algorithms.reporting import ProgressLine
from rlmodules.cli import main

FAST = ["--timesteps", "256", "--seed", "0"]
SMALL = ('[training]\ntrain_batch_size = 128\nminibatch_size = 128\nnum_epochs = 1\n'
         '[rl_module.model_config]\nfcnet_hiddens = [16]\n')


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return str(path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys, small):
    assert main(["train", *FAST, "--config", small, "--device", "cuda",
                 "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "num_gpus_per_learner=1 asks for a GPU, but CUDA is not available here" in err
    assert "`rlmodules train --device cpu` / `--device auto`" in err


def test_device_auto_and_the_precision_flag_go_into_the_saved_config(tmp_path, capsys, small):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--config", small, "--device", "auto", "--precision", "auto",
                 "--out", str(run)]) == 0
    state = json.loads((run / "checkpoint" / "algorithm_state.json").read_text())
    learners = state["config"]["learners"]
    assert learners["precision"] == "auto"
    assert learners["num_gpus_per_learner"] == (1 if torch.cuda.is_available() else 0)
    # A resumed run may change them; eval runs on the CPU in fp32 whatever the run used.
    assert main(["train", "--resume", str(run), "--timesteps", "384", "--precision",
                 "32-true"]) == 0
    state = json.loads((run / "checkpoint" / "algorithm_state.json").read_text())
    assert state["config"]["learners"]["precision"] == "32-true"
    assert main(["eval", str(run), "--episodes", "2"]) == 0
    assert "CartPole-v1: return" in capsys.readouterr().out


def test_float16_on_the_cpu_is_a_clear_error(tmp_path, capsys, small):
    assert main(["train", *FAST, "--config", small, "--precision", "16-mixed",
                 "--out", str(tmp_path / "run")]) == 1
    assert "precision='16-mixed' (float16 with a gradient scaler) needs a GPU" in \
        capsys.readouterr().err


def test_envpool_backend_for_an_env_it_lacks_names_the_gymnasium_path(tmp_path, capsys,
                                                                         small):
    pytest.importorskip("envpool")
    assert main(["train", *FAST, "--config", small, "--env-backend", "envpool",
                 "--out", str(tmp_path / "run")]) == 1
    assert "EnvPool has no 'CartPole-v1'; use env_backend='gymnasium'" in \
        capsys.readouterr().err


def test_the_progress_line_reports_the_compile_time_once():
    stream = io.StringIO()
    progress = ProgressLine(total_timesteps=100, stream=stream, every_s=0.0)
    result = {"training_iteration": 1, "num_env_steps_sampled_lifetime": 10,
              "episode_return_mean": 1.0, "time_compile_s": 12.34}
    progress.update(result)
    progress.update(dict(result, training_iteration=2, time_compile_s=13.0))
    lines = stream.getvalue().splitlines()
    assert [line for line in lines if "compiled" in line] == [
        "compiled in 12.3 s (torch.compile)"]
