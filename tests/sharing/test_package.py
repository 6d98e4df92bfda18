"""`rlmodules package`: the folder, its model card, its replay video and its file list."""

from __future__ import annotations

import json
import shutil

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlmodules import CheckpointError, ConfigError, RLModule, compute_actions
from rlmodules.algorithms import Algorithm
from rlmodules.cli import main
from rlmodules.policy_package import PACKAGE_FILE, verify_package


def _manifest(package):
    return json.loads((package / PACKAGE_FILE).read_text())


def _greedy_episode(module, seed, *, env_id="CartPole-v1", render=False):
    """The return and rendered frames of one greedy episode, played here, without the
    library's evaluation code."""
    env = gym.make(env_id, render_mode="rgb_array" if render else None)
    obs, _ = env.reset(seed=seed)
    frames = [env.render()] if render else []
    total, done = 0.0, False
    while not done:
        out = compute_actions(module, {"obs": obs[None]}, explore=False, for_env=True)
        obs, reward, terminated, truncated, _ = env.step(out["actions_for_env"][0])
        total += reward
        done = terminated or truncated
        frames += [env.render()] if render else []
    env.close()
    return total, frames


def test_the_card_parses_with_huggingface_hub_and_holds_the_evaluated_reward(
        cartpole_package):
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard import metadata_load

    manifest = _manifest(cartpole_package)
    evaluation = manifest["evaluation"]
    assert evaluation["seeds"] == [7, 8, 9] and evaluation["episodes"] == 3
    # The reward is what the module earns on those seeds, replayed here independently.
    module = RLModule.from_checkpoint(cartpole_package / "module")
    returns = [_greedy_episode(module, seed)[0] for seed in evaluation["seeds"]]
    assert returns == evaluation["returns"]
    assert evaluation["mean"] == pytest.approx(np.mean(returns))
    assert evaluation["std"] == pytest.approx(np.std(returns))

    card = ModelCard.load(cartpole_package / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "rlmodules"
    assert {"reinforcement-learning", "CartPole-v1", "ppo"} <= set(data["tags"])
    (result,) = card.data.eval_results
    assert (result.task_type, result.dataset_type, result.dataset_name) == (
        "reinforcement-learning", "CartPole-v1", "CartPole-v1")
    assert result.metric_type == "mean_reward"
    assert result.metric_value == f"{np.mean(returns):.2f} +/- {np.std(returns):.2f}"
    assert card.data.model_name == "PPO"
    assert metadata_load(cartpole_package / "README.md") == data

    text = card.text
    assert f"**{np.mean(returns):.2f} ± {np.std(returns):.2f}** over 3 episodes" in text
    assert 'pip install "rlmodules[hub]==0.1.0"\n' in text  # the built-ins only
    assert 'RLModule.from_checkpoint("hf://org/ppo-cartpole")' in text
    assert "rlmodules eval hf://org/ppo-cartpole" in text
    assert 'Algorithm.from_checkpoint("hf://org/ppo-cartpole")' in text
    assert "rlmodules train --resume my-run" in text
    assert "hf upload org/ppo-cartpole FOLDER" in text
    assert "![A greedy episode](replay.gif)" in text
    assert "  train_batch_size: 256\n" in text and "  fcnet_hiddens: [64, 64]\n" in text
    assert "| Env steps | 512 |" in text


def test_the_folder_holds_checkpoints_export_and_run_files(cartpole_package, cartpole_run):
    manifest = _manifest(cartpole_package)
    assert manifest["contents"] == {"module": "module", "algorithm": "checkpoint",
                                    "export": "onnx"}
    assert {"README.md", "replay.gif", "run.json", "metrics.jsonl", "module/rlmodule.json",
            "checkpoint/algorithm_state.json", "onnx/manifest.json"} <= set(manifest["files"])
    module = RLModule.from_checkpoint(cartpole_package)  # the folder itself loads
    trained = Algorithm.from_checkpoint(cartpole_run / "checkpoint")
    try:
        for key, value in trained.get_module().get_state().items():
            torch.testing.assert_close(module.get_state()[key], value)
    finally:
        trained.stop()
    algo = Algorithm.from_checkpoint(cartpole_package)
    try:
        assert (algo.timesteps, algo.iteration) == (512, 2)
        assert algo.checkpoint_source == str(cartpole_package)
    finally:
        algo.stop()
    from rlmodules_onnx import OnnxPolicy  # installed, or the package would hold no onnx/

    policy = OnnxPolicy(cartpole_package / "onnx")
    obs = np.array([[0.01, -0.02, 0.03, 0.04]], np.float32)
    expected = compute_actions(module, {"obs": obs}, explore=False)["actions"]
    assert policy.compute_actions(obs)["actions"].tolist() == expected.tolist()


def test_the_gif_holds_the_first_evaluated_episode_frame_by_frame(cartpole_package):
    from PIL import Image, ImageSequence

    manifest = _manifest(cartpole_package)
    module = RLModule.from_checkpoint(cartpole_package / "module")
    _, rendered = _greedy_episode(module, manifest["evaluation"]["seeds"][0], render=True)
    assert len(rendered) == manifest["evaluation"]["lengths"][0] + 1  # reset + every step
    # A GIF stores a frame that repeats the one before as a longer duration: expand them.
    played = []
    with Image.open(cartpole_package / "replay.gif") as gif:
        for frame in ImageSequence.Iterator(gif):
            repeat, rest = divmod(frame.info["duration"], 20)  # CartPole renders at 50 fps
            assert rest == 0
            played += [np.asarray(frame.convert("RGB"))] * repeat
    assert len(played) == len(rendered)
    for shown, drawn in zip(played, rendered):
        assert shown.shape == drawn.shape
        assert np.abs(shown.astype(int) - drawn.astype(int)).mean() < 1.0


def test_the_folder_verifies_and_tampering_with_any_file_is_caught(
        cartpole_package, tmp_path, capsys):
    assert main(["inspect", "--verify", str(cartpole_package)]) == 0
    shown = capsys.readouterr().out
    assert "all checksums ok" in shown and "policy       ppo (PPO) on CartPole-v1" in shown

    manifest = _manifest(cartpole_package)
    for name in [*manifest["files"], PACKAGE_FILE]:
        copy = tmp_path / name.replace("/", "_")
        shutil.copytree(cartpole_package, copy)
        target = copy / name
        if name == PACKAGE_FILE:  # a better score, the old checksum kept
            edited = dict(manifest, evaluation=dict(manifest["evaluation"], mean=500.0))
            target.write_text(json.dumps(edited))
            expected = "rlmodules_package.json is corrupted"
        else:
            data = bytearray(target.read_bytes())
            data[len(data) // 2] ^= 0x01  # one flipped bit
            target.write_bytes(bytes(data))
            expected = f"{name}: checksum differs"
        with pytest.raises(CheckpointError, match=expected):
            verify_package(copy)
        with pytest.raises(CheckpointError):
            RLModule.from_checkpoint(copy)  # nothing in a changed folder is loaded
        shutil.rmtree(copy)

    copy = tmp_path / "changed"
    shutil.copytree(cartpole_package, copy)
    with (copy / "README.md").open("a") as readme:
        readme.write("one more line\n")
    (copy / "module" / "rlmodule.json").unlink()
    (copy / "replay.gif").unlink()
    (copy / "replay.gif").symlink_to(cartpole_package / "replay.gif")  # a link out
    (copy / "notes.txt").write_text("added after packaging")
    capsys.readouterr()
    assert main(["inspect", "--verify", str(copy)]) == 1
    shown = capsys.readouterr().out
    assert "3 FAILED" in shown
    assert "FAILED     README.md: " in shown and "bytes, not the" in shown
    assert "FAILED     module/rlmodule.json: missing" in shown
    assert "FAILED     replay.gif: a link to" in shown and "outside the package" in shown
    assert "unlisted   notes.txt (not in the file list; never read)" in shown
    with pytest.raises(CheckpointError, match=r"does not match its file list \(3 of"):
        Algorithm.from_checkpoint(copy)


def test_the_recurrent_package_pins_its_plugin_and_replays_as_mp4(lstm_package):
    from huggingface_hub import ModelCard
    from imageio_ffmpeg import count_frames_and_secs

    manifest = _manifest(lstm_package)
    assert manifest["module_name"] == "lstm" and manifest["stateful"] is True
    assert manifest["contents"]["export"] is None  # --no-export
    assert {"distribution": "rlmodules-lstm", "version": "0.1.0"} in manifest["requirements"]
    card = ModelCard.load(lstm_package / "README.md")
    assert 'pip install "rlmodules[hub]==0.1.0" rlmodules-lstm==0.1.0' in card.text
    assert "state = out[\"state_out\"]" in card.text
    env = "rlmodules.envs.stateless_cartpole:StatelessCartPole"  # where the class lives
    assert {"lstm", env} <= set(card.data.tags)
    assert card.data.eval_results[0].dataset_name == env

    frames, seconds = count_frames_and_secs(str(lstm_package / "replay.mp4"))
    assert frames == manifest["evaluation"]["lengths"][0] + 1  # reset + every step
    assert seconds == pytest.approx(frames / 50, abs=0.05)  # CartPole renders at 50 fps
    module = RLModule.from_checkpoint(lstm_package)
    assert module.is_stateful() and module.checkpoint_source == str(lstm_package)
    verify_package(lstm_package)


def test_a_module_checkpoint_packages_with_the_env_it_acts_in(cartpole_package, tmp_path,
                                                              capsys):
    module_dir = RLModule.from_checkpoint(cartpole_package).save_to_path(tmp_path / "module")
    out = tmp_path / "package"
    assert main(["package", module_dir, "--out", str(out)]) == 1
    assert "is a module checkpoint, which does not record an env; name the env" in (
        capsys.readouterr().err)
    assert main(["package", module_dir, "--out", str(out), "--env", "CartPole-v1",
                 "--episodes", "2", "--seed", "7", "--no-export"]) == 0
    printed = capsys.readouterr().out
    assert "evaluated ppo on CartPole-v1: return" in printed and "(seeds 7..8)" in printed
    manifest = verify_package(out)
    assert manifest["contents"] == {"module": "module", "algorithm": None, "export": None}
    assert manifest["evaluation"]["returns"] == _manifest(cartpole_package)["evaluation"][
        "returns"][:2]  # the same module on the same seeds
    assert "Continue training" not in (out / "README.md").read_text()
    with pytest.raises(CheckpointError, match="holds no algorithm checkpoint"):
        Algorithm.from_checkpoint(out)
    assert main(["eval", str(out), "--episodes", "2"]) == 0
    assert f"{out} on CartPole-v1: return" in capsys.readouterr().out


def test_bad_sources_and_settings_are_refused(cartpole_package, cartpole_run, tmp_path,
                                              capsys):
    cases = [
        ([str(cartpole_package)], "is already a packaged policy"),
        ([str(tmp_path)], "is neither a `rlmodules train` run directory"),
        ([str(cartpole_run), "--episodes", "0"], "episodes must be a positive number"),
        ([str(cartpole_run), "--env", "CartPole-v1"], "drop --env and --env-config"),
        ([str(cartpole_run), "--env-config", "[1]"], "--env-config must be a JSON object"),
        ([str(cartpole_run), "--repo-id", "no-slash"], "is not a Hub name"),
    ]
    for args, message in cases:
        assert main(["package", *args, "--out", str(tmp_path / "out")]) == 1, args
        assert message in capsys.readouterr().err, args
    assert not (tmp_path / "out").exists()  # nothing half-written
    with pytest.raises(ConfigError, match="video must be one of gif, mp4"):
        from rlmodules.sharing import package_policy

        package_policy(cartpole_run, tmp_path / "out", video="avi")


def test_write_video_refuses_what_it_cannot_write(tmp_path):
    from rlmodules.sharing import write_video

    frame = np.zeros((5, 7, 3), np.uint8)  # odd sizes: the MP4 pads them
    assert write_video([frame, frame + 1], tmp_path / "a.mp4", fps=10).stat().st_size > 0
    for frames, path, message in (
            ([frame], tmp_path / "a.avi", "replay videos are gif, mp4 files"),
            ([], tmp_path / "a.gif", "no frames were rendered"),
            ([frame[..., 0]], tmp_path / "a.gif", r"frames must be RGB uint8 arrays"),
            ([frame, np.zeros((6, 7, 3), np.uint8)], tmp_path / "b.mp4", "frames differ")):
        with pytest.raises(ConfigError, match=message):
            write_video(frames, path, fps=10)


def test_a_downloaded_package_resumes_as_a_run(cartpole_package, tmp_path, capsys):
    local = tmp_path / "my-run"  # what `hf download org/name --local-dir my-run` leaves
    shutil.copytree(cartpole_package, local)
    (local / ".gitattributes").write_text("*.onnx filter=lfs\n")
    assert main(["inspect", str(local)]) == 0
    assert "unlisted" not in capsys.readouterr().out  # hidden files are the Hub's own
    assert main(["train", "--resume", str(local), "--timesteps", "768"]) == 0
    assert "resuming at iteration 2, 512 steps" in capsys.readouterr().out
    assert not (local / PACKAGE_FILE).exists()  # a run again: the old file list is gone
    rows = (local / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(row)["training_iteration"] for row in rows] == [1, 2, 3]


def test_a_run_with_observation_normalisation_is_evaluated_as_it_was_trained(tmp_path, capsys):
    from rlmodules.algorithms.obs_normalization import ObservationNormalizer

    config = tmp_path / "normalised.toml"
    config.write_text('[env_runners]\nobservation_filter = "MeanStdFilter"\n'
                      'num_envs_per_env_runner = 2\n'
                      '[training]\ntrain_batch_size = 128\nminibatch_size = 64\n')
    run, out = tmp_path / "run", tmp_path / "package"
    assert main(["train", "--timesteps", "256", "--num-threads", "1", "--seed", "0",
                 "--config", str(config), "--out", str(run)]) == 0
    assert main(["package", str(run), "--out", str(out), "--episodes", "2", "--seed", "5"]) == 0
    printed = capsys.readouterr().out
    manifest = verify_package(out)
    assert manifest["observation_filter"] == "MeanStdFilter"
    if "onnx" in printed:  # rlmodules-onnx installed: said why the export is left out
        assert "note: no ONNX export: this run normalises observations" in printed
    assert manifest["contents"]["export"] is None
    # The module acted on normalised observations, with the statistics frozen.
    normalizer = ObservationNormalizer.from_checkpoint(out / "checkpoint")
    module = RLModule.from_checkpoint(out)
    returns = []
    for seed in (5, 6):
        env = gym.make("CartPole-v1")
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = compute_actions(module, {"obs": normalizer.normalize(obs)[None]},
                                     explore=False, for_env=True)["actions_for_env"][0]
            obs, reward, terminated, truncated, _ = env.step(action)
            total, done = total + reward, terminated or truncated
        returns.append(total)
    assert manifest["evaluation"]["returns"] == returns
    card = (out / "README.md").read_text()
    assert "| Observation filter | MeanStdFilter |" in card
    assert "the module expects normalised observations" in card
    assert main(["eval", str(out), "--episodes", "2"]) == 0
    mean, std = np.mean(returns), np.std(returns)
    assert f"return {mean:.2f} ± {std:.2f} over 2 episodes" in capsys.readouterr().out


def test_the_readme_shows_a_card_that_parses():
    from pathlib import Path

    from huggingface_hub import ModelCard

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Sharing a policy\n", 1)[1]
    card = ModelCard(section.split("````markdown\n", 1)[1].split("\n````", 1)[0])
    assert "## Hyper-parameters" in card.text and "hf upload your-name/" in card.text
    (result,) = card.data.eval_results
    assert (result.dataset_name, result.metric_type) == ("CartPole-v1", "mean_reward")
    assert result.metric_value == "500.00 +/- 0.00"  # a solved CartPole, greedy
    assert card.data.library_name == "rlmodules"


class _Painted(gym.Env):
    """Five steps; each rendered frame shows its step number."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}
    observation_space = gym.spaces.Box(0.0, 9.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, config=None):
        self.render_mode = (config or {}).get("render_mode")

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), 1.0, self.t == 5, False, {}

    def render(self):
        return np.full((4, 6, 3), self.t, np.uint8)


def test_evaluation_records_the_first_episode_and_keeps_at_most_max_frames(monkeypatch):
    from rlmodules import RLModuleSpec
    from rlmodules.sharing import evaluate_policy, evaluation

    module = RLModuleSpec(module_class="ppo", observation_space=_Painted.observation_space,
                          action_space=_Painted.action_space).build()
    module.train()
    result = evaluate_policy(module, _Painted, {}, seeds=[1, 2], record=True)
    assert (result.returns, result.lengths, result.fps) == ((5.0, 5.0), (5, 5), 25)
    assert [int(frame[0, 0, 0]) for frame in result.frames] == [0, 1, 2, 3, 4, 5]
    assert module.training  # given back as it was
    monkeypatch.setattr(evaluation, "MAX_VIDEO_FRAMES", 3)
    result = evaluate_policy(module, _Painted, {}, seeds=[1], record=True)
    assert [int(frame[0, 0, 0]) for frame in result.frames] == [0, 1, 2]
    assert result.lengths == (5,) and result.to_json()["recorded_frames"] == 3
    with pytest.raises(ConfigError, match="at least one episode"):
        evaluate_policy(module, _Painted, {}, seeds=[])
