"""What loads is what was saved: metadata checksums, recorded action distributions, whole
or no restores, paths inside the checkpoint, readers racing writers."""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import gymnasium as gym
import pytest
import rlmodules
import torch
from _checkpoint_modules import ACT, OBS
from rlmodules import CheckpointError, RLModule, RLModuleSpec, registry
from rlmodules.checkpoint import METADATA_FILE, write_json_file

BOX = gym.spaces.Box(-1.0, 1.0, (2,))


def ppo(action_space=ACT, **config):
    return RLModuleSpec(module_class="ppo", observation_space=OBS, action_space=action_space,
                        model_config={"fcnet_hiddens": [8], **config}).build()


def test_a_flipped_bit_in_the_metadata_never_loads_a_different_module(tmp_path):
    """Bits flipped in rlmodule.json: each variant is refused or loads the same module."""
    path = Path(ppo(BOX).save_to_path(tmp_path / "c"))
    meta_file = path / METADATA_FILE
    original = meta_file.read_bytes()
    expected = json.loads(original)
    rng = random.Random(0)
    refused = 0
    for _ in range(300):
        flipped = bytearray(original)
        position = rng.randrange(len(flipped))
        flipped[position] ^= 1 << rng.randrange(8)
        meta_file.write_bytes(bytes(flipped))
        try:
            loaded = RLModule.from_checkpoint(path)
        except CheckpointError:
            refused += 1
            continue
        assert loaded.get_metadata()["module"] == {
            k: v for k, v in expected["module"].items() if k != "tensors"}
    assert refused > 250
    meta_file.write_bytes(original)
    changed = json.loads(original)
    changed["module"]["action_space"]["low"] = -2.0  # one bound, parsed fine
    meta_file.write_text(json.dumps(changed))
    with pytest.raises(CheckpointError, match=r"rlmodule.json is corrupted: its "
                                              r"metadata_checksum .* does not match its contents"):
        RLModule.from_checkpoint(path)


class BetaPlugin:
    """Chooses a 'beta' distribution (registered by this plugin) for Box actions."""

    def __init__(self):
        self.asked = []

    @rlmodules.hookimpl
    def rlmodules_distributions(self):
        from rlmodules.plugins.distributions import DiagGaussian

        class Beta(DiagGaussian):  # a stand-in with the same width, as the attack used
            pass

        Beta.__qualname__ = Beta.__name__ = "Beta"
        return {"beta": Beta}

    @rlmodules.hookimpl(tryfirst=True)
    def rlmodules_action_dist_cls(self, action_space, model_config, module_class):
        self.asked.append((module_class, model_config))
        return "beta" if isinstance(action_space, gym.spaces.Box) else None


def test_the_action_distribution_is_recorded_and_restored_exactly(tmp_path):
    with registry.isolated_registry(autoload=False, use_cache=False) as reg:
        plugin = BetaPlugin()
        reg.register_plugin(plugin, name="betas")
        module = ppo(BOX, free_log_std=False)
        module_class, config = plugin.asked[0]
        assert module_class is type(module) and config.fcnet_hiddens == [8]  # real context
        assert module.get_train_action_dist_cls().base_class().__name__ == "Beta"
        meta = module.get_metadata()["module"]
        assert meta["action_distributions"]["train"]["name"] == "betas/beta"
        path = module.save_to_path(tmp_path / "c")
        # With the plugin removed: the error names what the module was saved with.
        reg.unregister_plugin("betas")
        with pytest.raises(CheckpointError, match=r"needs distribution 'betas/beta', which is "
                                                  r"not installed; register the plugin that "
                                                  r"provides it"):
            RLModule.from_checkpoint(path)
        # A plugin that now prefers another distribution does not change what loads.
        reg.register_plugin(BetaPlugin(), name="betas")
        loaded = RLModule.from_checkpoint(path)
        assert loaded.get_train_action_dist_cls().base_class().__name__ == "Beta"
        reg.unregister_plugin("betas")
        plain = ppo(BOX).save_to_path(tmp_path / "plain")
        reg.register_plugin(BetaPlugin(), name="betas")
        with pytest.raises(CheckpointError, match=r"was saved with train action distribution "
                                                  r"'rlmodules/diag_gaussian' from rlmodules "
                                                  r"0.1.0, but it is built with 'betas/beta'"):
            ppo(BOX).restore_from_path(plain)


