"""A name read from a file resolves only to what was registered (plugins, rlmodules' own
envs and config classes, gymnasium's registry) or to an object handed over in this process
(``env=``, ``trusted_objects=``, ``allow_import=True``, ``--allow-import``). That a module is
imported already is no reason: ``subprocess``, ``os`` and ``builtins`` always are.

The property-based sweep over every name field of every file kind is in
``test_trust_names_fuzz.py``; here are the attacks and journeys, with the exact messages.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import pytest
from _trust_attacks import CANARY, FORMS, install_canary, read_json, write_signed
from rlmodules import CheckpointError, ConfigError, RLModule, RLModuleSpec, registry
from rlmodules.cli import main

HOW = ("register it with a plugin, hand the object over (trusted_objects=[...]), or pass "
       "allow_import=True (--allow-import on the command line) if you trust this file")
FAST = ["--timesteps", "256", "--num-threads", "1", "--seed", "0"]


def refusal(source, names):
    return (f"{source} names code by import path that no plugin registers: {names}. "
            f"rlmodules imports code named in a file only when you say so: if you trust it, "
            f"pass --allow-import")


@pytest.fixture
def canary(tmp_path, monkeypatch):
    return install_canary(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A `rlmodules train` run (its config records the module spec)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", *FAST, "--module", "ppo", "--out", str(run)]) == 0
    return run


@pytest.fixture
def run(trained, tmp_path, capsys):
    capsys.readouterr()
    return Path(shutil.copytree(trained, tmp_path / "run"))


def edit_config(checkpoint, **fields):
    state = read_json(checkpoint / "algorithm_state.json")
    state["config"].update(fields)
    write_signed(checkpoint / "algorithm_state.json", state)


# --- the attack ---------------------------------------------------------------------------------
def test_a_checkpoint_whose_env_runs_a_command_is_refused_everywhere(run, canary, capsys):
    from rlmodules.algorithms import Algorithm

    checkpoint = run / "checkpoint"
    edit_config(checkpoint, env="subprocess:Popen", env_config={"args": canary.command})
    with pytest.raises(CheckpointError) as caught:
        Algorithm.from_checkpoint(checkpoint)
    assert str(caught.value) == (
        f"{checkpoint}: env import path 'subprocess:Popen' is refused: it is not registered, "
        f"and rlmodules never imports a name read from a file; {HOW}")
    for command in (["eval", str(run)], ["record", str(run), "--episodes", "1", "--out",
                                         str(run.parent / "eps")],
                    ["train", "--resume", str(run), "--timesteps", "512"]):
        assert main(command) == 1
        assert capsys.readouterr().err == (
            f"rlmodules {command[0]}: error: {refusal(checkpoint, 'subprocess:Popen')}\n")
    assert main(["inspect", str(run)]) == 0  # shows the env, runs nothing
    assert "subprocess:Popen" in capsys.readouterr().out
    canary.check_finally()


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_named_env_is_refused(run, canary, form):
    from rlmodules.algorithms import Algorithm

    edit_config(run / "checkpoint", env=form, env_config={"args": canary.command})
    with pytest.raises(CheckpointError, match=r"is refused: (it is not registered|it would "
                                              r"import module)"):
        Algorithm.from_checkpoint(run / "checkpoint")
    canary.check(form)


@pytest.mark.parametrize("form", ["subprocess:Popen", "rlmodules.envs:subprocess.Popen"])
def test_a_named_policy_mapping_fn_or_module_class_is_refused(run, canary, form):
    from rlmodules.algorithms import Algorithm

    checkpoint = run / "checkpoint"
    edit_config(checkpoint, policy_mapping_fn=form)
    with pytest.raises(CheckpointError, match=rf"policy_mapping_fn '{form}' is refused"):
        Algorithm.from_checkpoint(checkpoint)
    state = read_json(checkpoint / "algorithm_state.json")
    state["config"]["policy_mapping_fn"] = None
    state["config"]["rl_module_spec"]["spec"]["module_class"] = form
    write_signed(checkpoint / "algorithm_state.json", state)
    with pytest.raises(CheckpointError, match=rf"module import path '{form}' is refused"):
        Algorithm.from_checkpoint(checkpoint)
    canary.check(form)


# --- what loads without an opt-in, in a fresh process ------------------------------------------
def test_registered_envs_and_library_classes_load_in_a_fresh_process(tmp_path, run_fresh):
    """The env kind (rlmodules list env), the container class and the config classes are
    registered, so a fresh process, which imported none of them, loads them from a file."""
    from rlmodules.algorithms import PPOConfig
    from rlmodules.envs import MultiAgentCartPole

    algo = (PPOConfig().environment(MultiAgentCartPole, env_config={"num_agents": 2})
            .training(train_batch_size=64, minibatch_size=64, num_epochs=1).build())
    algo.save_to_path(tmp_path / "ma")
    algo.stop()
    shutil.copytree(tmp_path / "ma", tmp_path / "atari")
    edit_config(tmp_path / "atari", env="rlmodules.envs:AtariEnv",  # the Atari preset's name
                env_config={"env_id": "ALE/Pong-v5"})
    out = run_fresh(f"""
        import sys
        from rlmodules.algorithms import Algorithm
        from rlmodules.algorithms.checkpoint import saved_config
        assert "rlmodules.envs.multi_agent_cartpole" not in sys.modules
        algo = Algorithm.from_checkpoint({str(tmp_path / "ma")!r})
        atari = saved_config({str(tmp_path / "atari")!r})
        print(algo.config.env.__name__, type(algo.module).__name__, atari.env.__name__)
    """)
    assert out == "MultiAgentCartPole MultiRLModule AtariEnv"


def test_env_kind_lists_the_built_in_envs(capsys):
    assert main(["list", "env"]) == 0
    out = capsys.readouterr().out
    for name in ("multi_agent_cartpole", "stateless_cartpole", "atari"):
        assert name in out


# --- objects handed over ---------------------------------------------------------------------
class LocalEnv(gym.Wrapper):
    """An env class nothing registers: a checkpoint names it by import path."""

    def __init__(self, config=None):
        super().__init__(gym.make("CartPole-v1"))


def map_to_shared(agent_id, episode, **kwargs):
    return "shared"


def test_handed_over_envs_and_functions_load(tmp_path, canary):
    from rlmodules.algorithms import Algorithm, PPOConfig
    from rlmodules.envs import MultiAgentCartPole

    small = dict(train_batch_size=64, minibatch_size=64, num_epochs=1)
    algo = PPOConfig().environment(LocalEnv).training(**small).build()
    path = algo.save_to_path(tmp_path / "local")
    algo.stop()
    name = f"{LocalEnv.__module__}:LocalEnv"
    with pytest.raises(CheckpointError, match=rf"env import path '{name}' is refused"):
        Algorithm.from_checkpoint(path)
    for loaded, env in ((Algorithm.from_checkpoint(path, trusted_objects=[LocalEnv]), LocalEnv),
                        (Algorithm.from_checkpoint(path, env="CartPole-v1"), "CartPole-v1"),
                        (Algorithm.from_checkpoint(path, allow_import=True), None)):
        assert loaded.config.env == env or loaded.config.env.__name__ == "LocalEnv"
        loaded.stop()
    algo = (PPOConfig().environment(MultiAgentCartPole)
            .multi_agent(policies={"shared"}, policy_mapping_fn=map_to_shared)
            .training(**small).build())
    path = algo.save_to_path(tmp_path / "mapped")
    algo.stop()
    with pytest.raises(CheckpointError, match=r"policy_mapping_fn '.*:map_to_shared' is "
                                              r"refused: it is not registered"):
        Algorithm.from_checkpoint(path)
    loaded = Algorithm.from_checkpoint(path, trusted_objects=[map_to_shared])
    assert loaded.config.policy_mapping_fn is map_to_shared
    loaded.stop()
    canary.check()


def test_a_module_class_nothing_registers_is_handed_over(tmp_path, canary):
    from _checkpoint_modules import (
        ACT,
        OBS,
        MultiAgentPGWithSharedEncoder,
        PGPolicyUsingSharedEncoder,
        shared_encoder_spec,
    )

    path = shared_encoder_spec().build().save_to_path(tmp_path / "c")
    name = f"{MultiAgentPGWithSharedEncoder.__module__}:MultiAgentPGWithSharedEncoder"
    with pytest.raises(CheckpointError) as caught:
        RLModule.from_checkpoint(path)
    assert str(caught.value) == (
        f"{Path(path).absolute()}: module import path {name!r} is refused: it is not "
        f"registered, and rlmodules never imports a name read from a file; {HOW}")
    loaded = RLModule.from_checkpoint(
        path, trusted_objects=[MultiAgentPGWithSharedEncoder, PGPolicyUsingSharedEncoder])
    assert type(loaded) is MultiAgentPGWithSharedEncoder
    with pytest.raises(ConfigError, match=r"trusted_objects holds 3, which has no __module__ "
                                          r"and __qualname__ a file could name it by"):
        RLModule.from_checkpoint(path, trusted_objects=[3])
    single = RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=ACT).build()
    single.as_multi_rl_module().save_to_path(tmp_path / "m")  # the registered container
    assert type(RLModule.from_checkpoint(tmp_path / "m")).__name__ == "MultiRLModule"
    canary.check()


# --- the command line ---------------------------------------------------------------------------
@pytest.fixture
def user_package(tmp_path, monkeypatch):
    """A user's own module class and env factory, named by import path on the command line."""
    site = tmp_path / "user-site"
    (site / "trust_user_pkg").mkdir(parents=True)
    (site / "trust_user_pkg" / "__init__.py").write_text("")
    (site / "trust_user_pkg" / "mods.py").write_text(textwrap.dedent("""
        from rlmodules.plugins.ppo import DefaultPPOTorchRLModule

        class MyPPO(DefaultPPOTorchRLModule):
            pass
    """))
    (site / "trust_user_pkg" / "envs.py").write_text(textwrap.dedent("""
        import gymnasium as gym

        def make_env(config):
            return gym.make("CartPole-v1")
    """))
    monkeypatch.syspath_prepend(str(site))
    for name in ("trust_user_pkg", "trust_user_pkg.mods", "trust_user_pkg.envs"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_a_run_of_the_users_own_code_needs_allow_import_once(tmp_path, user_package, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--module", "trust_user_pkg.mods:MyPPO",
                 "--env", "trust_user_pkg.envs:make_env", "--out", str(run)]) == 0
    checkpoint = run / "checkpoint"
    both = "trust_user_pkg.envs:make_env, trust_user_pkg.mods:MyPPO"
    commands = {
        "eval": (["eval", str(run), "--episodes", "1"], both),
        "record": (["record", str(run), "--episodes", "1", "--out", str(tmp_path / "e")], both),
        "train": (["train", "--resume", str(run), "--timesteps", "512"], both),
    }
    if "onnx" in {rec.name for rec in registry.list("export_format")}:
        commands["export"] = (["export", str(run), "--out", str(tmp_path / "x"),
                               "--no-verify"], "trust_user_pkg.mods:MyPPO")
    capsys.readouterr()
    for command, names in commands.values():
        assert main(command) == 1
        assert capsys.readouterr().err == (
            f"rlmodules {command[0]}: error: {refusal(checkpoint, names)}\n")
        assert main([*command, "--allow-import"]) == 0, capsys.readouterr().err
    assert main(["eval", str(run), "--episodes", "1", "--env", "CartPole-v1"]) == 1
    assert refusal(checkpoint, "trust_user_pkg.mods:MyPPO") in capsys.readouterr().err


