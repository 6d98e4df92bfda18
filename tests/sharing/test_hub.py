"""Loading packaged policies by Hub name (``hf://org/name``) from a Hugging Face cache, with
the network off: revisions, verification, and the errors a user meets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from _hub_cache import add_revision, snapshot
from rlmodules import CheckpointError, ConfigError, RLModule, registry
from rlmodules.algorithms import Algorithm
from rlmodules.cli import main
from rlmodules.hub import download, parse_hub_path

REPO = "org/ppo-cartpole"


@pytest.fixture
def two_revisions(offline_hub, cartpole_package, tmp_path):
    """``main`` holds the package; the tag ``v1`` an earlier package of the same run
    (other evaluation seeds, so other files and another commit)."""
    earlier = tmp_path / "earlier"
    shutil.copytree(cartpole_package, earlier)
    assert main(["package", str(cartpole_package.parent / "run"), "--out", str(earlier),
                 "--episodes", "2", "--seed", "100", "--no-export"]) == 0
    return {"main": add_revision(offline_hub, REPO, cartpole_package, ref="main"),
            "v1": add_revision(offline_hub, REPO, earlier, ref="v1")}


def test_hf_names_load_modules_and_algorithms_from_the_cache_offline(
        two_revisions, cartpole_package, offline_hub):
    main_commit, v1_commit = two_revisions["main"], two_revisions["v1"]
    module = RLModule.from_checkpoint(f"hf://{REPO}")
    assert module.checkpoint_source == f"hf://{REPO}@{main_commit}"
    local = RLModule.from_checkpoint(cartpole_package)
    for key, value in local.get_state().items():
        torch.testing.assert_close(module.get_state()[key], value)
    for name, revision in ((f"hf://{REPO}@v1", None), (f"hf://{REPO}", "v1"),
                           (f"hf://{REPO}@{v1_commit}", None), (f"hf://{REPO}@v1", "v1")):
        loaded = RLModule.from_checkpoint(name, revision=revision, inference_only=True)
        assert loaded.checkpoint_source == f"hf://{REPO}@{v1_commit}"
        assert loaded.inference_only
    algo = Algorithm.from_checkpoint(f"hf://{REPO}@v1")
    try:
        assert algo.checkpoint_source == f"hf://{REPO}@{v1_commit}"
        assert algo.timesteps == 512
    finally:
        algo.stop()
    assert download(f"hf://{REPO}").path == snapshot(offline_hub, REPO, main_commit)
    snap = download(f"hf://{REPO}", revision="v1")
    assert (snap.repo_id, snap.revision, snap.commit) == (REPO, "v1", v1_commit)
    with pytest.raises(ConfigError, match="names revision 'v1', but revision='main'"):
        RLModule.from_checkpoint(f"hf://{REPO}@v1", revision="main")
    with pytest.raises(CheckpointError, match=r"hf://org/ppo-cartpole@v2 is not in the Hub "
                                              r"cache and the Hub cannot be reached"):
        RLModule.from_checkpoint(f"hf://{REPO}@v2")
    with pytest.raises(CheckpointError, match="hf://org/other is not in the Hub cache"):
        RLModule.from_checkpoint("hf://org/other")


def test_eval_and_inspect_by_hf_name_in_a_fresh_offline_process(two_revisions, offline_hub,
                                                                 tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # HF_HUB_CACHE: the test's cache
    gif = tmp_path / "replay.gif"
    done = subprocess.run(
        [sys.executable, "-m", "rlmodules.cli", "eval", f"hf://{REPO}@v1", "--episodes", "2",
         "--gif", str(gif)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    commit = two_revisions["v1"]
    package = snapshot(offline_hub, REPO, commit)
    ev = json.loads((package / "rlmodules_package.json").read_text())["evaluation"]
    assert (f"hf://{REPO}@{commit} on CartPole-v1: return {ev['mean']:.2f} ± {ev['std']:.2f} "
            f"over 2 episodes (seeds 100..101" in done.stdout)  # the card's episodes again
    assert f"recorded {ev['lengths'][0] + 1} frames: {gif}" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "rlmodules.cli", "inspect", "--verify", f"hf://{REPO}"],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"package      hf://{REPO}@{two_revisions['main']}" in done.stdout
    assert "all checksums ok" in done.stdout


def test_a_changed_file_in_the_cache_is_caught_before_loading(offline_hub, cartpole_package):
    commit = add_revision(offline_hub, REPO, cartpole_package, ref="main")
    readme = snapshot(offline_hub, REPO, commit) / "README.md"
    blob = readme.resolve()
    blob.write_bytes(blob.read_bytes().replace(b"greedy", b"GREEDY"))
    with pytest.raises(CheckpointError, match=rf"^hf://{REPO}@{commit}: the packaged policy .* "
                                              r"README.md: checksum differs"):
        RLModule.from_checkpoint(f"hf://{REPO}")
    # A snapshot file may link into the repository's blobs/, nowhere else.
    readme.unlink()
    readme.symlink_to(cartpole_package / "README.md")
    with pytest.raises(CheckpointError, match="README.md: a link to .* outside the package"):
        RLModule.from_checkpoint(f"hf://{REPO}")


def test_a_repository_without_a_package_is_refused(offline_hub, cartpole_run):
    add_revision(offline_hub, "org/raw-run", cartpole_run, ref="main")
    with pytest.raises(CheckpointError, match="is not a packaged policy: it has no "
                                              "rlmodules_package.json"):
        Algorithm.from_checkpoint("hf://org/raw-run")


def test_a_missing_plugin_is_named_with_its_pip_install_line(offline_hub, lstm_package):
    commit = add_revision(offline_hub, "org/lstm", lstm_package, ref="main")
    with registry.isolated_registry(blocked=("rlmodules-lstm",)):
        with pytest.raises(CheckpointError) as caught:
            RLModule.from_checkpoint("hf://org/lstm")
    message = str(caught.value)
    assert message.startswith(f"hf://org/lstm@{commit}: ")
    assert "needs module 'rlmodules_lstm/lstm' from rlmodules-lstm 0.1.0, which is not " \
           "installed; install it with `pip install rlmodules-lstm==0.1.0`" in message
    assert RLModule.from_checkpoint("hf://org/lstm").is_stateful()  # installed: it loads


def test_without_huggingface_hub_the_error_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"loading hf://org/name needs huggingface_hub, "
                                          r"which is not installed; install the extra with "
                                          r"`pip install \"rlmodules\[hub\]\"`"):
        RLModule.from_checkpoint("hf://org/name")
    assert main(["eval", "hf://org/name"]) == 1
    assert 'pip install "rlmodules[hub]"' in capsys.readouterr().err


def test_hub_names_and_revisions_are_checked():
    assert parse_hub_path("hf://org/name") == ("org/name", None)
    assert parse_hub_path("hf://org/name@v1.0") == ("org/name", "v1.0")
    assert parse_hub_path("hf://org/name", revision="abc") == ("org/name", "abc")
    for bad in ("hf://name", "hf://org/name@", "hf://org/na me", "hf://org/name/extra"):
        with pytest.raises(ConfigError, match="is not a Hub name; write hf://org/name"):
            parse_hub_path(bad)
    with pytest.raises(ConfigError, match="revision='v1' applies to Hub names"):
        RLModule.from_checkpoint("some/local/path", revision="v1")
