"""Where learners train and samplers act: devices, and the acting copy of the module.

``learners(num_gpus_per_learner=1)`` puts the learner's module, optimizer and batches on
the GPU (with several learners, one GPU each); samplers act on the CPU with an acting copy
of the module that :meth:`ActingModule.sync` refreshes once per sampling round, one copy
per parameter buffer. ``env_runners(num_gpus_per_env_runner=1)`` makes them act with the
learner's module on its GPU instead. With the learner on the CPU the samplers act with the
learner's module itself, unless the acting forward is compiled or runs in another
precision: those wrap a copy, so the algorithm's module stays as the user built it.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from rlmodules.errors import ConfigError

from .compiling import CompileClock, compiled
from .precision import Precision

__all__ = ["learner_device", "acting_device", "ActingModule", "require_cuda"]

_FORWARDS = ("_forward_exploration", "_forward_inference")


def require_cuda(setting: str) -> torch.device:
    """The current CUDA device, or a ``ConfigError`` naming ``setting`` when there is none."""
    if not torch.cuda.is_available():
        build = f"built with CUDA {torch.version.cuda}" if torch.version.cuda \
            else "a CPU-only build"
        raise ConfigError(
            f"{setting} asks for a GPU, but CUDA is not available here (torch "
            f"{torch.__version__}, {build}, {torch.cuda.device_count()} GPUs visible); "
            f"train on the CPU ({setting.split('=')[0]}=0, or `rlmodules train --device cpu`"
            f" / `--device auto`), or install a CUDA build of torch on a machine with a GPU"
        )
    return torch.device("cuda", torch.cuda.current_device())


def learner_device(config: Any) -> torch.device:
    """The device of one learner: a GPU when ``num_gpus_per_learner > 0``."""
    gpus = config.learner_settings["num_gpus_per_learner"]
    return require_cuda(f"num_gpus_per_learner={gpus}") if gpus > 0 else torch.device("cpu")


def acting_device(config: Any) -> torch.device:
    """The device samplers in this process act on: a GPU when
    ``num_gpus_per_env_runner > 0``, else the CPU."""
    gpus = config.env_runner_settings["num_gpus_per_env_runner"]
    return require_cuda(f"num_gpus_per_env_runner={gpus}") if gpus > 0 else torch.device("cpu")


class ActingModule:
    """The module samplers act with, kept in step with the learner's ``source`` module.

    ``module`` is ``source`` itself when both live on one device and acting needs no
    wrapping (and not ``copy_always``); otherwise an acting copy on ``device`` whose
    parameters are views of one flat buffer per learner optimizer buffer, so :meth:`sync`
    is one copy per buffer (device to host for a GPU learner) plus the few tensors no
    optimizer steps (target networks, normalisation buffers).

    Example::

        acting = ActingModule(algo.module, torch.device("cpu"), config)
        acting.sync(algo.learner)        # before each sampling round
        sampler = make_sampler(config, creator, acting.module, seed=0)
    """

    def __init__(self, source: Any, device: torch.device, config: Any,
                 clock: CompileClock | None = None, *, copy_always: bool = False) -> None:
        self.source = source
        precision = config.learner_settings["precision"]
        # Acting follows the learner's precision on the same kind of device.
        same_kind = device.type == _device_of(source).type
        self.precision = Precision(precision if same_kind else "32-true", device)
        compile_config = config.get_torch_compile_worker_config() \
            if config.framework_settings["torch_compile_worker"] else None
        wrapped = compile_config is not None or self.precision.candidates != ["32-true"]
        self.clock = clock or CompileClock()
        self._flat: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        if device == _device_of(source) and not wrapped and not copy_always:
            self.module = source
            return
        self.module = copy.deepcopy(source).to(device)
        for param in self.module.parameters():
            param.grad = None
            param.requires_grad_(False)
        self.module.eval()
        for sub in _torch_modules(self.module):
            for name in _FORWARDS:
                forward = getattr(sub, name)
                if compile_config is not None:
                    forward = compiled(forward, compile_config, self.clock,
                                       what=f"acting forward ({name})")
                setattr(sub, name, self.precision.wrap_forward(forward))
        self._named = _named_tensors(self.module)
        self._linked = False

    @property
    def is_copy(self) -> bool:
        return self.module is not self.source

    def sync(self, learner: Any = None) -> None:
        """Copy the learner's current weights into the acting copy (nothing to do when
        acting with the learner's module). The parameters ``learner``'s optimizers step
        come over as one copy per flat buffer."""
        if not self.is_copy:
            return
        if not self._linked:
            self._link(learner)
        with torch.no_grad():
            for target, buffer in self._flat:
                target.copy_(buffer)
            for target, tensor in self._pairs:
                target.copy_(tensor)

    def _link(self, learner: Any) -> None:
        """Point the copy's parameters that one learner buffer holds at views of one acting
        buffer, in that buffer's order; the other tensors are copied one by one."""
        source = _named_tensors(self.source)
        target_of = {id(source[name]): self._named[name] for name in self._named}
        covered: set[int] = set()
        for part in getattr(learner, "parts", {}).values():
            for buffer, indices in part.flat.groups:
                params = [part.flat.params[i] for i in indices]
                if not all(id(p) in target_of for p in params):
                    continue  # e.g. SAC's temperature: not in the module
                targets = [target_of[id(p)] for p in params]
                flat = torch.empty(buffer.numel(), dtype=buffer.dtype,
                                   device=targets[0].device,
                                   pin_memory=_pinned(buffer, targets[0]))
                offset = 0
                for target in targets:
                    target.data = flat[offset:offset + target.numel()].view_as(target)
                    offset += target.numel()
                self._flat.append((flat, buffer.detach()))
                covered.update(id(p) for p in params)
        self._pairs = [(self._named[name], tensor.detach()) for name, tensor in source.items()
                       if id(tensor) not in covered]
        self._linked = True


def _device_of(module: Any) -> torch.device:
    for tensor in module.parameters():
        return tensor.device
    return torch.device("cpu")


def _torch_modules(module: Any) -> list[Any]:
    """The modules whose forwards acting calls: each of a MultiRLModule's sub-modules."""
    if hasattr(module, "keys") and callable(module.keys):
        return [module[mid] for mid in module.keys() if isinstance(module[mid], torch.nn.Module)]
    return [module]


def _named_tensors(module: Any) -> dict[str, torch.Tensor]:
    """Every parameter and buffer by name (shared ones once)."""
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def _pinned(buffer: torch.Tensor, target: torch.Tensor) -> bool:
    """Pinned host memory for a buffer copied from a GPU (a faster, direct transfer)."""
    return buffer.device.type == "cuda" and target.device.type == "cpu"
