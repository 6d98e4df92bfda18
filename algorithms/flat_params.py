"""Trainable parameters as views of one contiguous buffer, so per-step work is a few kernels.

A PPO step on a small network spends more time looping over its dozen tensors (zeroing
gradients, the gradient norm, clipping, the optimizer step) than computing. Here each
parameter's data and gradient become views into one flat buffer per (device, dtype): those
loops become single whole-buffer kernels. The parameters stay the same ``Parameter`` objects,
so the module, its ``state_dict`` and in-place loads (``load_state_dict``) are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch

__all__ = ["FlatParameters"]


class FlatParameters:
    """One flat ``Parameter`` (with a flat ``.grad``) per device and dtype of ``params``.

    The optimizer steps :attr:`buffers`; backward accumulates into the flat gradients
    through the per-parameter views. Code that replaces a parameter's ``.data`` or sets its
    ``.grad`` to None (``module.to()``, ``module.zero_grad()``) would silently cut the link,
    so :meth:`zero_grad` restores gradient views and :meth:`is_linked` reports cut data.

    Example::

        flat = FlatParameters(module.parameters())
        optimizer = torch.optim.Adam(flat.buffers)
        flat.zero_grad(); loss.backward(); flat.clip_grad_norm_(0.5); optimizer.step()
    """

    def __init__(self, params: Iterable[torch.nn.Parameter]) -> None:
        self.params = list(params)
        groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
        for index, param in enumerate(self.params):
            groups.setdefault((param.device, param.dtype), []).append(index)
        #: Per group: the flat parameter and the indices of ``params`` it holds, in order.
        self.groups: list[tuple[torch.nn.Parameter, list[int]]] = []
        self._grad_views: list[torch.Tensor] = [torch.empty(0)] * len(self.params)
        for indices in groups.values():
            flat = torch.nn.Parameter(
                torch.cat([self.params[i].detach().reshape(-1) for i in indices])
            )
            flat.grad = torch.zeros_like(flat)
            for i, (data, grad) in zip(indices, zip(_views(flat.data, self.params, indices),
                                                    _views(flat.grad, self.params, indices))):
                self.params[i].data = data
                self.params[i].grad = grad
                self._grad_views[i] = grad
            self.groups.append((flat, indices))
        self._data_ptrs = [p.data_ptr() for p in self.params]

    @property
    def buffers(self) -> list[torch.nn.Parameter]:
        """The flat parameters, for the optimizer."""
        return [flat for flat, _ in self.groups]

    def is_linked(self) -> bool:
        """False once some parameter's data no longer lives in its flat buffer."""
        return all(p.data_ptr() == ptr for p, ptr in zip(self.params, self._data_ptrs))

    def zero_grad(self) -> None:
        """Zero the flat gradients (and re-attach views a ``zero_grad(set_to_none)`` dropped)."""
        for param, view in zip(self.params, self._grad_views):
            if param.grad is not view:
                param.grad = view
        for flat, _ in self.groups:
            flat.grad.zero_()

    def clip_grad_norm_(self, max_norm: float) -> torch.Tensor:
        """Scale the gradients to a total 2-norm of at most ``max_norm``; the norm before.

        The same rule as ``torch.nn.utils.clip_grad_norm_`` in a few kernels: that function
        groups and loops over tensors, which costs more than the math on a single buffer.
        """
        grads = [flat.grad for flat, _ in self.groups]
        norms = [torch.linalg.vector_norm(g) for g in grads]
        total = norms[0] if len(norms) == 1 else torch.linalg.vector_norm(torch.stack(
            [n.to(norms[0].device, torch.float32) for n in norms]))
        scale = (max_norm / (total + 1e-6)).clamp_(max=1.0)
        for g in grads:
            g.mul_(scale.to(g.device, g.dtype))
        return total

    def split(self, group: int, tensor: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
        """``(param index, view)`` pairs cutting ``tensor``, shaped like group ``group``'s
        buffer (e.g. an optimizer moment), the way the parameters are cut."""
        _, indices = self.groups[group]
        return list(zip(indices, _views(tensor, self.params, indices)))

    def join(self, group: int, per_param: Mapping[int, torch.Tensor]) -> torch.Tensor:
        """The inverse of :meth:`split`: group ``group``'s flat tensor from per-parameter ones."""
        flat, indices = self.groups[group]
        return torch.cat([per_param[i].reshape(-1) for i in indices]).to(flat)


def _views(flat: torch.Tensor, params: Sequence[torch.Tensor], indices: Sequence[int]
           ) -> list[torch.Tensor]:
    out, offset = [], 0
    for i in indices:
        n = params[i].numel()
        out.append(flat[offset:offset + n].view_as(params[i]))
        offset += n
    return out
