"""Env runners as Ray actors: training, recurrent and multi-agent modules, fault tolerance."""

from __future__ import annotations

import pytest
from ray_test_envs import BrokenCartPole
from rlmodules import RLModuleSpec, hookimpl, registry
from rlmodules.algorithms import EnvRunnerError, PPOConfig
from rlmodules.envs import MultiAgentCartPole
from rlmodules.errors import CheckpointError
from rlmodules.plugins import DefaultPPOTorchRLModule

pytestmark = pytest.mark.usefixtures("ray_cluster")


def cartpole(runners: int = 2, **runner_settings) -> PPOConfig:
    return (
        PPOConfig()
        .environment("CartPole-v1")
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=4, **runner_settings)
        .training(lr=1e-3, train_batch_size=512, minibatch_size=128, num_epochs=6,
                  gamma=0.98, lambda_=0.8)
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "vf_share_layers": False})
        .debugging(seed=0)
    )


def train_until(algo, target: float, max_iterations: int) -> list[dict]:
    results = []
    for _ in range(max_iterations):
        results.append(algo.train())
        if results[-1]["episode_return_mean"] >= target:
            break
    return results


def test_two_runners_train_cartpole():
    algo = cartpole().build()
    try:
        results = train_until(algo, 80.0, 25)
    finally:
        algo.stop()
    last = results[-1]
    assert last["episode_return_mean"] >= 80.0  # from about 22 with the initial policy
    assert results[0]["episode_return_mean"] < 40.0
    assert last["num_env_runners_alive"] == 2 and last["num_env_runner_restarts"] == 0
    assert last["num_env_steps_sampled_lifetime"] == 512 * len(results)


@pytest.mark.slow
def test_two_runners_solve_cartpole():
    algo = cartpole().build()
    try:
        results = train_until(algo, 475.0, 200)
    finally:
        algo.stop()
    assert results[-1]["episode_return_mean"] >= 475.0


def test_a_killed_runner_is_restarted_and_training_goes_on():
    import ray

    algo = cartpole().build()
    try:
        before = train_until(algo, 1e9, 2)[-1]
        ray.kill(algo.env_runner_group.actors[0])
        results = train_until(algo, 60.0, 20)
    finally:
        algo.stop()
    assert results[-1]["episode_return_mean"] >= 60.0 > before["episode_return_mean"]
    assert results[0]["num_env_runner_restarts"] == 1
    assert results[-1]["num_env_runners_alive"] == 2
    # The iteration that lost a runner still sampled the whole batch.
    assert results[0]["num_env_steps_sampled_lifetime"] == 3 * 512


def broken(**env_config) -> PPOConfig:
    return (PPOConfig().environment(BrokenCartPole, env_config=env_config)
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1))


def test_a_runner_whose_env_keeps_raising_fails_after_its_restarts():
    config = broken(fail_after=10).env_runners(num_env_runners=1, max_num_env_runner_restarts=2)
    algo = config.build()
    try:
        with pytest.raises(EnvRunnerError) as info:
            algo.train()
        assert algo.env_runner_group.restarts == [2]
    finally:
        algo.stop()
    assert str(info.value) == (
        "env runner 0 failed again after 2 restarts (max_num_env_runner_restarts=2): "
        "RuntimeError: simulator crashed at step 11")


def test_without_restarts_the_first_failure_is_the_error():
    config = broken(fail_after=10).env_runners(num_env_runners=1,
                                               restart_failed_env_runners=False)
    algo = config.build()
    try:
        with pytest.raises(EnvRunnerError) as info:
            algo.train()
    finally:
        algo.stop()
    assert str(info.value) == (
        "env runner 0 failed: RuntimeError: simulator crashed at step 11. Set "
        "restart_failed_env_runners=True to restart failed runners and go on")


def test_a_hung_runner_is_bounded_by_the_sample_timeout():
    config = broken(fail_after=5, hang_s=60).env_runners(
        num_env_runners=1, sample_timeout_s=1.0, max_num_env_runner_restarts=0)
    algo = config.build()
    try:
        with pytest.raises(EnvRunnerError) as info:
            algo.train()
    finally:
        algo.stop()
    assert str(info.value) == (
        "env runner 0 failed again after 0 restarts (max_num_env_runner_restarts=0): "
        "TimeoutError: no sample within sample_timeout_s=1.0")


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
        .env_runners(num_env_runners=2, num_envs_per_env_runner=4)
        .training(lr=1e-3, train_batch_size=1024, minibatch_size=256, num_epochs=10,
                  vf_loss_coeff=0.01, vf_clip_param=10.0, grad_clip=None)
        .rl_module(rl_module_spec=RLModuleSpec(
            module_class="lstm",
            model_config={"lstm_cell_size": 64, "dense_layers": [64], "max_seq_len": 32}))
        .debugging(seed=0)
    )
    algo = config.build()
    try:
        results = train_until(algo, 40.0, 15)
    finally:
        algo.stop()
    assert results[-1]["episode_return_mean"] >= 40.0 > results[0]["episode_return_mean"]


def test_multi_agent_cartpole_trains_with_two_runners():
    config = (
        PPOConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
        .multi_agent(policies={"p0", "p1"},
                     policy_mapping_fn=lambda agent_id, episode, **kw: f"p{agent_id}")
        .env_runners(num_env_runners=2, num_envs_per_env_runner=2)
        .training(lr=1e-3, train_batch_size=512, minibatch_size=128, num_epochs=6,
                  gamma=0.98, lambda_=0.8)
        .rl_module(rl_module_spec=RLModuleSpec(model_config={"fcnet_hiddens": [64, 64]}))
        .debugging(seed=0)
    )
    algo = config.build()
    try:
        results = train_until(algo, 80.0, 20)
    finally:
        algo.stop()
    per_module = results[-1]["module_episode_returns_mean"]
    assert sorted(per_module) == ["p0", "p1"]
    assert results[-1]["episode_return_mean"] >= 80.0 > results[0]["episode_return_mean"]
