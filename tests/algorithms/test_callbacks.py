"""Callbacks with RLlib's new-stack names, and the metrics logger they write to."""

import math

import pytest
from rlmodules import hookimpl
from rlmodules.algorithms import Algorithm, PPOConfig
from rlmodules.algorithms.callbacks import RLlibCallback
from rlmodules.algorithms.metrics_logger import MetricsLogger
from rlmodules.cli import main
from rlmodules.errors import CallbackError, ConfigError, UnknownNameError


def _config():
    return (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=128, minibatch_size=128, num_epochs=1)
            .debugging(seed=0))


class Recorder(RLlibCallback):
    """Every hook it gets, and custom metrics from episodes and results."""

    def __init__(self):
        self.calls = []

    def on_algorithm_init(self, *, algorithm, metrics_logger, **kwargs):
        self.calls.append("on_algorithm_init")

    def on_episode_end(self, *, episode, metrics_logger, rl_module, **kwargs):
        self.calls.append("on_episode_end")
        metrics_logger.log_value("custom/episode_len", len(episode))
        metrics_logger.log_value("custom/episodes", 1, reduce="sum")
        assert episode.get_return() == episode.episode_return

    def on_evaluate_start(self, *, algorithm, metrics_logger, **kwargs):
        self.calls.append("on_evaluate_start")

    def on_evaluate_end(self, *, algorithm, metrics_logger, evaluation_metrics, **kwargs):
        self.calls.append("on_evaluate_end")
        evaluation_metrics["seen_by_callback"] = True

    def on_train_result(self, *, algorithm, metrics_logger, result, **kwargs):
        self.calls.append("on_train_result")
        metrics_logger.log_value("custom/iterations_seen", 1, reduce="sum")
        result["custom/from_result"] = result["training_iteration"] * 10

    def on_checkpoint_loaded(self, *, algorithm, **kwargs):
        self.calls.append("on_checkpoint_loaded")


def test_the_hooks_run_in_order_and_their_metrics_reach_the_result(tmp_path):
    algo = _config().callbacks(Recorder).evaluation(evaluation_interval=2,
                                                    evaluation_duration=2).build()
    recorder = algo.callbacks._calls["on_train_result"][0][1].__self__
    first = algo.train()
    second = algo.train()
    assert recorder.calls[0] == "on_algorithm_init"
    assert recorder.calls.count("on_train_result") == 2
    assert "on_evaluate_start" in recorder.calls and second["evaluation"]["seen_by_callback"]
    assert first["custom/episodes"] == first["num_episodes_lifetime"]  # a running total
    assert second["custom/episodes"] == second["num_episodes_lifetime"]
    assert first["custom/episode_len"] > 8 and first["custom/iterations_seen"] == 1
    assert second["custom/iterations_seen"] == 2 and second["custom/from_result"] == 20
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.stop()
    # A callbacks class handed over in-process is not saved: the checkpoint loads without
    # it, or with it when the config comes along.
    assert Algorithm.from_checkpoint(path).callbacks.wants("on_train_result") is False
    restored = Algorithm.from_checkpoint(path, config=_config().callbacks(Recorder))
    assert restored.callbacks._calls["on_checkpoint_loaded"][0][1].__self__.calls == [
        "on_algorithm_init", "on_checkpoint_loaded"]
    restored.stop()


def test_hook_functions_are_called_with_the_hooks_keywords():
    seen = []
    algo = _config().callbacks(
        on_train_result=lambda *, result, **kw: seen.append(result["training_iteration"]),
        on_episode_end=[lambda *, episode, **kw: None]).build()
    algo.train()
    algo.stop()
    assert seen == [1]


class Boom(RLlibCallback):
    def on_train_result(self, *, algorithm, result, **kwargs):
        if result["training_iteration"] == 2:
            raise ValueError("bad metric")


def test_a_raising_callback_is_named_with_its_hook_and_training_goes_on(tmp_path):
    algo = _config().callbacks(Boom).build()
    algo.train()
    with pytest.raises(CallbackError, match=r"^callback Boom.on_train_result raised "
                                            r"ValueError: bad metric$") as caught:
        algo.train()
    assert isinstance(caught.value.__cause__, ValueError)
    # The iteration was complete before the callback ran: counters and weights agree.
    assert algo.iteration == 2 and algo.timesteps == 256
    assert algo.train()["training_iteration"] == 3
    path = algo.save_to_path(tmp_path / "ckpt")
    algo.stop()
    assert Algorithm.from_checkpoint(path).timesteps == 384


class BadEpisodeHook(RLlibCallback):
    def on_episode_end(self, *, episode, **kwargs):
        raise KeyError("oops")


def test_an_episode_hook_that_raises_leaves_the_episode_counts_whole():
    algo = _config().callbacks(BadEpisodeHook).build()
    with pytest.raises(CallbackError, match="callback BadEpisodeHook.on_episode_end raised "
                                            "KeyError: 'oops'"):
        algo.train()
    assert algo.episodes == len(algo.recent_returns) > 1  # every finished episode counted
    algo.stop()


