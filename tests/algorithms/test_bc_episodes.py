"""The recorded-episodes format: round trip, verification, and the `record` command."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from rlmodules import CheckpointError, RLModuleSpec, SpaceError
from rlmodules.algorithms import EpisodeWriter, read_episodes
from rlmodules.algorithms.episodes import AgentEpisode, EpisodeDataError
from rlmodules.cli import main

OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
ACT = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)


def _episode(length, seed=0):
    rng = np.random.default_rng(seed)
    return AgentEpisode(obs=rng.uniform(-1, 1, (length, 3)).astype(np.float32),
                        actions=rng.uniform(-2, 2, (length, 2)).astype(np.float32),
                        rewards=np.ones(length, np.float32), terminated=True, truncated=False)


def _write(path, episodes, agents=("default_agent",)):
    with EpisodeWriter(path, env="Test-v0", observation_spaces={a: OBS for a in agents},
                       action_spaces={a: ACT for a in agents}) as writer:
        for episode in episodes:
            writer.add_episode(episode)


def test_round_trip_multi_agent_continuous(tmp_path):
    first = {0: _episode(4, 1), "b": _episode(2, 2)}
    second = {0: _episode(3, 3)}  # agent "b" did not act in this episode
    _write(tmp_path / "eps", [first, second], agents=(0, "b"))
    recorded = read_episodes(tmp_path / "eps")
    assert recorded.env == "Test-v0" and recorded.agent_ids == [0, "b"]
    assert recorded.observation_spaces[0] == OBS and recorded.action_spaces["b"] == ACT
    assert [sorted(map(str, ep)) for ep in recorded.episodes] == [["0", "b"], ["0"]]
    np.testing.assert_array_equal(recorded.episodes[0][0].actions, first[0].actions)
    columns = recorded.columns([0])
    assert columns["obs"].shape == (7, 3) and columns["actions"].shape == (7, 2)
    assert recorded.returns(0) == [4.0, 3.0] and recorded.returns("b") == [2.0]


def test_modified_episode_file_is_detected(tmp_path):
    _write(tmp_path / "eps", [{"default_agent": _episode(5)}])
    file = tmp_path / "eps" / "episode_000000.safetensors"
    data = bytearray(file.read_bytes())
    data[-1] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"episode_000000.safetensors' is corrupted or was "
                                              r"modified: its sha256 is"):
        read_episodes(tmp_path / "eps")


def test_missing_index_file_and_version(tmp_path):
    with pytest.raises(EpisodeDataError, match=r"episodes.json is missing; record some with "
                                               r"`rlmodules record"):
        read_episodes(tmp_path)
    _write(tmp_path / "eps", [{"default_agent": _episode(2)}])
    (tmp_path / "eps" / "episode_000000.safetensors").unlink()
    with pytest.raises(EpisodeDataError, match=r"'episode_000000.safetensors' listed in "
                                               r"episodes.json is missing"):
        read_episodes(tmp_path / "eps")
    index = tmp_path / "eps" / "episodes.json"
    data = json.loads(index.read_text())
    index.write_text(json.dumps({**data, "version": 99}))
    with pytest.raises(EpisodeDataError, match=r"format version 99; this rlmodules reads "
                                               r"versions up to 2"):
        read_episodes(tmp_path / "eps")
    index.write_text(json.dumps({**data, "format": "other"}))
    with pytest.raises(EpisodeDataError, match=r"format is 'other', expected "
                                               r"'rlmodules.episodes'"):
        read_episodes(tmp_path / "eps")


def test_writer_rejects_bad_input(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(EpisodeDataError, match=r"exists and is not an empty directory"):
        _write(tmp_path / "full", [])
    with pytest.raises(SpaceError, match=r"its observation space Dict.*Box, Discrete"):
        EpisodeWriter(tmp_path / "d", env="x",
                      observation_spaces={0: gym.spaces.Dict({"a": OBS})},
                      action_spaces={0: ACT})
    writer = EpisodeWriter(tmp_path / "w", env="x", observation_spaces={0: OBS},
                           action_spaces={0: ACT})
    bad = AgentEpisode(obs=np.zeros((3, 4)), actions=np.zeros((3, 2)), rewards=np.zeros(3),
                       terminated=True, truncated=False)
    with pytest.raises(EpisodeDataError, match=r"column 'obs' has shape \(3, 4\), expected "
                                               r"\(3, 3\)"):
        writer.add_episode({0: bad})
    with pytest.raises(EpisodeDataError, match=r"agent 7 is not one of the recorded agents "
                                               r"\[0\]"):
        writer.add_episode({7: _episode(2)})


def test_record_command_writes_episodes_of_a_checkpoint(tmp_path, capsys):
    env = gym.make("CartPole-v1")
    module = RLModuleSpec(module_class="bc", observation_space=env.observation_space,
                          action_space=env.action_space,
                          model_config={"fcnet_hiddens": [8]}).build()
    module.save_to_path(tmp_path / "ckpt")
    out = tmp_path / "eps"
    assert main(["record", str(tmp_path / "ckpt"), "--env", "CartPole-v1", "--episodes", "3",
                 "--out", str(out), "--seed", "0"]) == 0
    assert "recorded 3 episodes" in capsys.readouterr().out
    recorded = read_episodes(out)
    assert len(recorded.episodes) == 3 and recorded.agent_ids == ["default_agent"]
    steps = recorded.episodes[0]["default_agent"]
    assert steps.terminated or steps.truncated
    # Greedy actions of the checkpointed module.
    greedy = module.forward_inference({"obs": __import__("torch").as_tensor(steps.obs)})
    np.testing.assert_array_equal(greedy["action_dist_inputs"].argmax(-1).numpy(), steps.actions)

    assert main(["record", str(tmp_path / "ckpt"), "--env", "rlmodules.envs:MultiAgentCartPole",
                 "--env-config", '{"num_agents": 2}', "--episodes", "2",
                 "--out", str(tmp_path / "ma")]) == 0
    assert read_episodes(tmp_path / "ma").agent_ids == [0, 1]

    assert main(["record", str(tmp_path / "ckpt"), "--env", "CartPole-v1", "--episodes", "1",
                 "--out", str(out)]) == 1
    assert "is not an empty directory" in capsys.readouterr().err
    assert main(["record", str(tmp_path / "ckpt"), "--env", "CartPole-v1", "--episodes", "1",
                 "--out", str(tmp_path / "x"), "--env-config", "{bad"]) == 1
    assert "--env-config is not valid JSON" in capsys.readouterr().err
