"""Scaling settings without Ray: validation, the missing-extra error, joining runner
rollouts, and sharding minibatches (the Ray runs themselves are in tests/distributed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from rlmodules.algorithms import PPOConfig
from rlmodules.algorithms.distributed_learner import DataParallel
from rlmodules.algorithms.env_runners import concat_rollouts
from rlmodules.errors import ConfigError


def test_importing_the_algorithms_never_imports_ray():
    code = ("import sys, rlmodules, rlmodules.algorithms as a; a.PPOConfig; "
            "import rlmodules.algorithms.ppo, rlmodules.algorithms.env_runners, "
            "rlmodules.algorithms.distributed_learner; print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_runners_without_ray_installed_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    config = PPOConfig().environment("CartPole-v1").env_runners(num_env_runners=2)
    with pytest.raises(ConfigError) as info:
        config.build()
    assert str(info.value) == (
        "num_env_runners >= 1 run as Ray actors, and Ray is not installed; install the extra "
        "with `pip install \"rlmodules[ray]\"` (or set it to 0 to run in this process)")


@pytest.mark.parametrize(("method", "settings", "message"), [
    ("env_runners", {"num_env_runners": -1}, "num_env_runners must be an int >= 0, got -1"),
    ("env_runners", {"sample_timeout_s": 0},
     "sample_timeout_s must be a number in (0.0, inf], got 0"),
    ("env_runners", {"restart_failed_env_runners": "yes"},
     "restart_failed_env_runners must be True or False, got 'yes'"),
    ("env_runners", {"ray_address": ""},
     "ray_address must be a Ray cluster address such as 'auto' or 'ray://head:10001', or "
     "None to start Ray locally; got ''"),
    ("learners", {"num_learners": 1.5}, "num_learners must be an int >= 0, got 1.5"),
    ("learners", {"num_cpus_per_learner": -1},
     "num_cpus_per_learner must be a number in [0.0, inf], got -1"),
    ("learners", {"num_gpus_per_learner": 2},
     "num_gpus_per_learner must be a number in [0.0, 1.0], got 2"),
])
def test_bad_scaling_settings_are_named(method, settings, message):
    config = getattr(PPOConfig().environment("CartPole-v1"), method)(**settings)
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == message


def test_the_batch_must_split_over_every_runner_and_env():
    config = (PPOConfig().environment("CartPole-v1")
              .env_runners(num_env_runners=3, num_envs_per_env_runner=2)
              .training(train_batch_size=100, minibatch_size=50))
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == (
        "train_batch_size=100 is not a multiple of num_envs_per_env_runner=2 x "
        "num_env_runners=3; every env steps the same number of times per iteration, e.g. "
        "train_batch_size=96")


def test_unknown_learner_setting_gets_a_did_you_mean():
    with pytest.raises(ConfigError, match="unknown setting 'num_learner'. Did you mean "
                                          "'num_learners'?"):
        PPOConfig().learners(num_learner=2)


def test_scaling_settings_round_trip_through_json():
    config = (PPOConfig().environment("CartPole-v1")
              .env_runners(num_env_runners=2, ray_address="auto").learners(num_learners=2))
    again = PPOConfig.from_dict(config.to_dict())
    assert again.num_env_runners == 2 and again.ray_address == "auto"
    assert again.num_learners == 2
    assert again.num_sampling_envs == 2


def _rollout(steps: int, slots: int, start: float) -> dict:
    return {
        "obs": np.full((steps + 1, slots, 3), start, np.float32),
        "actions": np.ones((steps, slots), np.int64),
        "rewards": np.ones((steps, slots), np.float32),
        "loss_mask": np.ones((steps, slots), bool),
        "state_in": {"h": np.full((steps + 1, slots, 2), start, np.float32)},
    }


def test_runner_rollouts_join_side_by_side_and_pad_shorter_ones_with_masked_rows():
    joined = concat_rollouts([{"p": _rollout(3, 2, 1.0)}, {"p": _rollout(2, 1, 5.0)},
                              {"q": _rollout(1, 1, 0.0)}])
    p = joined["p"]
    assert p["obs"].shape == (4, 3, 3) and p["actions"].shape == (3, 3)
    # The short rollout's extra row: masked, no reward, its last observation and state repeated.
    assert p["loss_mask"][:, 2].tolist() == [True, True, False]
    assert p["rewards"][:, 2].tolist() == [1.0, 1.0, 0.0]
    assert torch.equal(p["obs"][3, 2], p["obs"][2, 2])
    assert torch.equal(p["state_in"]["h"][3, 2], torch.full((2,), 5.0))
    assert joined["q"]["obs"].shape == (2, 1, 3)


def test_shards_cover_the_minibatch_and_weigh_by_unmasked_rows():
    batch = {"p": {"x": torch.arange(5.0), "loss_mask": torch.tensor([1, 1, 1, 0, 1]).bool()},
             "q": {"x": torch.arange(1.0)}}
    first, w0 = DataParallel(0, 2).shard(batch)
    second, w1 = DataParallel(1, 2).shard(batch)
    assert torch.cat([first["p"]["x"], second["p"]["x"]]).tolist() == [0, 1, 2, 3, 4]
    assert w0 == {"p": 3 / 4, "q": 1.0}
    assert w1 == {"p": 1 / 4}  # "q" has no rows on the second learner
