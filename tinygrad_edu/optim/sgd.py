"""SGD: the lecture's gradient descent (eq. 5) and stochastic gradient descent (eq. 7), with
momentum, dampening, Nesterov momentum and weight decay exactly as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import _BLAS_AXPY, Optimizer, required


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's update rule. For each parameter ``p``::

        g = p.grad + weight_decay * p
        b = g                                     (first step)
        b = momentum * b + (1 - dampening) * g    (later steps)      if momentum != 0
        g = g + momentum * b  if nesterov  else  b                   if momentum != 0
        p = p - lr * g                            (p + lr * g if maximize)

    With ``momentum=0`` this is the lecture's plain rule ``θ ← θ - η ∇L``; whether it is
    gradient descent (eq. 5) or SGD (eq. 7) depends on whether the loss was computed on the
    whole training set or on a mini-batch.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)   # 1 - 0.5*2 = 0;  b = 0.9*2 + 0 = 1.8;  0 - 0.5*1.8
    -0.9
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr is not required and lr < 0.0:
            raise ValueError(f"SGD: invalid learning rate lr={lr}; it must be >= 0")
        if momentum < 0.0:
            raise ValueError(f"SGD: invalid momentum={momentum}; it must be >= 0")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: invalid weight_decay={weight_decay}; it must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        sign = 1.0 if group["maximize"] else -1.0
        if momentum == 0 and weight_decay == 0:  # the lecture's plain rule: one pass each
            step, label, block = sign * lr, self._update_label, self._blas_block
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                y, x = p.data, g.data
                blas = _BLAS_AXPY.get(y.dtype.char)
                # Optimizer._axpy's one-call case, inlined (26 -> 12 traced lines a parameter):
                # y C-contiguous, aligned and writeable (flags.carray), x contiguous, same dtype
                if (blas is not None and y.size <= block and x.dtype == y.dtype
                        and y.flags.carray and x.flags.c_contiguous):
                    blas(x.reshape(-1), y.reshape(-1), y.size, step)
                else:
                    self._axpy(y, step, x)
                vc = p._vc  # (Tensor._bump_version with a ready label, inlined)
                if vc is None:
                    vc = p._vc = [0, None, False]
                vc[0] += 1
                vc[1] = label
            return
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p.data
            g = p.grad.data
            if weight_decay != 0:
                g = np.multiply(w, weight_decay, out=self._scratch(w, 0))
                g += p.grad.data
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = Tensor._wrap(g.copy())
                else:
                    buf.data *= momentum
                    self._axpy(buf.data, 1 - dampening, g)
                if nesterov:  # w -= lr * (g + momentum * b), as two fused passes
                    self._axpy(w, sign * lr, g)
                    self._axpy(w, sign * lr * momentum, buf.data)
                else:
                    self._axpy(w, sign * lr, buf.data)
            else:
                self._axpy(w, sign * lr, g)
            p._bump_version(label=self._update_label)
