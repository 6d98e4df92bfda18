"""EnvPool as an env backend: the same spaces, dtypes and semantics as the gymnasium Atari
stack (life loss, reward clipping, whole games in evaluation), MuJoCo spaces, training
through it, and our errors for what it does not ship."""

from __future__ import annotations

import numpy as np
import pytest
from rlmodules.algorithms import PPOConfig
from rlmodules.errors import ConfigError

pytest.importorskip("envpool")
from rlmodules.envs import AtariEnv  # noqa: E402
from rlmodules.envs.envpool_env import EnvPoolEnv, EnvPoolVectorEnv, envpool_task  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def pool(env_id: str, num_envs: int = 2, **config) -> EnvPoolVectorEnv:
    task, kwargs = envpool_task(AtariEnv, {"env_id": env_id, **config})
    return EnvPoolVectorEnv(task, kwargs, num_envs=num_envs)


def _play(envs: EnvPoolVectorEnv, steps: int, seed: int = 0):
    """Random play; returns the rewards seen, the raw scores, the lives at each episode end
    and how often lives dropped without an episode ending."""
    rng = np.random.default_rng(seed)
    envs.reset(seed=seed)
    rewards, raw, lives_at_end, silent_losses = set(), set(), [], 0
    lives = None
    for _ in range(steps):
        actions = rng.integers(envs.single_action_space.n, size=envs.num_envs)
        _, reward, terminated, truncated, info = envs.step(actions)
        rewards.update(reward.tolist())
        raw.update(info["reward"].tolist())
        done = terminated | truncated
        lives_at_end += info["lives"][done].tolist()
        if lives is not None:
            silent_losses += int(((info["lives"] < lives) & ~done).sum())
        lives = info["lives"]
    return rewards, raw, lives_at_end, silent_losses


def test_pong_has_the_gymnasium_stacks_spaces_and_dtypes():
    pytest.importorskip("ale_py")
    gymnasium_env = AtariEnv(config={"env_id": "ALE/Pong-v5"})
    envs = pool("ALE/Pong-v5", num_envs=3)
    obs, _ = envs.reset(seed=0)
    assert envs.single_observation_space == gymnasium_env.observation_space
    assert envs.single_action_space == gymnasium_env.action_space
    assert obs.shape == (3, 4, 84, 84) and obs.dtype == np.uint8
    reference, _ = gymnasium_env.reset(seed=0)
    # At reset both stacks hold the first frame four times; the frames look alike (the
    # builds' grayscale and resizing differ by a level or two, noop counts differ).
    assert all(np.array_equal(obs[0, 0], obs[0, i]) for i in range(4))
    assert all(np.array_equal(reference[0], reference[i]) for i in range(4))
    assert abs(float(obs[0].mean()) - float(reference.mean())) < 3.0
    obs, reward, terminated, truncated, _ = envs.step(np.zeros(3, dtype=np.int64))
    assert reward.dtype == np.float32 and terminated.dtype == truncated.dtype == np.bool_
    envs.close()


def test_training_ends_episodes_at_a_lost_life_and_evaluation_plays_whole_games():
    _, _, lives_at_end, silent = _play(pool("ALE/Breakout-v5"), 600)
    assert len(lives_at_end) >= 3 and any(life > 0 for life in lives_at_end) and silent == 0
    _, _, lives_at_end, silent = _play(pool("ALE/Breakout-v5", training=False), 600)
    assert all(life == 0 for life in lives_at_end) and silent > 0  # lives lost, play on


def test_rewards_are_clipped_to_their_sign_in_training_only():
    clipped, raw, _, _ = _play(pool("ALE/SpaceInvaders-v5"), 300)
    assert clipped <= {0.0, 1.0} and max(raw) > 1.0
    unclipped, _, _, _ = _play(pool("ALE/SpaceInvaders-v5", training=False), 300)
    assert max(unclipped) > 1.0


