"""Env runners as Ray actors: training, recurrent and multi-agent modules, fault tolerance."""

from __future__ import annotations

import pytest
from ray_test_envs import BrokenCartPole
from rlmodules import RLModuleSpec, hookimpl, registry
from rlmodules.algorithms import EnvRunnerError, PPOConfig
from rlmodules.algorithms.presets import preset_for
from rlmodules.envs import MultiAgentCartPole
from rlmodules.errors import CheckpointError, ConfigError
from rlmodules.plugins import DefaultPPOTorchRLModule

pytestmark = pytest.mark.usefixtures("ray_cluster")


def cartpole(runners: int = 2, **runner_settings) -> PPOConfig:
    """The tuned CartPole preset (8 envs: 2 runners x 4), one torch thread per process."""
    config = PPOConfig().environment("CartPole-v1")
    config.update_from_dict(preset_for("CartPole-v1", 100_000))
    return (config.env_runners(num_env_runners=runners, num_envs_per_env_runner=8 // runners,
                               num_threads=1, **runner_settings)
            .debugging(seed=0))


def train_until(algo, target: float, max_iterations: int) -> list[dict]:
    results = []
    for _ in range(max_iterations):
        results.append(algo.train())
        if results[-1]["episode_return_mean"] >= target:
            break
    return results


def test_two_runners_train_cartpole_and_survive_a_killed_runner():
    import ray

    algo = cartpole().build()
    try:
        before = train_until(algo, 1e9, 10)
        ray.kill(algo.env_runner_group.actors[0])
        after = train_until(algo, 80.0, 60)
    finally:
        algo.stop()
    assert before[0]["episode_return_mean"] < 40.0  # about 22 with the initial policy
    assert after[-1]["episode_return_mean"] >= 80.0
    assert [r["num_env_runner_restarts"] for r in (before[-1], after[0])] == [0, 1]
    assert after[-1]["num_env_runners_alive"] == 2
    # The iteration that lost a runner still sampled the whole batch.
    assert after[0]["num_env_steps_sampled_lifetime"] == 11 * 256


@pytest.mark.slow
def test_two_runners_solve_cartpole_though_one_is_killed():
    import ray

    algo = cartpole().build()
    try:
        train_until(algo, 1e9, 50)
        ray.kill(algo.env_runner_group.actors[1])
        results = train_until(algo, 475.0, 100_000 // 256 - 50)
    finally:
        algo.stop()
    assert results[-1]["episode_return_mean"] >= 475.0
    assert results[-1]["num_env_runner_restarts"] == 1


def broken(**env_config) -> PPOConfig:
    return (PPOConfig().environment(BrokenCartPole, env_config=env_config)
            .env_runners(num_threads=1)
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1))


def test_a_runner_whose_env_keeps_raising_fails_after_its_restarts():
    config = broken(fail_after=10).env_runners(num_env_runners=1, max_num_env_runner_restarts=1)
    algo = config.build()
    try:
        with pytest.raises(EnvRunnerError) as info:
            algo.train()
        assert algo.env_runner_group.restarts == [1]
    finally:
        algo.stop()
    assert str(info.value) == (
        "env runner 0 failed again after 1 restarts (max_num_env_runner_restarts=1): "
        "RuntimeError: simulator crashed at step 11")


def test_a_hung_runner_is_bounded_by_the_sample_timeout():
    config = broken(fail_after=5, hang_s=60).env_runners(
        num_env_runners=1, sample_timeout_s=1.0, restart_failed_env_runners=False)
    algo = config.build()
    try:
        with pytest.raises(EnvRunnerError) as info:
            algo.train()
    finally:
        algo.stop()
    assert str(info.value) == (
        "env runner 0 failed: TimeoutError: no sample within sample_timeout_s=1.0. Set "
        "restart_failed_env_runners=True to restart failed runners and go on")


def test_runners_the_cluster_cannot_place_are_an_error_naming_the_cpus():
    # Checked before any actor starts: no waiting for CPUs the cluster does not have.
    with pytest.raises(ConfigError) as info:
        cartpole(runners=1, num_cpus_per_env_runner=3).build()
    assert str(info.value) == (
        "num_env_runners=1 x num_cpus_per_env_runner=3 need 3 CPUs, and the Ray cluster has "
        "2 in all; ask for fewer actors or fewer CPUs each (e.g. num_cpus_per_env_runner=0.5), "
        "or join a larger cluster (ray_address)")


class NotOnTheWorkers:
    """A plugin registered in this process only: the runners' registries lack it."""

    @hookimpl
    def rlmodules_modules(self):
        return {"driver_only_ppo": DriverOnlyPPO}


class DriverOnlyPPO(DefaultPPOTorchRLModule):
    pass


def test_a_runner_without_the_module_plugin_names_it():
    registry.register_plugin(NotOnTheWorkers(), name="driver-only")
    config = cartpole(runners=1).rl_module(
        rl_module_spec=RLModuleSpec(module_class="driver_only_ppo"))
    try:
        with pytest.raises(CheckpointError) as info:
            config.build()
    finally:
        registry.unregister_plugin("driver-only")
    message = str(info.value)
    assert message.startswith("env runner 0 could not start: checkpoint ")
    assert "needs module 'driver-only/driver_only_ppo', which is not installed; register " \
           "the plugin that provides it (it was registered in-process)" in message


def test_the_lstm_plugin_module_trains_on_stateless_cartpole_with_two_runners():
    if "lstm" not in [record.name for record in registry.list("module")]:
        pytest.skip("rlmodules-lstm is not installed")
    config = (
        PPOConfig().environment("rlmodules.envs:StatelessCartPole")
        .env_runners(num_env_runners=2, num_envs_per_env_runner=4, num_threads=1)
        .training(lr=1e-3, train_batch_size=1024, minibatch_size=256, num_epochs=10,
                  vf_loss_coeff=0.01, vf_clip_param=10.0, grad_clip=None)
        .rl_module(rl_module_spec=RLModuleSpec(
            module_class="lstm",
            model_config={"lstm_cell_size": 64, "dense_layers": [64], "max_seq_len": 32}))
        .debugging(seed=0)
    )
    algo = config.build()
    try:
        results = train_until(algo, 30.0, 20)
    finally:
        algo.stop()
    assert results[-1]["episode_return_mean"] >= 30.0 > 25.0 > results[0]["episode_return_mean"]


def test_multi_agent_cartpole_trains_with_two_runners():
    config = (
        PPOConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
        .multi_agent(policies={"p0", "p1"},
                     policy_mapping_fn=lambda agent_id, episode, **kw: f"p{agent_id}")
        .env_runners(num_env_runners=2, num_envs_per_env_runner=2, num_threads=1)
        .training(lr=1e-3, train_batch_size=512, minibatch_size=128, num_epochs=6,
                  gamma=0.98, lambda_=0.8)
        .rl_module(rl_module_spec=RLModuleSpec(model_config={"fcnet_hiddens": [64, 64]}))
        .debugging(seed=0)
    )
    algo = config.build()
    try:
        results = train_until(algo, 70.0, 30)
    finally:
        algo.stop()
    per_module = results[-1]["module_episode_returns_mean"]
    assert sorted(per_module) == ["p0", "p1"]
    # The sum over both agents: about 42 with the initial policies.
    assert results[-1]["episode_return_mean"] >= 70.0 > 50.0 > results[0]["episode_return_mean"]
