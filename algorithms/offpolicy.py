"""The off-policy loop shared by DQN and SAC: explore, store transitions, replay them.

:class:`OffPolicyAlgorithm` samples rounds of ``rollout_fragment_length`` steps per env
(uniformly random actions before learning starts, then the algorithm's exploration, see
:class:`~rlmodules.algorithms.exploration.ExplorationSampler`), adds them to its replay
buffer and takes gradient steps on replayed batches through an
:class:`~rlmodules.algorithms.offpolicy_learner.OffPolicyLearner`. It samples and learns in
this process (its config takes no env runners or learner actors). Single-agent, stateless
modules only. A checkpoint adds the replay buffer and the learner's own tensors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from rlmodules.envs import is_parallel_env
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .algorithm import Algorithm

# Importable from here as before.
from .exploration import ExplorationSampler
from .module_setup import build_multi_module
from .offpolicy_config import OffPolicyConfig, merged_model_config
from .offpolicy_learner import OffPolicyLearner, polyak_update, require_methods
from .replay_buffer import PrioritizedReplayBuffer, make_replay_buffer
from .rollout import tree_map

__all__ = ["OffPolicyAlgorithm", "OffPolicyLearner", "ExplorationSampler", "require_methods",
           "polyak_update"]

#: Name of the tensor file holding the replay buffer and the learner's extra state.
STATE_STEM = "offpolicy"


class OffPolicyAlgorithm(Algorithm):
    """Base of DQN and SAC: the replay loop (see the module docstring)."""

    learner: OffPolicyLearner
    sampler: ExplorationSampler

    def __init__(self, config: OffPolicyConfig) -> None:
        super().__init__(config)
        t = config.training_settings
        self.replay_buffer = make_replay_buffer(
            t["replay_buffer_config"], n_step=t["n_step"], gamma=t["gamma"],
            seed=int(self.np_random.integers(2**62)))
        self.owed_updates = 0.0

    # --- pieces ----------------------------------------------------------------------------------
    def build_module(self, env: Any) -> MultiRLModule:
        """The single-agent, stateless module, its model config given the training keys
        the module reads (``model_config_overrides``)."""
        from rlmodules import registry
        from rlmodules.specs import RLModuleSpec

        if is_parallel_env(env):
            raise ConfigError(
                f"{type(self).__name__} trains single-agent envs; use PPO for multi-agent ones"
            )
        config = self.config.copy()
        spec = config.rl_module_spec or RLModuleSpec()
        if not isinstance(spec, RLModuleSpec):
            raise ConfigError(f"{type(self).__name__} takes an RLModuleSpec, got "
                              f"{type(spec).__name__}")
        module_class = spec.module_class or self.default_module_class
        if isinstance(module_class, str):
            module_class = registry.get("module", module_class)
        fields = getattr(module_class, "default_model_config_class", None)
        accepts = (lambda key: True) if fields is None else \
            (lambda key: key in fields.field_names())
        given = spec.model_config if spec.model_config is not None \
            else config.model_config_setting
        config.rl_module(model_config=merged_model_config(config, given, accepts))
        if spec.model_config is not None:
            import attrs

            config.rl_module_spec = attrs.evolve(spec, model_config=None)
        multi = build_multi_module(config, env, self.default_module_class)
        if multi[DEFAULT_MODULE_ID].is_stateful():
            raise ConfigError(
                f"{type(self).__name__} needs a stateless module (its replay buffer holds "
                f"single transitions); {type(multi[DEFAULT_MODULE_ID]).__name__} is stateful"
            )
        return multi

    def _training_sampler(self, *, env_seed: int | None) -> ExplorationSampler:
        return ExplorationSampler(
            env_creator=self.env_creator, multi_module=self.module,
            num_envs=self.config.num_envs,
            vectorize_mode=self.config.env_runner_settings["gym_env_vectorize_mode"],
            seed=env_seed)

    def exploration_fraction(self, timestep: int) -> float:
        """Probability of a uniformly random action once learning has started."""
        return 0.0

    # --- the loop --------------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        """Sample rounds until ``min_sample_timesteps_per_iteration`` env steps, learning
        after each; returns metrics (with the time spent sampling, replaying, learning)."""
        t = self.config.training_settings
        start = time.perf_counter()
        timers = {"sample": 0.0, "replay": 0.0, "learn": 0.0}
        collected: dict[str, list[torch.Tensor]] = {}
        steps = updates = 0
        while steps < t["min_sample_timesteps_per_iteration"]:
            steps += self._sample_round(timers)
            for metrics in self._learn_round(timers, steps):
                updates += 1
                for key, value in metrics.items():
                    collected.setdefault(key, []).append(value)
        self.iteration += 1
        elapsed = time.perf_counter() - start
        return self._iteration_result({
            "time_sample_s": timers["sample"],
            "time_replay_s": timers["replay"],
            "time_learn_s": timers["learn"],
            "env_steps_per_s": steps / max(elapsed, 1e-9),
            "replay_buffer_size": len(self.replay_buffer),
            "num_gradient_steps": updates,
            "exploration_random_fraction": self.sampler.random_fraction,
            **{k: torch.stack(v).mean().item() for k, v in collected.items()},
        })

    def _sample_round(self, timers: dict[str, float]) -> int:
        t = self.config.training_settings
        start = time.perf_counter()
        learning = self.timesteps >= t["num_steps_sampled_before_learning_starts"]
        self.sampler.random_fraction = self.exploration_fraction(self.timesteps) \
            if learning else 1.0
        self.module.eval()
        fragment = self.config.env_runner_settings["rollout_fragment_length"]
        rollout = self.sampler.sample(fragment)[DEFAULT_MODULE_ID]
        steps = fragment * self.config.num_envs
        self.timesteps += steps
        self._count_finished_episodes()
        sampled = time.perf_counter()
        self._store(rollout)
        timers["sample"] += sampled - start
        timers["replay"] += time.perf_counter() - sampled
        return steps

    def _store(self, rollout: Mapping[str, Any]) -> None:
        """Add a rollout's transitions (rows the env ignored are skipped)."""
        data = tree_map(lambda x: x.numpy(), {k: rollout[k] for k in (
            "obs", "actions", "rewards", "terminateds", "truncateds", "loss_mask")})
        obs = data["obs"]
        buffer = self.replay_buffer
        if buffer.n_step == 1:  # order within a round does not matter: add it at once
            flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
            buffer.add(tree_map(lambda x: flat(x[:-1]), obs), tree_map(flat, data["actions"]),
                       flat(data["rewards"]), tree_map(lambda x: flat(x[1:]), obs),
                       flat(data["terminateds"]), flat(data["truncateds"]),
                       flat(data["loss_mask"]))
            return
        for step in range(data["rewards"].shape[0]):
            row = lambda x, i=step: x[i]  # noqa: E731
            buffer.add(tree_map(row, obs), tree_map(row, data["actions"]), data["rewards"][step],
                       tree_map(lambda x, i=step: x[i + 1], obs), data["terminateds"][step],
                       data["truncateds"][step], data["loss_mask"][step])

    def _learn_round(self, timers: dict[str, float], steps_so_far: int
                     ) -> list[dict[str, torch.Tensor]]:
        t = self.config.training_settings
        if self.timesteps < t["num_steps_sampled_before_learning_starts"] \
                or len(self.replay_buffer) == 0:
            return []
        intensity = t["training_intensity"]
        fragment = self.config.env_runner_settings["rollout_fragment_length"]
        if intensity is None:
            count = 1
        else:
            self.owed_updates += intensity * fragment * self.config.num_envs \
                / t["train_batch_size"]
            count = int(self.owed_updates)
            self.owed_updates -= count
        out = []
        prioritized = isinstance(self.replay_buffer, PrioritizedReplayBuffer)
        for _ in range(count):
            start = time.perf_counter()
            batch = self.replay_buffer.sample(t["train_batch_size"])
            indices = batch.pop("indices", None)
            sampled = time.perf_counter()
            metrics, td_errors = self.learner.update(batch, timestep=self.timesteps)
            learned = time.perf_counter()
            if prioritized and td_errors is not None:
                self.replay_buffer.update_priorities(indices, td_errors.detach().numpy())
            timers["replay"] += sampled - start + time.perf_counter() - learned
            timers["learn"] += learned - sampled
            out.append(metrics)
        return out

    # --- checkpoint extras -----------------------------------------------------------------------
    def save_extra_state(self, directory: Path) -> dict[str, Any]:
        """Write the replay buffer and learner extras; their JSON entry."""
        from rlmodules.checkpoint import write_tensor_file

        arrays, buffer_data = self.replay_buffer.get_state()
        tensors = {f"replay/{k}": torch.from_numpy(v) for k, v in arrays.items()}
        tensors.update({f"learner/{k}": v for k, v in self.learner.state_tensors().items()})
        return {"replay_buffer": buffer_data, "owed_updates": self.owed_updates,
                "last_target_update": self.learner.last_target_update,
                "file": write_tensor_file(directory, STATE_STEM, tensors)}

    def checked_extra_state(self, directory: Path, data: Mapping[str, Any]
                            ) -> Callable[[], None]:
        """The replay buffer and learner extras, checked against their schema and this
        algorithm's spaces, then loaded into a copy; applying swaps them in."""
        import copy

        import numpy as np
        from rlmodules.checkpoint import TensorSpec, check_tensors, read_tensor_file, structure
        from rlmodules.errors import CheckpointError

        from .checkpoint import STATE_FILE
        from .checkpoint_schema import OffPolicyExtra, check_replay_arrays

        if "replay_buffer" not in data:
            raise CheckpointError(
                f"{directory} holds no replay buffer: it was not saved by "
                f"{type(self).__name__}"
            )
        extra = structure(dict(data), OffPolicyExtra, source=f"{directory / STATE_FILE} extra")
        tensors = read_tensor_file(directory, data["file"])
        arrays = {k[len("replay/"):]: v.numpy() for k, v in tensors.items()
                  if k.startswith("replay/")}
        module = self.module[DEFAULT_MODULE_ID]
        source = directory / extra.file.file
        check_replay_arrays(arrays, extra.replay_buffer, source=source,
                            observation_space=module.observation_space,
                            action_space=module.action_space)
        extras = {k[len("learner/"):]: v for k, v in tensors.items() if k.startswith("learner/")}
        check_tensors(extras, {
            name: TensorSpec(tuple(t.shape), str(t.dtype).removeprefix("torch."), finite=True)
            for name, t in self.learner.state_tensors().items()}, source=f"{source} learner")
        if set(tensors) != {f"replay/{k}" for k in arrays} | {f"learner/{k}" for k in extras}:
            raise CheckpointError(f"{source} is malformed: it holds arrays outside 'replay/' "
                                  f"and 'learner/'")
        buffer = copy.copy(self.replay_buffer)  # the live buffer stays as it is until applied
        buffer.rng = np.random.Generator(type(self.replay_buffer.rng.bit_generator)())
        buffer.set_state(arrays, data["replay_buffer"])

        def apply() -> None:
            self.replay_buffer = buffer
            self.learner.load_state_tensors(extras)
            self.owed_updates = extra.owed_updates
            self.learner.last_target_update = extra.last_target_update

        return apply