def test_next_step_autoreset_like_gymnasium():
    envs = pool("ALE/Breakout-v5", num_envs=1)
    envs.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(2000):
        _, _, terminated, truncated, info = envs.step(rng.integers(4, size=1))
        if terminated[0] or truncated[0]:
            step_before = int(info["elapsed_step"][0])
            _, reward, terminated, truncated, info = envs.step(np.zeros(1, dtype=np.int64))
            # The step after an end is the reset step: no reward, no end, time not advanced.
            assert reward[0] == 0 and not terminated[0] and not truncated[0]
            assert int(info["elapsed_step"][0]) <= step_before
            return
    pytest.fail("no episode ended")


def test_mujoco_ids_get_gymnasiums_spaces():
    gym = pytest.importorskip("gymnasium")
    pytest.importorskip("mujoco")
    task, kwargs = envpool_task("HalfCheetah-v5", {})
    env = EnvPoolEnv(task, kwargs)
    reference = gym.make("HalfCheetah-v5")
    assert env.observation_space.shape == reference.observation_space.shape
    assert env.action_space == reference.action_space
    obs, _ = env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert obs.shape == (17,) and isinstance(reward, float) and not terminated
    env.close()
    reference.close()


@pytest.mark.parametrize("env, env_config, message", [
    ("CartPole-v1", {},
     "env_backend='envpool' covers an Atari game (the AtariEnv preprocessing) or a MuJoCo "
     "task that EnvPool ships, and EnvPool has no 'CartPole-v1'; use "
     "env_backend='gymnasium' (the default), which makes it with gymnasium.make (Atari ids "
     "through rlmodules.envs.AtariEnv)"),
    ("rlmodules.envs:AtariEnv", {"env_id": "ALE/NotAGame-v5"},
     "env_backend='envpool' covers an Atari game that EnvPool ships, and EnvPool has no "
     "'ALE/NotAGame-v5'; use env_backend='gymnasium' (the default), which makes it with "
     "gymnasium.make (Atari ids through rlmodules.envs.AtariEnv)"),
    ("HalfCheetah-v5", {"ctrl_cost_weight": 0.2},
     "env_backend='envpool' runs 'HalfCheetah-v5' with EnvPool's defaults; its env_config "
     "{'ctrl_cost_weight': 0.2} is gymnasium's keywords. Drop it, or use "
     "env_backend='gymnasium'"),
    ("CartPole-v1", None,
     "env_backend='pybullet' is not known; use 'gymnasium' (the default) or 'envpool' "
     "(EnvPool's Atari and MuJoCo envs)"),
])
def test_what_envpool_cannot_run_is_our_error_at_build(env, env_config, message):
    backend = "pybullet" if env_config is None else "envpool"
    config = PPOConfig().environment(env, env_config=env_config or {}).env_runners(
        env_backend=backend)
    with pytest.raises(ConfigError) as info:
        config.build()
    assert str(info.value) == message


def test_ppo_trains_on_envpool_pong_with_the_atari_preset():
    pytest.importorskip("rlmodules_cnn")
    from rlmodules.algorithms.presets import atari_preset

    config = PPOConfig().update_from_dict(atari_preset("ALE/Pong-v5"))
    config.env_runners(num_envs_per_env_runner=2, env_backend="envpool")
    config.training(train_batch_size=64, minibatch_size=64, num_epochs=1,
                    lr=2.5e-4, clip_param=0.1)
    algo = config.debugging(seed=0).build()
    try:
        assert type(algo.sampler.env).__name__ == "EnvPoolVectorEnv"
        result = algo.train()
        assert result["num_env_steps_sampled_lifetime"] == 64
        assert np.isfinite(result["learner/total_loss"])
    finally:
        algo.stop()


def test_without_envpool_installed_the_error_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "envpool", None)
    config = PPOConfig().environment("HalfCheetah-v5").env_runners(env_backend="envpool")
    with pytest.raises(ConfigError, match=r"env_backend='envpool' needs EnvPool .*; install it "
                                          r"with `pip install \"rlmodules\[envpool\]\"`, or use "
                                          r"env_backend='gymnasium' \(the default\)"):
        config.build()