@pytest.mark.parametrize("name", [f"{CANARY}:Evil", f"x/{CANARY}:Evil"])
@pytest.mark.parametrize("field", ["module_class", "catalog_class"])
def test_a_registered_name_that_is_an_import_path_is_refused(tmp_path, canary, name, field):
    from _checkpoint_modules import shared_encoder_spec

    path = Path(shared_encoder_spec().build().save_to_path(tmp_path / "c"))
    meta = read_json(path / "rlmodule.json")
    meta["module"]["components"]["p0"][field] = {"name": name, "distribution": None,
                                                 "version": None}
    write_signed(path / "rlmodule.json", meta)
    with pytest.raises(CheckpointError, match=rf"components\.p0\.{field}\.name: got '.*Evil', "
                                              r"expected a registered name 'plugin/name' "
                                              r"\(never an import path\)"):
        RLModule.from_checkpoint(path)
    canary.check(name, field)


def test_a_config_file_names_only_registered_code(tmp_path, canary, capsys):
    import json

    bad = tmp_path / "bad.json"
    for section, names in (
            ({"environment": {"env": "subprocess:Popen", "env_config": {"args": canary.command}}},
             "subprocess:Popen"),
            ({"rl_module": {"module_class": "rlmodules_canary_xyz:Evil"}},
             "rlmodules_canary_xyz:Evil")):
        bad.write_text(json.dumps(section))
        assert main(["train", *FAST, "--config", str(bad), "--out", str(tmp_path / "r")]) == 1
        assert capsys.readouterr().err == (
            f"rlmodules train: error: {refusal(f'--config {bad}', names)}\n")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"environment": {"env": "rlmodules.envs:StatelessCartPole"}}))
    assert main(["train", *FAST, "--config", str(good), "--out", str(tmp_path / "g")]) == 0
    canary.check_finally()


@pytest.mark.parametrize(("env", "message"), [
    ("missing_mod_xyz:Foo-v0", "cannot make gymnasium env 'missing_mod_xyz:Foo-v0': module "
     "'missing_mod_xyz' cannot be imported (No module named 'missing_mod_xyz'); install the "
     "package that provides it, or check the id"),
    ("missing_mod_xyz:Foo", "env import path 'missing_mod_xyz:Foo': cannot import "
     "'missing_mod_xyz' (No module named 'missing_mod_xyz'); is the package that provides it "
     "installed?"),
])
def test_an_env_of_a_missing_module_is_one_line(tmp_path, capsys, env, message):
    assert main(["train", *FAST, "--env", env, "--out", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == f"rlmodules train: error: {message}\n"
