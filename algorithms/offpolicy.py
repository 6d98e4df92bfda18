"""The off-policy loop shared by DQN and SAC: explore, store transitions, replay them.

:class:`OffPolicyAlgorithm` samples rounds of ``rollout_fragment_length`` steps per env
(uniformly random actions before learning starts, then the algorithm's exploration),
adds them to its replay buffer and takes gradient steps on replayed batches through an
:class:`OffPolicyLearner`, whose optimizers each cover one part of the module (DQN: the
Q-network; SAC: actor, critics and the temperature) and whose target networks follow
through the module's ``get_target_network_pairs()``. Single-agent, stateless modules only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.multi_rl_module import MultiRLModule
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .algorithm import Algorithm, _mean, build_multi_module
from .flat_params import FlatParameters
from .learner import checked_optimizer_state, fast_adam, optimizer_state
from .offpolicy_config import OffPolicyConfig, merged_model_config
from .replay_buffer import PrioritizedReplayBuffer, make_replay_buffer
from .rollout import tree_map
from .sampler import VectorEnvSampler
from .schedules import schedule_value

__all__ = ["OffPolicyAlgorithm", "OffPolicyLearner", "ExplorationSampler", "require_methods",
           "polyak_update"]

#: Name of the tensor file holding the replay buffer and the learner's extra state.
STATE_STEM = "offpolicy"


def require_methods(module: Any, methods: Mapping[str, str], algorithm: str) -> None:
    """Raise a ``ConfigError`` naming the first of ``methods`` (name -> what it returns)
    that ``module`` lacks."""
    for name, contract in methods.items():
        if not callable(getattr(module, name, None)):
            raise ConfigError(
                f"{type(module).__name__} cannot be trained with {algorithm}: it has no "
                f"{name}() method. Implement {name}: {contract} (RLlib's QNetAPI / "
                f"TargetNetworkAPI), or use the default {algorithm.lower()!r} module"
            )


def polyak_update(pairs: list[tuple[torch.nn.Module, torch.nn.Module]], tau: float) -> None:
    """``target <- tau * online + (1 - tau) * target`` for every pair (1.0: a copy)."""
    with torch.no_grad():
        online = [p for o, _ in pairs for p in o.parameters()]
        target = [p for _, t in pairs for p in t.parameters()]
        if tau == 1.0:
            torch._foreach_copy_(target, online)
        else:
            torch._foreach_lerp_(target, online, tau)
        for o, t in pairs:
            for ob, tb in zip(o.buffers(), t.buffers()):
                tb.copy_(ob)


class _Part:
    """Adam over the flat buffer of one part's parameters, with its learning-rate key."""

    def __init__(self, named: list[tuple[str, torch.nn.Parameter]], lr_key: str,
                 config: OffPolicyConfig) -> None:
        self.names = [name for name, _ in named]
        self.flat = FlatParameters(p for _, p in named)
        self.lr_key = lr_key
        lr = schedule_value(config.training_settings[lr_key], 0)
        self.optimizer = torch.optim.Adam(self.flat.buffers, lr=lr, **fast_adam(self.flat.buffers))


