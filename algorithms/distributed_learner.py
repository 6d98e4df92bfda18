"""Data-parallel learners: ``num_learners`` Ray actors in one ``torch.distributed`` group
(gloo, on CPUs).

Every learner gets the whole train batch (one ``ray.put``) and the same minibatch order
(the algorithm's generator state), prepares it identically, and trains on its own shard
of each minibatch. A shard's loss is weighted by its share of the minibatch's rows and
the gradients are summed over the learners (``all_reduce``), which is the gradient of the
whole minibatch's loss: the same math as one learner (DistributedDataParallel's, with
exact weighting for unequal shards). Gradient clipping and the optimizer step then run on
identical gradients, so the learners stay identical without broadcasting weights.

The algorithm's own module and generator stay authoritative: each update sends the
weights in and takes the updated ones back, so checkpoints and ``--resume`` do not
depend on the number of learners.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import torch
from rlmodules.columns import Columns
from rlmodules.errors import LearnerGroupError

from .remote import (
    START_TIMEOUT_S,
    connect_ray,
    module_files,
    module_from_files,
    not_started,
    to_numpy,
    to_torch,
)
from .rollout import num_rows, tree_map

__all__ = ["LearnerGroup", "LearnerActor", "DataParallel", "LearnerGroupError"]

#: Metrics that are already whole-minibatch values on every learner (read from rank 0).
_GLOBAL_METRICS = ("learner/grad_norm", "learner/lr", "learner/num_minibatch_steps")


class DataParallel:
    """This learner's part of each minibatch and the gradient sum over the group."""

    def __init__(self, rank: int, world_size: int) -> None:
        self.rank = rank
        self.world_size = world_size

    def shard(self, minibatch: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
        """``({module_id: this learner's rows}, {module_id: their share of the loss})``;
        a module with no rows here is left out (weight 0)."""
        shard, weights = {}, {}
        for mid, batch in minibatch.items():
            mask = batch.get(Columns.LOSS_MASK)
            total = float(mask.sum()) if mask is not None else float(num_rows(batch))
            part = tree_map(lambda x: x.tensor_split(self.world_size)[self.rank], batch)
            size = num_rows(part)
            if size == 0 or total == 0:
                continue
            mine = float(part[Columns.LOSS_MASK].sum()) if mask is not None else float(size)
            shard[mid], weights[mid] = part, mine / total
        return shard, weights

    def all_reduce_gradients(self, flat: Any) -> None:
        """Sum the flat gradients of one optimizer part over the learners."""
        import torch.distributed as dist

        for buffer in flat.buffers:
            dist.all_reduce(buffer.grad, op=dist.ReduceOp.SUM)


class LearnerActor:
    """One learner of the group (a Ray actor's body): a copy of the module and of the
    algorithm's learner, built by :meth:`setup` (a task, so Ray hands a build error back
    as it was raised) and joined to the process group by :meth:`join`."""

    def setup(self, *, learner_class: type, config: Any, files: dict[str, bytes],
              rank: int, world_size: int) -> None:
        torch.set_num_threads(max(1, int(config.learner_settings["num_cpus_per_learner"])))
        module = module_from_files(files, inference_only=False)
        self.learner = learner_class(module=module, config=config, generator=torch.Generator())
        self.learner.data_parallel = DataParallel(rank, world_size)
        self.rank, self.world_size = rank, world_size

    def address(self) -> tuple[str, int]:
        """Where rank 0 hosts the group: this node's address and a free port."""
        import ray

        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        return ray.util.get_node_ip_address(), port

    def join(self, host: str, port: int, timeout_s: float) -> None:
        import torch.distributed as dist

        dist.init_process_group(
            "gloo", init_method=f"tcp://{host}:{port}", rank=self.rank, world_size=self.world_size,
            timeout=timedelta(seconds=timeout_s))

    def update(self, weights: Any, generator_state: torch.Tensor, rollouts: Any,
               timestep: int) -> tuple[dict[str, float], Any, Any]:
        """Train on ``rollouts`` from ``weights``; metrics (this shard's share), and on
        rank 0 the generator state and the new weights."""
        self.learner.module.set_state(to_torch(weights))
        self.learner.generator.set_state(generator_state)
        metrics = self.learner.update(to_torch(rollouts), timestep=timestep)
        if self.rank != 0:
            return metrics, None, None
        return (metrics, self.learner.generator.get_state(),
                to_numpy(self.learner.module.get_state()))

    def get_optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors, data = self.learner.get_optimizer_state()
        return {k: v.cpu() for k, v in tensors.items()}, data

    def set_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                            data: Mapping[str, Any]) -> None:
        self.learner.set_optimizer_state(tensors, data)

    def close(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


class LearnerGroup:
    """``num_learners`` :class:`LearnerActor` s behind the interface the algorithm uses of
    its own ``learner`` (``update``, optimizer state, ``close``), whose module and
    generator it keeps in step.

    Example::

        algo = PPOConfig().environment("CartPole-v1").learners(num_learners=2).build()
        algo.train()      # each minibatch sharded over two processes
    """

    def __init__(self, learner: Any, config: Any) -> None:
        settings = config.learner_settings
        self.ray = connect_ray("num_learners >= 2", config.env_runner_settings["ray_address"])
        self.local = learner
        count = settings["num_learners"]
        actor_class = self.ray.remote(LearnerActor).options(
            num_cpus=settings["num_cpus_per_learner"])
        files = module_files(learner.module)
        self.actors = [actor_class.remote() for _ in range(count)]
        try:
            self.ray.get([
                actor.setup.remote(learner_class=type(learner), config=config, files=files,
                                   rank=rank, world_size=count)
                for rank, actor in enumerate(self.actors)], timeout=START_TIMEOUT_S)
            host, port = self.ray.get(self.actors[0].address.remote(), timeout=START_TIMEOUT_S)
            timeout_s = float(config.env_runner_settings["sample_timeout_s"])
            self.ray.get([a.join.remote(host, port, timeout_s) for a in self.actors],
                         timeout=START_TIMEOUT_S)
        except self.ray.exceptions.GetTimeoutError:
            self.close()
            raise LearnerGroupError(not_started(
                self.ray, f"{count} learners", START_TIMEOUT_S, "num_cpus_per_learner",
                settings["num_cpus_per_learner"])) from None
        except BaseException:
            self.close()
            raise

    def update(self, rollouts: Mapping[str, Mapping[str, Any]], *, timestep: int
               ) -> dict[str, float]:
        ray = self.ray
        weights = ray.put(to_numpy(self.local.module.get_state()))
        batch = ray.put(to_numpy(rollouts))
        generator_state = self.local.generator.get_state()
        replies = ray.get([a.update.remote(weights, generator_state, batch, timestep)
                           for a in self.actors])
        _, new_generator_state, new_weights = replies[0]
        self.local.generator.set_state(new_generator_state)
        self.local.module.set_state(to_torch(new_weights))
        shares = [reply[0] for reply in replies]
        keys = dict.fromkeys(key for share in shares for key in share)
        return {key: shares[0][key] if key in _GLOBAL_METRICS
                else sum(share.get(key, 0.0) for share in shares) for key in keys}

    def get_optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return self.ray.get(self.actors[0].get_optimizer_state.remote())

    def set_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                            data: Mapping[str, Any]) -> None:
        self.ray.get([a.set_optimizer_state.remote(dict(tensors), dict(data))
                      for a in self.actors])

    def checked_optimizer_state(self, tensors: Mapping[str, torch.Tensor],
                                data: Mapping[str, Any]) -> Callable[[], None]:
        """Checked against the local learner (the actors' copies have its layout); the
        returned function loads it into every actor."""
        self.local.checked_optimizer_state(tensors, data)
        return lambda: self.set_optimizer_state(tensors, data)

    def close(self) -> None:
        self.ray.wait([a.close.remote() for a in self.actors], num_returns=len(self.actors),
                      timeout=5.0)
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.actors = []