def test_heads_follow_the_distribution_class_not_its_width():
    with registry.isolated_registry(autoload=False, use_cache=False) as reg:

        class FlatBeta:
            @rlmodules.hookimpl
            def rlmodules_distributions(self):
                from rlmodules.plugins.distributions import DiagGaussian

                class WideBeta(DiagGaussian):  # width 2*D, but not means then log-stds
                    inputs_are_mean_and_log_std = False

                return {"wide_beta": WideBeta}

            @rlmodules.hookimpl(tryfirst=True)
            def rlmodules_action_dist_cls(self, action_space):
                return "wide_beta" if isinstance(action_space, gym.spaces.Box) else None

        reg.register_plugin(FlatBeta())
        module = ppo(BOX)
        assert not hasattr(module.pi, "log_std")  # a plain head, no Gaussian clipping
        with pytest.raises(rlmodules.ConfigError, match=r"free_log_std=True needs a Gaussian "
                                                        r"action distribution .* is WideBeta"):
            ppo(BOX, free_log_std=True)


def trained_algorithm(tmp_path):
    from rlmodules.algorithms import PPOConfig

    algo = (PPOConfig().environment("CartPole-v1")
            .training(train_batch_size=64, minibatch_size=32, num_epochs=1)
            .rl_module(model_config={"fcnet_hiddens": [8]}).debugging(seed=0).build())
    algo.train()
    return algo, algo.save_to_path(tmp_path / "algo")


def algo_snapshot(algo):
    return (
        {k: v.clone() for k, v in algo.module["default_policy"].state_dict().items()},
        [s["exp_avg"].clone() for s in algo.learner.optimizer.state.values()],
        torch.get_rng_state().clone(), algo.torch_generator.get_state().clone(),
        json.dumps(algo.np_random.bit_generator.state), algo.iteration, algo.timesteps,
    )


def same(a, b):
    return all(
        (all(torch.equal(x[k], y[k]) for k in x) if isinstance(x, dict)
         else all(torch.equal(p, q) for p, q in zip(x, y)) if isinstance(x, list)
         else torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y)
        for x, y in zip(a, b))


@pytest.mark.parametrize("attack", [
    ("iteration", "three"), ("timesteps", -5), ("recent_returns", ["x"]),
    ("numpy_rng", {"bit_generator": "PCG64", "state": "garbage"}),
    ("optimizer", {"param_groups": [{"lr": "fast"}]}), ("optimizer", {"param_groups": []}),
    ("tensor_files", {}), ("config", None),
])
def test_a_malformed_algorithm_state_changes_nothing(tmp_path, attack):
    algo, path = trained_algorithm(tmp_path)
    algo.train()
    before = algo_snapshot(algo)
    state = json.loads((path / "algorithm_state.json").read_text())
    key, value = attack
    state[key] = value
    write_json_file(path / "algorithm_state.json", state)
    with pytest.raises(CheckpointError):
        algo.restore_from_path(path)
    assert same(algo_snapshot(algo), before)


def test_a_wrong_shape_optimizer_tensor_is_refused_before_anything_changes(tmp_path):
    from rlmodules.checkpoint import read_tensor_file, write_tensor_file

    algo, path = trained_algorithm(tmp_path)
    algo.train()
    before = algo_snapshot(algo)
    state = json.loads((path / "algorithm_state.json").read_text())
    tensors = read_tensor_file(path, state["tensor_files"]["optimizer"])
    key = next(k for k in tensors if k.endswith("::exp_avg"))
    tensors[key] = torch.zeros(3, 5)
    state["tensor_files"]["optimizer"] = write_tensor_file(path, "optimizer", tensors)
    write_json_file(path / "algorithm_state.json", state)
    with pytest.raises(CheckpointError, match=rf"optimizer state '{key}' has shape \(3, 5\), "
                                              r"but parameter .* has"):
        algo.restore_from_path(path)
    assert same(algo_snapshot(algo), before)