class OffPolicyLearner:
    """Gradient steps on replayed batches. Subclasses give the module's parts and the loss.

    Example (inside an algorithm)::

        metrics, td_errors = learner.update(buffer.sample(64), timestep=algo.timesteps)
    """

    def __init__(self, *, module: MultiRLModule, config: OffPolicyConfig,
                 generator: torch.Generator) -> None:
        self.module = module
        self.config = config
        self.generator = generator
        self.rl_module = module[DEFAULT_MODULE_ID]
        self.check_module(self.rl_module)
        self.setup()
        named = [(n, p) for n, p in self.rl_module.named_parameters() if p.requires_grad]
        named += self.learner_parameters()
        self.parts = {name: _Part([(n, p) for n, p in named if belongs(n)], lr_key, config)
                      for name, (belongs, lr_key) in self.parameter_parts().items()}
        self.last_target_update: int | None = None

    # --- to be provided by an algorithm ----------------------------------------------------------
    def check_module(self, module: Any) -> None:
        """Raise a ``ConfigError`` if ``module`` lacks a method this algorithm needs."""

    def setup(self) -> None:
        """Create learner-owned parameters (e.g. SAC's temperature) before the optimizers."""

    def learner_parameters(self) -> list[tuple[str, torch.nn.Parameter]]:
        """``(name, parameter)`` pairs the learner owns (not the module's), e.g. SAC's
        temperature; their names take part in :meth:`parameter_parts` too."""
        return []

    def parameter_parts(self) -> dict[str, tuple[Callable[[str], bool], str]]:
        """``{part: (is_in_part(parameter_name), lr setting)}``; the default: one part."""
        return {"default": (lambda name: True, "lr")}

    def compute_losses(self, batch: Mapping[str, Any], timestep: int
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor | None]:
        """``(total loss, detached metrics, per-sample TD errors or None)``."""
        raise NotImplementedError

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Learner-owned tensors to checkpoint besides the module and optimizers."""
        return {}

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """Restore :meth:`state_tensors` output."""

    # --- the update ------------------------------------------------------------------------------
    def update(self, batch: Mapping[str, Any], *, timestep: int
               ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """One gradient step on a replayed ``batch`` (numpy arrays, as the buffer gives);
        the target networks are updated first when ``target_network_update_freq`` env
        steps have passed since the last update."""
        t = self.config.training_settings
        if (self.last_target_update is None
                or timestep - self.last_target_update >= t["target_network_update_freq"]):
            if self.last_target_update is not None:
                polyak_update(self.rl_module.get_target_network_pairs(), t["tau"])
            self.last_target_update = timestep
        tensors = tree_map(torch.from_numpy, dict(batch))
        self.rl_module.train()
        loss, metrics, td_errors = self.compute_losses(tensors, timestep)
        for part in self.parts.values():
            part.flat.zero_grad()
        loss.backward()
        for name, part in self.parts.items():
            for group in part.optimizer.param_groups:
                group["lr"] = schedule_value(t[part.lr_key], timestep)
            if t["grad_clip"] is not None:
                metrics[f"{name}/grad_norm"] = part.flat.clip_grad_norm_(t["grad_clip"])
            part.optimizer.step()
        return metrics, td_errors

    # --- checkpoints -----------------------------------------------------------------------------
    def get_optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Every part's optimizer state in one checkpoint entry: tensors and scalars keyed
        ``"<part>/<parameter name>"``, the parts' groups in ``parts`` order."""
        tensors: dict[str, torch.Tensor] = {}
        data: dict[str, Any] = {"param_groups": [], "scalars": {}, "parts": list(self.parts)}
        for name, part in self.parts.items():
            part_tensors, part_data = optimizer_state(part.optimizer, part.flat, part.names)
            tensors.update({f"{name}/{k}": v for k, v in part_tensors.items()})
            data["scalars"].update({f"{name}/{k}": v for k, v in part_data["scalars"].items()})
            data["param_groups"] += part_data["param_groups"]
        return tensors, data

    def set_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                            data: Mapping[str, Any]) -> None:
        self.checked_optimizer_state(tensors, data)()

    def checked_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                                data: Mapping[str, Any]) -> Callable[[], None]:
        """Check every part's saved state first; the returned loader then cannot fail."""
        from rlmodules.errors import CheckpointError

        if data.get("parts") != list(self.parts):
            raise CheckpointError(
                f"the checkpoint has optimizers for {data.get('parts')!r}, this learner "
                f"{list(self.parts)}; it was saved by another algorithm or module"
            )
        loaders, groups = [], list(data.get("param_groups") or [])
        for name, part in self.parts.items():
            prefix = f"{name}/"
            count = len(part.optimizer.param_groups)
            part_data = {"param_groups": groups[:count], "scalars": {
                k[len(prefix):]: v for k, v in data.get("scalars", {}).items()
                if k.startswith(prefix)}}
            groups = groups[count:]
            mine = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            loaders.append(checked_optimizer_state(part.optimizer, part.flat, part.names, mine,
                                                   part_data))

        def load() -> None:
            for loader in loaders:
                loader()

        return load


