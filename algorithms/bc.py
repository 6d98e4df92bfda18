"""Behaviour cloning: fit a module's action distribution to recorded episodes.

The loss is the negative log-likelihood of the recorded actions under the module's
train action distribution, so discrete and continuous action spaces work the same way.
Episodes come from disk (see :mod:`rlmodules.algorithms.episodes`); in a multi-agent
recording each agent's steps go to the module id ``policy_mapping_fn`` gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from rlmodules.columns import Columns
from rlmodules.errors import ConfigError
from rlmodules.rl_module import DEFAULT_MODULE_ID

from .config import OnPolicyConfig
from .episode_records import EpisodeInfo
from .episodes import RecordedEpisodes, read_episodes
from .learner import Learner
from .module_setup import module_ids_of, resolve_policy_mapping_fn
from .onpolicy import OnPolicyAlgorithm
from .onpolicy_learner import OnPolicyLearner, TrainRows
from .rollout import to_tensor, tree_map

__all__ = ["BCConfig", "BC", "BCLearner"]


class BCConfig(OnPolicyConfig):
    """Configuration of behaviour cloning.

    ``offline_data(input_=DIR)`` names a directory written by ``rlmodules record`` (or
    :class:`~rlmodules.algorithms.episodes.EpisodeWriter`). Each ``train()`` samples
    ``train_batch_size`` recorded steps per module id and makes ``num_epochs`` passes of
    ``minibatch_size`` minibatches over them. The env is used for the spaces and by
    ``evaluate()``.

    Example::

        algo = (BCConfig().environment("CartPole-v1").offline_data(input_="expert_episodes")
                .training(lr=1e-3).build())
        for _ in range(20):
            algo.train()
        print(algo.evaluate()["episode_return_mean"])
    """

    training_defaults = {
        **OnPolicyConfig.training_defaults,
        "lr": 1e-3,
        "train_batch_size": 2048,
        "minibatch_size": 256,
        "num_epochs": 1,
        "grad_clip": None,
    }
    algo_class_path = "rlmodules.algorithms.bc:BC"

    def __init__(self) -> None:
        super().__init__()
        self.input_: str | None = None

    def offline_data(self, *, input_: Any = None) -> BCConfig:
        """The recorded-episodes directory to learn from (a path, or a one-element list)."""
        if input_ is not None:
            if isinstance(input_, (list, tuple)) and len(input_) == 1:
                input_ = input_[0]
            if not isinstance(input_, (str, bytes)) and not hasattr(input_, "__fspath__"):
                raise ConfigError(
                    f"offline_data(input_=...) must be the path of a recorded-episodes "
                    f"directory, got {type(input_).__name__}: {input_!r}"
                )
            self.input_ = str(input_)
        return self

    def validate(self) -> None:
        super().validate()
        if self.input_ is None:
            raise ConfigError(
                "BCConfig has no recorded episodes: call .offline_data(input_=DIR) with a "
                "directory written by `rlmodules record CHECKPOINT --env ENV --episodes N "
                "--out DIR`"
            )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "offline_data": {"input_": self.input_}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, allow_import: bool = False) -> BCConfig:
        data = dict(data)
        offline = data.pop("offline_data", None) or {}
        config = super().from_dict(data, allow_import=allow_import)
        assert isinstance(config, BCConfig)
        return config.offline_data(input_=offline.get("input_"))


class BCLearner(OnPolicyLearner):
    """Negative log-likelihood of the recorded actions, per module id."""

    def prepare(self, rollouts: Mapping[str, Mapping[str, Any]]
                ) -> tuple[dict[str, TrainRows], dict[str, int]]:
        return {mid: dict(rows) for mid, rows in rollouts.items()}, {mid: 1 for mid in rollouts}

    def compute_loss_for_module(
        self, module_id: str, batch: Mapping[str, Any], fwd_out: Mapping[str, Any],
        timestep: int,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        module = self.module[module_id]
        dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        loss = -dist.logp(batch[Columns.ACTIONS]).mean()
        return loss, {"bc_loss": loss.detach(), "entropy": dist.entropy().mean().detach()}


class BC(OnPolicyAlgorithm):
    """Behaviour cloning from recorded episodes; built by :class:`BCConfig`.

    The default module is ``"bc"`` (policy only). ``evaluate()`` plays greedy episodes.
    It learns as the on-policy family does (minibatch epochs over a batch, data-parallel
    learners), from recorded steps instead of sampled ones: its ``train()`` is its own.
    """

    default_module_class = "rlmodules/bc"
    learner_class = BCLearner

    def __init__(self, config: BCConfig) -> None:
        super().__init__(config)
        self.recorded = self.load_episodes()
        self.rows = self._rows_per_module(self.recorded)

    def load_episodes(self) -> RecordedEpisodes:
        """The recorded episodes named by ``offline_data(input_=...)``."""
        return read_episodes(self.config.input_)

    def make_learner(self) -> Learner:
        stateful = [mid for mid, m in self.module.items() if m.is_stateful()]
        if stateful:
            raise ConfigError(
                f"BC trains memoryless modules; modules {stateful} are stateful "
                f"(use_lstm or get_initial_state). Use a module without recurrent state"
            )
        return super().make_learner()

    def _module_of(self, agent_id: Any, episode_index: int) -> str:
        if not self.is_multi_agent:
            return DEFAULT_MODULE_ID
        mapping_fn = resolve_policy_mapping_fn(self.config, module_ids_of(self.config))
        return mapping_fn(agent_id, EpisodeInfo(id_=episode_index, env_index=0))

    def _rows_per_module(self, recorded: RecordedEpisodes) -> dict[str, dict[str, Any]]:
        """All recorded steps as ``{module_id: {"obs": [N, ...], "actions": [N, ...]}}``."""
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for index, episode in enumerate(recorded.episodes):
            for agent_id, steps in episode.items():
                module_id = self._module_of(agent_id, index)
                if module_id not in self.module:
                    raise ConfigError(
                        f"recorded agent {agent_id!r} maps to module id {module_id!r}, which "
                        f"this BC algorithm lacks (it has {self.module.keys()})"
                    )
                self._check_spaces(agent_id, module_id, recorded)
                parts.setdefault(module_id, []).append((steps.obs, steps.actions))
        if not parts:
            raise ConfigError(
                f"the recorded episodes at {self.config.input_!r} hold no steps to learn from"
            )
        return {
            mid: {
                Columns.OBS: to_tensor(np.concatenate([obs for obs, _ in pairs])),
                Columns.ACTIONS: torch.from_numpy(np.concatenate([act for _, act in pairs])),
            }
            for mid, pairs in parts.items()
        }

    def _check_spaces(self, agent_id: Any, module_id: str, recorded: RecordedEpisodes) -> None:
        module = self.module[module_id]
        pairs = (
            ("observation", recorded.observation_spaces[agent_id], module.observation_space),
            ("action", recorded.action_spaces[agent_id], module.action_space),
        )
        for what, recorded_space, module_space in pairs:
            if recorded_space != module_space:
                raise ConfigError(
                    f"recorded agent {agent_id!r} has {what} space {recorded_space}, but module "
                    f"{module_id!r} has {module_space}; the episodes were recorded from "
                    f"{recorded.env!r}: configure that env, or record the configured one"
                )

    def train(self) -> dict[str, Any]:
        """One iteration: ``num_epochs`` passes over ``train_batch_size`` sampled steps."""
        size = self.config.training_settings["train_batch_size"]
        batch = {}
        for module_id, rows in self.rows.items():
            count = int(rows[Columns.ACTIONS].shape[0])
            index = torch.randint(count, (size,), generator=self.torch_generator) \
                if count < size else torch.randperm(count, generator=self.torch_generator)[:size]
            batch[module_id] = tree_map(lambda x, ix=index: x[ix], rows)
        metrics = self.learner.update(batch, timestep=self.timesteps)
        self.iteration += 1
        self.timesteps += size
        return self._with_evaluation({
            "training_iteration": self.iteration,
            "num_offline_steps_trained_lifetime": self.timesteps,
            **metrics,
        })