def test_a_link_out_of_the_checkpoint_is_refused_by_load_and_verify(tmp_path, capsys):
    from rlmodules.cli import main

    elsewhere = Path(ppo().save_to_path(tmp_path / "other"))
    path = Path(ppo().save_to_path(tmp_path / "c"))
    (path / "module.safetensors").unlink()
    os.symlink(elsewhere / "module.safetensors", path / "module.safetensors")
    meta = json.loads((path / METADATA_FILE).read_text())
    meta["module"]["tensors"] = json.loads(
        (elsewhere / METADATA_FILE).read_text())["module"]["tensors"]
    write_json_file(path / METADATA_FILE, meta)
    with pytest.raises(CheckpointError, match=r"module.safetensors is a link to .*other/"
                                              r"module.safetensors, outside the checkpoint"):
        RLModule.from_checkpoint(path)
    assert main(["inspect", str(path), "--verify"]) == 1
    assert "CHECKSUM FAILED" in capsys.readouterr().out


def test_readers_see_the_old_or_the_new_checkpoint_while_writers_replace_it(tmp_path):
    torch.manual_seed(0)
    versions = [ppo() for _ in range(2)]
    path = tmp_path / "c"
    versions[0].save_to_path(path)
    weights = [m.state_dict()["pi.0.weight"] for m in versions]
    errors, stop = [], threading.Event()

    def write(index):
        while not stop.is_set():
            versions[index].save_to_path(path)

    writers = [threading.Thread(target=write, args=(i,)) for i in (0, 1)]
    for thread in writers:
        thread.start()
    try:
        for _ in range(60):
            try:
                loaded = RLModule.from_checkpoint(path).state_dict()["pi.0.weight"]
            except CheckpointError as exc:  # pragma: no cover - the failure this test finds
                errors.append(exc)
                continue
            assert any(torch.equal(loaded, w) for w in weights)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors


def test_two_writers_to_one_new_path_both_succeed(tmp_path):
    modules = [ppo() for _ in range(4)]
    failures = []

    def save(module, path):
        try:
            module.save_to_path(path)
        except Exception as exc:  # pragma: no cover - the failure this test finds
            failures.append(exc)

    for attempt in range(5):
        path = tmp_path / f"new-{attempt}"
        threads = [threading.Thread(target=save, args=(m, path)) for m in modules]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        RLModule.from_checkpoint(path)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert not failures


@pytest.mark.parametrize("change, message", [
    (lambda m: m["module"].pop("tensors"),
     r"module.tensors: got None, expected a tensor file entry \(a single module has weights\)"),
    (lambda m: m["module"].__setitem__("tensors", {"bytes": 5}),
     r"module.tensors.file: got nothing, expected a value \(the field is required\)"),
    (lambda m: m["module"].__setitem__("components", {"a/b": {}}),
     r"module.components\['a/b'\]: got 'a/b', expected a module id: 1-200 characters without "
     r"'/', other than '__multi__'"),
    (lambda m: m["module"].__setitem__("action_distributions", {"train": "categorical"}),
     r"module.action_distributions.train: got 'categorical', expected an object"),
    (lambda m: m["module"].__setitem__("model_config", [1]),
     r"module.model_config: got \[1\], expected an object"),
    (lambda m: m["module"].__setitem__("tensors", dict(m["module"]["tensors"], bytes=-1)),
     r"module.tensors.bytes: got -1, expected an integer from 0 to 2\*\*63 - 1"),
    (lambda m: m["module"].__setitem__("surprise", 1),
     r"module has unknown key\(s\) 'surprise'"),
])
def test_malformed_metadata_is_one_checkpoint_error(tmp_path, change, message):
    path = Path(ppo().save_to_path(tmp_path / "c"))
    meta = json.loads((path / METADATA_FILE).read_text())
    change(meta)
    write_json_file(path / METADATA_FILE, meta)
    with pytest.raises(CheckpointError, match=message):
        RLModule.from_checkpoint(path)


@pytest.mark.parametrize("depth", [70, 1200, 5000])
def test_deeply_nested_metadata_is_refused_fast(tmp_path, depth):
    path = Path(ppo().save_to_path(tmp_path / "c"))
    meta = json.loads((path / METADATA_FILE).read_text())
    node = meta["module"]
    for _ in range(depth // 2):  # components nested inside components
        node["components"] = {"x": dict(node)}
        node = node["components"]["x"]
    try:
        write_json_file(path / METADATA_FILE, meta)
    except RecursionError:
        (path / METADATA_FILE).write_text("[" * depth + "]" * depth)
    with pytest.raises(CheckpointError, match=r"(nests deeper than 64 levels|must hold a JSON "
                                              r"object)"):
        RLModule.from_checkpoint(path)  # refused before anything is built
