"""Suite files of `rlmodules benchmark`: the bundled reference suite, and bad files named."""

import pytest
from rlmodules.cli.benchmark_suite import read_suite
from rlmodules.errors import ConfigError


def test_the_reference_suite_runs_every_reference_preset_at_its_budget():
    suite = read_suite("reference")
    tasks = {task.name: task for task in suite.tasks}
    assert len(tasks) == 13 and suite.description.startswith("rl-zoo's reference tasks")
    dqn = tasks["dqn/CartPole-v1"]
    assert (dqn.algo, dqn.env, dqn.threshold, dqn.reference) == \
        ("dqn", "CartPole-v1", 475.0, 500.0)
    assert dqn.timesteps <= 100_000 and dqn.eval_episodes == 50
    assert tasks["sac/HalfCheetah-v5"].eval_episodes == 10
    assert tasks["ppo/CartPole-v1"].settings["training"]["lr"][-1] == [100_000, 0.0]


def write(tmp_path, text):
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


def test_task_overrides_merge_over_the_preset(tmp_path):
    suite = read_suite(write(tmp_path, """
[[task]]
preset = "ppo/CartPole-v1"
timesteps = 2048
threshold = 100
settings = { training = { num_epochs = 2 }, rl_module = { model_config = { fcnet_hiddens = [8] } } }
"""))
    (task,) = suite.tasks
    assert task.timesteps == 2048 and task.threshold == 100.0
    assert task.settings["training"]["num_epochs"] == 2
    assert task.settings["training"]["lr"] == [[0, 1e-3], [2048, 0.0]]  # the preset's, filled
    assert task.settings["rl_module"]["model_config"] == {"fcnet_hiddens": [8],
                                                          "vf_share_layers": False}
    assert task.eval_episodes == 50 and task.eval_interval == 10_000


@pytest.mark.parametrize("text, message", [
    ("[suite]\neval_episodes = 5\n", r"has no \[\[task\]\] entries"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\nseed = 3\n',
     r"\[\[task\]\] 1 has an unknown key 'seed'. It takes preset, timesteps"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\ntimestep = 3\n',
     r"unknown key 'timestep'. Did you mean 'timesteps'\?"),
    ('[[task]]\ntimesteps = 3\n', r"\[\[task\]\] 1 lacks its preset"),
    ('[[task]]\npreset = "dqn/Pong"\n', r"no bundled preset 'dqn/Pong'"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\ntimesteps = 0\n', r"timesteps must be >= 1, got 0"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\nsettings = 3\n', r"settings must be a table, got 3"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\n[[task]]\npreset = "dqn/CartPole-v1"\n',
     r"lists dqn/CartPole-v1 more than once"),
    ('[suite]\neval_episodes = true\n[[task]]\npreset = "dqn/CartPole-v1"\n',
     r"\[suite\] eval_episodes must be int, got True"),
    ('[tasks]\n', r"the file has an unknown key 'tasks'. Did you mean 'task'\?"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\nsettings = { environment = { env = "os:x" } }\n',
     r"settings has a section 'environment'; a task may change training, env_runners, "
     r"evaluation, rl_module \(its env is its preset's\)"),
    ('[[task]]\npreset = "dqn/CartPole-v1"\n'
     'settings = { rl_module = { module_class = "os.path:join" } }\n',
     r"names the module 'os.path:join' by import path; a suite names modules by registered "
     r"name"),
])
def test_bad_suites_are_named(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        read_suite(path)


def test_a_missing_suite_lists_the_bundled_ones():
    with pytest.raises(ConfigError, match=r"suite 'referense': no such file, nor a bundled "
                       r"suite \(bundled: reference\)"):
        read_suite("referense")
