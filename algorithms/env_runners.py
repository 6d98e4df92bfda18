"""Env runners as Ray actors: sampling spread over ``num_env_runners`` processes or machines.

Each :class:`EnvRunner` actor builds its env from the config and its module from the
module's checkpoint files (through its own registry, inference-only), and keeps its
sampler, so envs, unfinished episodes and recurrent state live on across iterations.
Every iteration :class:`EnvRunnerGroup` puts the weights once (``ray.put``, shared by all
actors), each actor samples its share of ``train_batch_size`` and returns numpy arrays
and episode metrics, and the group joins the rollouts along the slot axis, so learners
see one rollout of ``num_env_runners * num_envs_per_env_runner`` slots.

A runner that dies, raises or stays silent for ``sample_timeout_s`` is killed, started
anew and asked again, up to ``max_num_env_runner_restarts`` times per runner.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import numpy as np
import torch
from rlmodules.errors import EnvRunnerError, RLModulesError

from .remote import (
    START_TIMEOUT_S,
    connect_ray,
    module_files,
    module_from_files,
    not_started,
    to_numpy,
    to_torch,
)
from .rollout import tree_map

__all__ = ["EnvRunner", "EnvRunnerGroup", "EnvRunnerError", "concat_rollouts"]

#: Rollout keys with a row per step plus one (the bootstrap row): padded by repeating it.
_BOOTSTRAP_KEYS = ("obs", "state_in")


class EnvRunner:
    """One env runner: envs, an inference-only module and a sampler (a Ray actor's body).

    Made by :class:`EnvRunnerGroup`, which then calls :meth:`setup` (a task, not the
    constructor, so that Ray hands a build error back as it was raised).
    """

    def setup(self, *, config: Any, files: dict[str, bytes], seed: int | None,
              multi_agent: bool) -> None:
        """Build the module and envs; ``seed`` seeds the envs and the action sampling."""
        from .env_creation import make_env_creator
        from .sampler import make_sampler

        torch.set_num_threads(max(1, int(config.env_runner_settings["num_cpus_per_env_runner"])))
        if seed is not None:
            torch.manual_seed(seed)
        self.module = module_from_files(files, inference_only=True)
        self.module.eval()
        self.sampler = make_sampler(config, make_env_creator(config.env, config.env_config),
                                    self.module, seed=seed, explore=True,
                                    multi_agent=multi_agent)

    def sample(self, weights: Any, num_steps: int) -> tuple[dict[str, Any], list[Any]]:
        """Load ``weights``, step every env ``num_steps`` times; numpy rollouts and the
        episodes finished meanwhile (metrics only)."""
        self.module.set_state(to_torch(weights))
        rollouts = self.sampler.sample(num_steps)
        return to_numpy(rollouts), [_metrics_only(e) for e in self.sampler.pop_episodes()]

    def close(self) -> None:
        self.sampler.close()


def _metrics_only(episode: Any) -> Any:
    """A multi-agent episode without its observations and actions (returns need rewards)."""
    agents = getattr(episode, "agents", None)
    if agents is None:
        return episode
    empty = np.empty(0)
    return attrs.evolve(episode, agents={
        agent: attrs.evolve(ep, obs=empty, actions=empty) for agent, ep in agents.items()})


class EnvRunnerGroup:
    """``num_env_runners`` :class:`EnvRunner` actors behind the training sampler's interface
    (``sample``, ``pop_episodes``, ``close``; evaluation samples in the training process).

    Example::

        algo = PPOConfig().environment("CartPole-v1").env_runners(num_env_runners=2).build()
        algo.train()["num_env_runners_alive"]   # 2
        algo.env_runner_group.actors            # the Ray actor handles
    """

    def __init__(self, *, config: Any, module: Any, seed: int | None, multi_agent: bool) -> None:
        settings = config.env_runner_settings
        self.ray = connect_ray("num_env_runners >= 1", settings["ray_address"])
        self.config = config
        self.module = module
        self.seed = seed
        self.multi_agent = multi_agent
        self.timeout_s = float(settings["sample_timeout_s"])
        self._files = module_files(module)
        self._actor_class = self.ray.remote(EnvRunner).options(
            num_cpus=settings["num_cpus_per_env_runner"])
        count = settings["num_env_runners"]
        self.restarts = [0] * count
        self._setups: list[Any] = [None] * count
        self._episodes: list[Any] = []
        self.actors = [self._start(i) for i in range(count)]
        try:
            self._await_start(range(count))
        except BaseException:
            self.close()
            raise

    def _start(self, index: int) -> Any:
        # Distinct env seeds per runner and per restart: runner i's envs follow runner i-1's.
        seed = None
        if self.seed is not None:
            envs = self.config.num_envs
            seed = self.seed + envs * (index + len(self.restarts) * self.restarts[index])
        actor = self._actor_class.remote()
        self._setups[index] = actor.setup.remote(config=self.config, files=self._files,
                                                 seed=seed, multi_agent=self.multi_agent)
        return actor

    def _await_start(self, indices: Any) -> None:
        """Wait for the runners to be built; a build error (e.g. a missing plugin) is
        raised as is, naming the runner: restarting cannot fix it."""
        refs = {self._setups[i]: i for i in indices}
        ready, missing = self.ray.wait(list(refs), num_returns=len(refs),
                                       timeout=START_TIMEOUT_S)
        if missing:
            raise EnvRunnerError(not_started(
                self.ray, f"env runner(s) {sorted(refs[r] for r in missing)}",
                START_TIMEOUT_S, "num_cpus_per_env_runner",
                self.config.env_runner_settings["num_cpus_per_env_runner"]))
        for ref in ready:
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                raise _start_error(refs[ref], exc) from None

    # --- the sampler interface -------------------------------------------------------------------
    def sample(self, num_steps: int) -> dict[str, dict[str, Any]]:
        """Every runner steps its envs ``num_steps`` times; one joined rollout per module."""
        ray = self.ray
        weights = ray.put(to_numpy(self.module.get_state(inference_only=True)))
        results: list[Any] = [None] * len(self.actors)
        pending = {self._ask(i, weights, num_steps): i for i in range(len(self.actors))}
        deadlines = {ref: time.monotonic() + self.timeout_s for ref in pending}
        while pending:
            wait_s = max(0.0, min(deadlines[r] for r in pending) - time.monotonic())
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=wait_s)
            if not ready:  # the earliest deadline passed: that runner hangs
                late = [r for r in pending if deadlines[r] <= time.monotonic()]
                failed = [(r, TimeoutError(f"no sample within sample_timeout_s="
                                           f"{self.timeout_s}")) for r in late]
            else:
                failed = []
                try:
                    results[pending[ready[0]]] = ray.get(ready[0])
                    del pending[ready[0]]
                except ray.exceptions.RayError as exc:
                    failed = [(ready[0], exc)]
            for ref, exc in failed:
                index = pending.pop(ref)
                self._restart(index, exc)
                retry = self._ask(index, weights, num_steps)
                pending[retry] = index
                deadlines[retry] = time.monotonic() + self.timeout_s
        for _, episodes in results:
            self._episodes.extend(episodes)
        return concat_rollouts([rollouts for rollouts, _ in results])

    def _ask(self, index: int, weights: Any, num_steps: int) -> Any:
        return self.actors[index].sample.remote(weights, num_steps)

    def _restart(self, index: int, exc: BaseException) -> None:
        settings = self.config.env_runner_settings
        cause = _cause(exc)
        if not settings["restart_failed_env_runners"]:
            raise EnvRunnerError(
                f"env runner {index} failed: {cause}. Set restart_failed_env_runners=True to "
                f"restart failed runners and go on"
            ) from None
        limit = settings["max_num_env_runner_restarts"]
        if self.restarts[index] >= limit:
            raise EnvRunnerError(
                f"env runner {index} failed again after {self.restarts[index]} restarts "
                f"(max_num_env_runner_restarts={limit}): {cause}"
            ) from None
        self.ray.kill(self.actors[index], no_restart=True)
        self.restarts[index] += 1
        self.actors[index] = self._start(index)
        self._await_start([index])

    def pop_episodes(self) -> list[Any]:
        episodes, self._episodes = self._episodes, []
        return episodes

    def metrics(self) -> dict[str, int]:
        """``num_env_runners_alive`` and ``num_env_runner_restarts`` (lifetime)."""
        return {"num_env_runners_alive": len(self.actors),
                "num_env_runner_restarts": sum(self.restarts)}

    def close(self) -> None:
        """Stop every runner (its envs first, where it still answers)."""
        refs = [actor.close.remote() for actor in self.actors]
        self.ray.wait(refs, num_returns=len(refs), timeout=5.0)
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.actors = []


def _cause(exc: BaseException) -> str:
    """The original error behind a Ray error, in one line."""
    inner = getattr(exc, "cause", None)
    if isinstance(inner, BaseException):
        return f"{type(inner).__name__}: {inner}"
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0] if first else ''}"


def _start_error(index: int, exc: BaseException) -> BaseException:
    """The error that stopped runner ``index`` from starting: our own class when it was
    ours (e.g. the ``CheckpointError`` naming a plugin to install), prefixed with the runner."""
    inner = getattr(exc, "cause", None)
    while isinstance(getattr(inner, "cause", None), BaseException):
        inner = inner.cause
    if isinstance(inner, RLModulesError):
        try:
            return type(inner)(f"env runner {index} could not start: {inner}")
        except TypeError:
            pass
    return EnvRunnerError(f"env runner {index} could not start: {_cause(exc)}")


# --- joining rollouts -----------------------------------------------------------------------------
def concat_rollouts(parts: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """``{module_id: rollout}`` of several runners as one, slots side by side.

    Rollouts of different lengths (multi-agent lanes) are padded at the end with masked
    rows, as the multi-agent sampler pads its own lanes.
    """
    module_ids = list(dict.fromkeys(mid for part in parts for mid in part))
    joined = {}
    for mid in module_ids:
        rollouts = [part[mid] for part in parts if mid in part]
        steps = max(r["loss_mask"].shape[0] for r in rollouts)
        joined[mid] = {
            key: _concat([_padded(r[key], key, steps) for r in rollouts])
            for key in rollouts[0]
        }
    return joined


def _padded(tree: Any, key: str, steps: int) -> Any:
    def pad(x: np.ndarray) -> np.ndarray:
        rows = steps + (1 if key in _BOOTSTRAP_KEYS else 0)
        missing = rows - x.shape[0]
        if missing == 0:
            return x
        filler = np.repeat(x[-1:], missing, axis=0) if key in _BOOTSTRAP_KEYS \
            else np.zeros((missing, *x.shape[1:]), dtype=x.dtype)
        return np.concatenate([x, filler])

    return tree_map(pad, tree)


def _concat(trees: list[Any]) -> Any:
    """Same-structured trees of ``[T, N_i, ...]`` arrays -> one tree of tensors, slots joined."""
    return tree_map(lambda *parts: torch.from_numpy(np.concatenate(parts, axis=1)), *trees)
