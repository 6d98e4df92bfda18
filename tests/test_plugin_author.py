"""The plugin author's path end to end: plugins written only against public names, built and
installed (non-editable) into a fresh environment, used by the default modules through
their config keys, trained, saved, loaded in a fresh process, exported and removed again;
and the packages `rlmodules new-plugin` writes, whose own tests pass unchanged."""

from __future__ import annotations

import importlib.util
import json

import pytest
from plugin_env import HERE, PluginEnv
from rlmodules.cli.new_plugin import write_plugin


def test_a_scaffolded_module_plugin_installs_lists_and_passes_its_tests(tmp_path):
    env = PluginEnv(tmp_path)
    env.install(write_plugin("rlm-tiny", "module", tmp_path / "new"))
    listed = env.run("-m", "rlmodules.cli", "list", "module").stdout
    assert any(line.split()[:4] == ["module", "rlm_tiny", "rlm_tiny", "rlm-tiny"]
               for line in listed.splitlines()), listed
    tests = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "rlm-tiny",
                    cwd=tmp_path / "new")
    assert "2 passed" in tests.stdout, tests.stdout


TRAIN = """
    import json, sys
    import numpy as np
    from rlmodules.algorithms import PPOConfig

    config = {"rlm_gru.use_gru": True, "gru_hidden": 16, "rlm_beta.use_beta": True,
              "fcnet_hiddens": [32]}
    algo = (PPOConfig().environment("Pendulum-v1")
            .env_runners(num_envs_per_env_runner=2, num_threads=1)
            .training(train_batch_size=128, minibatch_size=64, num_epochs=2)
            .rl_module(model_config=config).debugging(seed=0).build())
    returns = [algo.train()["episode_return_mean"] for _ in range(3)]
    module = algo.get_module()
    encoders = sorted({type(m).__name__ for m in module.modules() if "Encoder" in type(m).__name__})
    dist = module.get_exploration_action_dist_cls().base_class().__name__
    module.save_to_path(sys.argv[1] if len(sys.argv) > 1 else "ckpt")
    print(json.dumps({"encoders": encoders, "dist": dist, "returns": returns}))
"""

LOAD_AND_EXPORT = """
    import json, warnings
    import numpy as np
    from rlmodules import RLModule, compute_actions
    module = RLModule.from_checkpoint("ckpt")
    obs = np.random.default_rng(0).uniform(-1, 1, (8, 3)).astype(np.float32)
    out = compute_actions(module, {"obs": obs}, explore=True)["actions"].numpy()
    result = {"dist": module.get_exploration_action_dist_cls().base_class().__name__,
              "in_bounds": bool(np.all(np.abs(out) <= 2.0))}
    if WITH_ONNX:
        from rlmodules.export import export
        from rlmodules_onnx import OnnxPolicy
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "exploring is unavailable" warning
            path = export("ckpt", "onnx", format="onnx")
        explored = OnnxPolicy(path, seed=0).compute_actions(obs, explore=True)
        result["onnx_in_bounds"] = bool(np.all(np.abs(explored["actions_for_env"]) <= 2.0))
        result["onnx_logp_finite"] = bool(np.isfinite(explored["action_logp"]).all())
    print(json.dumps(result))
"""


@pytest.mark.slow
def test_three_installed_plugins_extend_the_defaults_end_to_end(tmp_path):
    env = PluginEnv(tmp_path)
    kinds = ("module", "encoder", "distribution")
    scaffolds = [write_plugin(f"rlm-new-{kind}", kind, tmp_path / "new") for kind in kinds]
    env.install(HERE / "rlm_gru", HERE / "rlm_beta", *scaffolds)

    # The scaffolds' own tests pass unchanged, installed side by side.
    tests = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, scaffolds))
    assert "9 passed" in tests.stdout, tests.stdout

    # The default PPO picks the GRU encoder and the Beta through the plugins' config keys.
    trained = json.loads(env.script(TRAIN).stdout.splitlines()[-1])
    assert trained["encoders"] == ["GRUEncoder"] and trained["dist"] == "ScaledBeta", trained
    assert all(isinstance(r, float) for r in trained["returns"][1:]), trained

    # A fresh process loads it, acts within the bounds, exports, and explores in OnnxPolicy.
    with_onnx = importlib.util.find_spec("onnx") is not None
    code = f"WITH_ONNX = {with_onnx}\n" + LOAD_AND_EXPORT.replace("\n    ", "\n")
    loaded = json.loads(env.script(code).stdout.splitlines()[-1])
    assert loaded["dist"] == "ScaledBeta" and loaded["in_bounds"], loaded
    if with_onnx:
        assert loaded["onnx_in_bounds"] and loaded["onnx_logp_finite"], loaded

    # Without the GRU plugin the checkpoint names the package to install.
    env.run("-m", "pip", "uninstall", "-y", "-q", "rlm-gru")
    failed = env.script("from rlmodules import RLModule\nRLModule.from_checkpoint('ckpt')",
                        check=False)
    assert failed.returncode == 1
    assert "pip install rlm-gru==0.3.0" in failed.stderr, failed.stderr

    # A misspelled entry point shows in `rlmodules doctor` with its value and the import error.
    typo = tmp_path / "rlm-typo"
    (typo / "rlm_typo").mkdir(parents=True)
    (typo / "rlm_typo" / "__init__.py").write_text("")
    pyproject = (HERE / "rlm_gru" / "pyproject.toml").read_text()
    pyproject = pyproject.replace('"rlm_gru.plugin"', '"rlm_typo.pluggin"')
    (typo / "pyproject.toml").write_text(pyproject.replace("rlm-gru", "rlm-typo").replace(
        "rlm_gru", "rlm_typo"))
    env.install(typo)
    doctor = env.run("-m", "rlmodules.cli", "doctor", check=False)
    assert doctor.returncode == 1
    assert ("entry point: group 'rlmodules', name 'rlm_typo', value 'rlm_typo.pluggin'"
            in doctor.stdout), doctor.stdout
    assert "No module named 'rlm_typo.pluggin'" in doctor.stdout, doctor.stdout