class ExplorationSampler(VectorEnvSampler):
    """A :class:`VectorEnvSampler` whose env slots each act uniformly at random with
    probability ``random_fraction`` (epsilon-greedy for DQN, warm-up for SAC)."""

    def __init__(self, *, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.random_fraction = 0.0
        self.rng = np.random.default_rng(None if seed is None else seed + 1)
        space = self.module.action_space
        if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise ConfigError(
                f"off-policy exploration takes a Discrete or Box action space, got {space}"
            )
        self.space = space

    def _act(self) -> dict[str, Any]:
        fraction = self.random_fraction
        if fraction >= 1.0:  # all random: no need to run the module
            env_actions = self._random_actions()
            return {Columns.ACTIONS: torch.from_numpy(self._as_module_dtype(env_actions)),
                    Columns.ACTIONS_FOR_ENV: env_actions,
                    Columns.ACTION_LOGP: torch.zeros(self.num_envs)}
        out = super()._act()
        # The sampler records log-probabilities; a module returning its actions has none.
        out.setdefault(Columns.ACTION_LOGP, torch.zeros(self.num_envs))
        if fraction <= 0.0:
            return out
        pick = self.rng.random(self.num_envs) < fraction
        if pick.any():
            random = self._random_actions()
            out[Columns.ACTIONS_FOR_ENV] = np.where(_expand(pick, random), random,
                                                    out[Columns.ACTIONS_FOR_ENV])
            replaced = torch.from_numpy(self._as_module_dtype(random))
            mask = torch.from_numpy(_expand(pick, random))
            out[Columns.ACTIONS] = torch.where(mask, replaced, out[Columns.ACTIONS])
        return out

    def _random_actions(self) -> np.ndarray:
        space = self.space
        if isinstance(space, gym.spaces.Discrete):
            return (space.start + self.rng.integers(0, space.n, self.num_envs)).astype(
                space.dtype)
        shape = (self.num_envs, *space.shape)
        return self.rng.uniform(space.low, space.high, shape).astype(space.dtype)

    def _as_module_dtype(self, actions: np.ndarray) -> np.ndarray:
        if isinstance(self.space, gym.spaces.Discrete):
            return (actions - self.space.start).astype(np.int64)
        return actions.astype(np.float32)


def _expand(pick: np.ndarray, like: np.ndarray) -> np.ndarray:
    return pick.reshape(pick.shape + (1,) * (like.ndim - 1))


class OffPolicyAlgorithm(Algorithm):
    """Base of DQN and SAC: the replay loop (see the module docstring)."""

    learner_class: type[OffPolicyLearner] = OffPolicyLearner

    def __init__(self, config: OffPolicyConfig) -> None:
        super().__init__(config)
        if self.is_multi_agent:
            raise ConfigError(
                f"{type(self).__name__} trains single-agent envs; use PPO for multi-agent ones"
            )
        t = config.training_settings
        self.replay_buffer = make_replay_buffer(
            t["replay_buffer_config"], n_step=t["n_step"], gamma=t["gamma"],
            seed=int(self.np_random.integers(2**62)))
        self.owed_updates = 0.0

    # --- pieces ----------------------------------------------------------------------------------
    def build_module(self, env: Any) -> MultiRLModule:
        from rlmodules import registry
        from rlmodules.specs import RLModuleSpec

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

    def make_learner(self) -> OffPolicyLearner:
        return self.learner_class(module=self.module, config=self.config,
                                  generator=self.torch_generator)

    def _new_sampler(self, *, explore: bool, env_seed: int | None, num_envs: int | None = None,
                     evaluation: bool = False) -> Any:
        if not explore or evaluation or self.is_multi_agent:
            return super()._new_sampler(explore=explore, env_seed=env_seed, num_envs=num_envs,
                                        evaluation=evaluation)
        return ExplorationSampler(
            env_creator=self.env_creator, multi_module=self.module,
            num_envs=num_envs or self.config.num_envs,
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
        result = {
            "training_iteration": self.iteration,
            "num_env_steps_sampled_lifetime": self.timesteps,
            "num_episodes_lifetime": self.episodes,
            "episode_return_mean": _mean(self.recent_returns),
            "episode_len_mean": _mean(self.recent_lengths),
            "time_sample_s": timers["sample"],
            "time_replay_s": timers["replay"],
            "time_learn_s": timers["learn"],
            "env_steps_per_s": steps / max(elapsed, 1e-9),
            "replay_buffer_size": len(self.replay_buffer),
            "num_gradient_steps": updates,
            "exploration_random_fraction": self.sampler.random_fraction,
            **{k: torch.stack(v).mean().item() for k, v in collected.items()},
        }
        interval = self.config.evaluation_settings["evaluation_interval"]
        if interval is not None and self.iteration % interval == 0:
            result["evaluation"] = self.evaluate()
        return result

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
        for episode in self._pop_finished_episodes():
            self.recent_returns.append(episode.episode_return)
            self.recent_lengths.append(episode.length)
            self.episodes += 1
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
        """The replay buffer and learner extras, loaded into a copy and checked; applying
        swaps them in."""
        import copy

        import numpy as np
        from rlmodules.checkpoint import read_tensor_file
        from rlmodules.errors import CheckpointError

        if "replay_buffer" not in data or not isinstance(data.get("file"), Mapping):
            raise CheckpointError(
                f"{directory} holds no replay buffer: it was not saved by "
                f"{type(self).__name__}"
            )
        tensors = read_tensor_file(directory, data["file"])
        arrays = {k[len("replay/"):]: v.numpy() for k, v in tensors.items()
                  if k.startswith("replay/")}
        buffer = copy.copy(self.replay_buffer)  # the live buffer stays as it is until applied
        buffer.rng = np.random.Generator(type(self.replay_buffer.rng.bit_generator)())
        try:
            buffer.set_state(arrays, data["replay_buffer"])
            owed, last = float(data["owed_updates"]), data["last_target_update"]
        except CheckpointError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{directory} holds a malformed replay buffer: {exc}") from None
        extras = {k[len("learner/"):]: v for k, v in tensors.items() if k.startswith("learner/")}
        expected = self.learner.state_tensors()
        if set(extras) != set(expected) or any(
                extras[k].shape != v.shape for k, v in expected.items()):
            raise CheckpointError(
                f"{directory} holds learner state {sorted(extras)}; this "
                f"{type(self).__name__} needs {sorted(expected)} with their shapes"
            )

        def apply() -> None:
            self.replay_buffer = buffer
            self.learner.load_state_tensors(extras)
            self.owed_updates = owed
            self.learner.last_target_update = last

        return apply

