"""`rlmodules train` / `rlmodules eval` through the command line entry point."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from rlmodules.checkpoint import write_json_file
from rlmodules.cli import main

FAST = ["--timesteps", "512", "--num-threads", "1", "--seed", "0"]


def test_train_writes_metrics_checkpoint_and_eval_reads_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training ppo on CartPole-v1" in printed and "steps/s" in printed
    assert "finished CartPole-v1: mean return" in printed
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["training_iteration"] for r in rows] == [1, 2]
    assert rows[-1]["num_env_steps_sampled_lifetime"] == 512
    csv_lines = (out / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("training_iteration,num_env_steps_sampled_lifetime")
    assert len(csv_lines) == 3
    assert (out / "checkpoint" / "algorithm_state.json").is_file()
    png = (out / "learning_curve.png").exists()
    assert png or "matplotlib is not installed" in printed
    # A fresh run into the same directory starts its metrics anew (only --resume appends).
    assert main(["train", *FAST, "--out", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["training_iteration"] for r in rows] == [1, 2]
    assert len((out / "metrics.csv").read_text().splitlines()) == 3
    capsys.readouterr()

    assert main(["eval", str(out), "--episodes", "3"]) == 0
    assert "CartPole-v1: return" in capsys.readouterr().out
    # `record` takes the same run directory, for behaviour cloning.
    assert main(["record", str(out), "--env", "CartPole-v1", "--episodes", "2",
                 "--out", str(tmp_path / "episodes")]) == 0
    assert "recorded 2 episodes" in capsys.readouterr().out
    with pytest.warns(DeprecationWarning, match="out of date"):
        assert main(["eval", str(out / "checkpoint"), "--episodes", "2",
                     "--env", "CartPole-v0"]) == 0
    assert "CartPole-v0: return" in capsys.readouterr().out
    # The CartPole preset steps gymnasium's vectorised CartPole; an env given as a class
    # has no such implementation, and eval on it steps separate copies instead.
    cartpole_class = "gymnasium.envs.classic_control.cartpole:CartPoleEnv"
    assert main(["eval", str(out), "--episodes", "2", "--env", cartpole_class]) == 0
    assert "return" in capsys.readouterr().out


def test_config_files_toml_and_json(tmp_path, capsys):
    toml = tmp_path / "ppo.toml"
    toml.write_text('[training]\ntrain_batch_size = 128\nminibatch_size = 64\n'
                    '[env_runners]\nnum_envs_per_env_runner = 4\n'
                    '[rl_module.model_config]\nfcnet_hiddens = [16]\n')
    assert main(["train", *FAST, "--config", str(toml), "--out", str(tmp_path / "a")]) == 0
    rows = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 4  # 512 steps / 128 per iteration
    bad = tmp_path / "bad.json"
    bad.write_text('{"training": {"lr_schedule": 1}}')
    assert main(["train", *FAST, "--config", str(bad), "--out", str(tmp_path / "b")]) == 1
    assert "unknown setting 'lr_schedule'" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[training\n")
    assert main(["train", "--config", str(broken)]) == 1
    assert "is not valid TOML" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "x.yaml")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_a_named_module_gets_its_own_model_config_not_the_presets(tmp_path, rlmodules_registry):
    # The CartPole preset's model_config (fcnet_hiddens, ...) is tuned for the default
    # module; a module named with --module (or in the config file) must not receive it.
    import torch
    from rlmodules import Columns, TorchRLModule, hookimpl

    configs = []

    class LinearPolicy(TorchRLModule):
        def setup(self):
            configs.append(dict(self.model_config))
            self.pi = torch.nn.Linear(4, 2)

        def _forward(self, batch, **kwargs):
            return {Columns.ACTION_DIST_INPUTS: self.pi(batch[Columns.OBS])}

    class Plugin:
        @hookimpl
        def rlmodules_modules(self):
            return {"linear_pg": LinearPolicy}

    rlmodules_registry.register_plugin(Plugin())
    assert main(["train", *FAST, "--module", "linear_pg", "--out", str(tmp_path / "a")]) == 0
    toml = tmp_path / "mine.toml"
    toml.write_text('[rl_module]\nmodule_class = "linear_pg"\n'
                    '[rl_module.model_config]\nwidth = 3\n')
    assert main(["train", *FAST, "--config", str(toml), "--out", str(tmp_path / "b")]) == 0
    assert configs and {str(c) for c in configs} == {"{}", "{'width': 3}"}


def test_the_readme_lstm_example_config_trains(tmp_path, capsys, monkeypatch):
    from rlmodules import registry

    if "lstm" not in [record.name for record in registry.list("module")]:
        pytest.skip("rlmodules-lstm is not installed")
    out = tmp_path / "run"
    monkeypatch.chdir(tmp_path)  # the README's command runs anywhere: the example is bundled
    assert main(["train", "--config", "stateless_cartpole_lstm", "--timesteps", "1024",
                 "--num-threads", "1", "--out", str(out)]) == 0
    assert "training lstm on rlmodules.envs:StatelessCartPole" in capsys.readouterr().out
    saved = json.loads((out / "checkpoint" / "algorithm_state.json").read_text())
    assert saved["config"]["training"]["grad_clip"] is None


def test_unknown_module_name_is_a_clear_error(tmp_path, capsys):
    assert main(["train", *FAST, "--module", "ppp", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "ppp" in err and "ppo" in err


def test_killed_run_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "rlmodules.cli", "train", "--timesteps", "1000000",
           "--num-threads", "1", "--seed", "0", "--checkpoint-every", "2", "--out", str(out)]
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _kill_after_first_checkpoint(proc, out)
    state = out / "checkpoint" / "algorithm_state.json"
    assert state.exists(), stderr.read_text()
    saved = json.loads(state.read_text())
    assert saved["iteration"] >= 2

    assert main(["train", "--resume", str(out), "--timesteps",
                 str(saved["timesteps"] + 512), "--num-threads", "1"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    resumed = [r for r in rows if r["num_env_steps_sampled_lifetime"] > saved["timesteps"]]
    assert resumed[-1]["num_env_steps_sampled_lifetime"] == saved["timesteps"] + 512
    assert resumed[-1]["training_iteration"] == saved["iteration"] + 2
    final = json.loads(state.read_text())
    assert final["optimizer"]["param_groups"][0]["lr"] < 1e-3  # the lr schedule went on
    assert final["config"] == saved["config"]


def _kill_after_first_checkpoint(proc, out):
    deadline = time.monotonic() + 120
    state = out / "checkpoint" / "algorithm_state.json"
    while not state.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_resume_needs_a_run_directory(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 1
    assert "no run.json there" in capsys.readouterr().err


def test_config_file_can_choose_the_env(tmp_path, capsys):
    toml = tmp_path / "pendulum.toml"
    toml.write_text('[environment]\nenv = "Pendulum-v1"\n'
                    '[training]\ntrain_batch_size = 256\nminibatch_size = 64\nnum_epochs = 1\n')
    out = tmp_path / "p"
    assert main(["train", "--timesteps", "256", "--num-threads", "1", "--config", str(toml),
                 "--out", str(out)]) == 0
    assert "training ppo on Pendulum-v1" in capsys.readouterr().out
    saved = json.loads((out / "checkpoint" / "algorithm_state.json").read_text())
    assert saved["config"]["env"] == "Pendulum-v1"
    assert saved["config"]["env_runners"]["num_envs_per_env_runner"] == 4  # the preset's


def test_eval_records_a_gif_of_a_real_classic_control_episode(tmp_path, capsys):
    pytest.importorskip("pygame", reason="rendering CartPole needs the [train] extra")
    image = pytest.importorskip("PIL.Image")
    out, gif = tmp_path / "run", tmp_path / "cartpole.gif"
    assert main(["train", *FAST, "--out", str(out)]) == 0
    assert main(["eval", str(out), "--episodes", "1", "--gif", str(gif)]) == 0
    frames = int(capsys.readouterr().out.split("recorded ")[1].split()[0])
    with image.open(gif) as recording:
        assert recording.format == "GIF" and recording.size == (600, 400)
        assert 1 < recording.n_frames <= frames


def test_record_and_gif_use_the_env_the_run_trained_on(tmp_path, capsys):
    out, env = tmp_path / "run", "rlmodules.envs:StatelessCartPole"  # an env class
    assert main(["train", *FAST, "--env", env, "--out", str(out)]) == 0
    assert main(["record", str(out), "--episodes", "2", "--out", str(tmp_path / "eps")]) == 0
    assert json.loads((tmp_path / "eps" / "episodes.json").read_text())["env"] == env
    module_dir = out / "checkpoint" / "learner_group" / "learner" / "rl_module"
    capsys.readouterr()
    assert main(["record", str(module_dir), "--episodes", "1", "--out", str(tmp_path / "x")]) == 1
    assert "--env is needed" in capsys.readouterr().err
    if importlib.util.find_spec("pygame"):  # the class passes render_mode on to CartPole
        assert main(["eval", str(out), "--episodes", "1", "--gif", str(tmp_path / "a.gif")]) == 0
        assert (tmp_path / "a.gif").stat().st_size > 0
    # An env named by a module the program has not imported is not imported from a file.
    state_file = out / "checkpoint" / "algorithm_state.json"
    state = json.loads(state_file.read_text())
    for named in ("not_imported_pkg:Env", "not_imported_pkg:Foo-v0"):  # also gymnasium's form
        state["config"]["env"] = named
        write_json_file(state_file, state)
        capsys.readouterr()
        assert main(["record", str(out), "--episodes", "1", "--out", str(tmp_path / "y")]) == 1
        assert "names module 'not_imported_pkg', which this program has not imported" in (
            capsys.readouterr().err)


def test_recording_returns_one_frame_per_step(tmp_path):
    import gymnasium as gym
    import numpy as np
    from rlmodules.algorithms import PPOConfig
    from rlmodules.algorithms.recording import record_episode_frames

    class Painted(gym.Env):
        metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
        observation_space = gym.spaces.Box(0.0, 9.0, (1,), np.float32)
        action_space = gym.spaces.Discrete(2)

        def __init__(self, render_mode=None):
            self.render_mode = render_mode

        def reset(self, *, seed=None, options=None):
            self.t = 0
            return np.zeros(1, np.float32), {}

        def step(self, action):
            self.t += 1
            return np.full(1, self.t, np.float32), 1.0, self.t == 4, False, {}

        def render(self):
            return np.full((6, 8, 3), self.t, np.uint8)

    gym.register("PaintedTest-v0", entry_point=Painted)
    try:
        algo = (PPOConfig().environment("PaintedTest-v0")
                .training(train_batch_size=64, minibatch_size=32).build())
        frames = record_episode_frames(algo)
        algo.stop()
    finally:
        gym.registry.pop("PaintedTest-v0")
    assert [int(f[0, 0, 0]) for f in frames] == [0, 1, 2, 3, 4]
    assert frames[0].shape == (6, 8, 3)

    # Env classes get render_mode through env_config; ones that cannot render say why.
    from rlmodules.errors import ConfigError

    class Blind(Painted):
        metadata = {"render_modes": []}

    class NoRenderMode(Painted):
        def __init__(self):
            super().__init__()

    for env_class, match in ((Blind, r"cannot record Blind: .*renders 'rgb_array'"),
                             (NoRenderMode, r"cannot record NoRenderMode: making it with")):
        algo = (PPOConfig().environment(env_class)
                .training(train_batch_size=64, minibatch_size=32).build())
        with pytest.raises(ConfigError, match=match):
            record_episode_frames(algo)
        algo.stop()


def test_inspect_describes_a_run_directory_and_its_algorithm_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(out), "--json", "--verify"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["kind"] == "run" and run["run"]["env"] == "CartPole-v1"
    assert run["last_metrics"]["training_iteration"] == 2
    algo = run["checkpoint"]
    assert (algo["kind"], algo["env"], algo["iteration"], algo["timesteps"]) == (
        "algorithm", "CartPole-v1", 2, 512)
    assert algo["algorithm_class"] == "rlmodules.algorithms.ppo:PPO"
    assert algo["config"]["training"]["train_batch_size"] == 256
    assert all(f["checksum_ok"] for f in algo["tensor_files"].values())
    components = {c["component"]: c for c in algo["rl_module"]["components"]}
    assert components["default_policy"]["module_class"] == "rlmodules/ppo"
    assert components["default_policy"]["checksum_ok"] is True

    assert main(["inspect", str(out / "checkpoint")]) == 0
    text = capsys.readouterr().out
    assert "env          CartPole-v1" in text
    assert "progress     iteration 2, 512 steps" in text
    assert "component    default_policy: rlmodules/ppo" in text
    (out / "checkpoint" / "rng.safetensors").write_bytes(b"corrupted")
    assert main(["inspect", str(out / "checkpoint"), "--verify"]) == 1
    assert "rng.safetensors (10264 B), CHECKSUM FAILED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--timesteps", "0"], "--timesteps must be a positive integer, got 0"),
        (["eval", "RUN", "--gif", "/nonexistent/dir/x.gif"],
         "--gif /nonexistent/dir/x.gif: the directory /nonexistent/dir does not exist; create "
         "it or pick a path in an existing directory"),
        (["record", "RUN", "--episodes", "1", "--out", "EPS", "--env-config", '{"bogus": 1}'],
         "cannot make gymnasium env 'CartPole-v1' with env_config {'bogus': 1}: "
         "CartPoleEnv.__init__() got an unexpected keyword argument 'bogus'; pass only keyword "
         "arguments its constructor takes"),
        (["train", *FAST, "--out", "FILE"],
         "--out FILE: a file of that name is in the way; pass a directory (a new one, or an "
         "earlier run's)"),
    ],
    ids=["timesteps-0", "gif-dir", "env-config", "out-file"],
)
def test_bad_command_lines_are_one_line_errors(argv, message, tmp_path, capsys, trained_run):
    places = {"RUN": str(trained_run), "EPS": str(tmp_path / "eps"),
              "FILE": str(tmp_path / "file")}
    (tmp_path / "file").write_text("")
    argv = [places.get(a, a) for a in argv]
    message = message.replace("FILE", places["FILE"])
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"rlmodules {argv[0]}: error: {message}\n"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--timesteps", "256", "--num-threads", "1", "--seed", "0",
                 "--out", str(out)]) == 0
    return out