def test_misconfigured_callbacks_are_clear_errors():
    class Ported(RLlibCallback):
        def on_episode_step(self, *, episode, **kwargs):
            pass

    with pytest.raises(ConfigError, match="callbacks class .*Ported defines on_episode_step, "
                                          "which rlmodules does not call"):
        _config().callbacks(Ported).build()
    with pytest.raises(ConfigError, match="takes a class .* got int: 3"):
        _config().callbacks(3)
    with pytest.raises(ConfigError, match=r"callbacks\(on_train_result=...\) takes a function"):
        _config().callbacks(on_train_result="print")
    with pytest.raises(TypeError):
        _config().callbacks(on_train_results=print)  # RLlib's names only

    class NeedsArgs(RLlibCallback):
        def __init__(self, level):
            pass

    with pytest.raises(CallbackError, match="NeedsArgs could not be created without arguments"):
        _config().callbacks(NeedsArgs).build()


class Named(RLlibCallback):
    def on_train_result(self, *, result, metrics_logger, **kwargs):
        metrics_logger.log_value("custom/named", 1.0)


class CallbacksPlugin:
    @hookimpl
    def rlmodules_callbacks(self):
        return {"named_callbacks": Named}


def test_a_config_file_names_a_registered_callbacks_class(tmp_path, rlmodules_registry, capsys):
    rlmodules_registry.register_plugin(CallbacksPlugin(), name="mine")
    algo = _config().callbacks("named_callbacks").build()
    assert algo.train()["custom/named"] == 1.0
    algo.stop()
    toml = tmp_path / "run.toml"
    toml.write_text('[callbacks]\ncallbacks_class = "mine/named_callbacks"\n')
    run = tmp_path / "run"
    assert main(["train", "--config", str(toml), "--timesteps", "256", "--num-threads", "1",
                 "--out", str(run)]) == 0
    assert "custom/named" in (run / "metrics.csv").read_text().splitlines()[0]
    # The saved config names it, so the resumed run has it again.
    resumed = Algorithm.from_checkpoint(run / "checkpoint")
    assert resumed.callbacks.wants("on_train_result")
    resumed.stop()
    with pytest.raises(UnknownNameError, match="named_calbacks.*Did you mean 'named_callbacks'"):
        _config().callbacks("named_calbacks").build()


def test_a_saved_callbacks_import_path_is_not_imported():
    data = _config().to_dict()
    data["callbacks"] = {"callbacks_class": ["never_imported_pkg.cbs:Callbacks"]}
    with pytest.raises(UnknownNameError, match="callbacks import path 'never_imported_pkg.cbs:"
                                               "Callbacks' is refused: it is not registered"):
        PPOConfig.from_dict(data)
    assert "never_imported_pkg" not in __import__("sys").modules


def test_the_metrics_logger_reduces_each_key_as_it_was_logged():
    logger = MetricsLogger()
    for value in (1, 2, 3):
        logger.log_value("mean", value)
        logger.log_value("max", value, reduce="max")
        logger.log_value("total", value, reduce="sum")
        logger.log_value("last2", value, window=2)
    assert logger.peek("mean") == 2 and logger.keys() == ["mean", "max", "total", "last2"]
    assert logger.reduce() == {"mean": 2.0, "max": 3.0, "total": 6.0, "last2": 2.5}
    logger.log_value("total", 4, reduce="sum")
    # Per-iteration keys without new values are left out; sums and windows stay.
    assert logger.reduce() == {"total": 10.0, "last2": 2.5}
    with pytest.raises(ConfigError, match="unknown reduce='mena'. Did you mean 'mean'?"):
        logger.log_value("x", 1, reduce="mena")
    with pytest.raises(ConfigError, match="the key was first logged with reduce='mean'"):
        logger.log_value("mean", 1, reduce="min")
    with pytest.raises(ConfigError, match="the value must be a number"):
        logger.log_value("text", "high")
    with pytest.raises(ConfigError, match="window must be None or an int >= 1"):
        logger.log_value("w", 1, window=0)
    import numpy as np
    import torch

    logger.log_value("tensors", torch.tensor(1.5))
    logger.log_value("tensors", np.float32(2.5))
    assert math.isclose(logger.reduce()["tensors"], 2.0)


def test_a_custom_metric_may_not_replace_a_builtin_one():
    algo = _config().callbacks(
        on_train_result=lambda *, metrics_logger, **kw: metrics_logger.log_value(
            "episode_return_mean", 1.0)).build()
    with pytest.raises(ConfigError, match=r"metrics_logger key\(s\) \['episode_return_mean'\] "
                                          r"are metrics the algorithm reports itself"):
        algo.train()
    algo.stop()
