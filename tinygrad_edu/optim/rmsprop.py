"""RMSprop, exactly as ``torch.optim.RMSprop`` (Hinton's lecture 6e rule, with PyTorch's
placement of eps outside the square root)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's update rule. For each parameter ``p``::

        g = p.grad + weight_decay * p               (-p.grad if maximize)
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g             (centered only)
        d = sqrt(s - a * a) + eps  if centered  else  sqrt(s) + eps
        b = momentum * b + g / d;  p = p - lr * b   if momentum > 0
        p = p - lr * g / d                          otherwise

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)   # 1 - 0.01 * 2 / (sqrt(0.01 * 4) + 1e-8)
    0.9
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"RMSprop: invalid learning rate lr={lr}; it must be >= 0")
        if eps < 0.0:
            raise ValueError(f"RMSprop: invalid eps={eps}; it must be >= 0")
        if momentum < 0.0:
            raise ValueError(f"RMSprop: invalid momentum={momentum}; it must be >= 0")
        if weight_decay < 0.0:
            raise ValueError(f"RMSprop: invalid weight_decay={weight_decay}; it must be >= 0")
        if alpha < 0.0:
            raise ValueError(f"RMSprop: invalid alpha={alpha}; it must be >= 0")
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        centered, maximize = group["centered"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p.data
            g = p.grad.data
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = Tensor._wrap(np.zeros_like(w))
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor._wrap(np.zeros_like(w))
            if centered and "grad_avg" not in state:
                state["grad_avg"] = Tensor._wrap(np.zeros_like(w))
            state["step"] += 1
            tmp = self._scratch(w, 0)
            if maximize:
                g = np.negative(g, out=self._scratch(w, 1))
            if weight_decay != 0:
                g = np.add(g, np.multiply(w, weight_decay, out=tmp), out=self._scratch(w, 1))
            s = state["square_avg"].data
            s *= alpha
            self._axpy(s, 1 - alpha, np.multiply(g, g, out=tmp))
            if centered:
                a = state["grad_avg"].data
                a *= alpha
                self._axpy(a, 1 - alpha, g)
                np.multiply(a, a, out=tmp)
                denom = np.sqrt(np.subtract(s, tmp, out=tmp), out=tmp)
            else:
                denom = np.sqrt(s, out=tmp)
            denom += eps
            step = np.divide(g, denom, out=tmp)
            if momentum > 0:
                b = state["momentum_buffer"].data
                b *= momentum
                b += step
                step = b
            self._axpy(w, -lr, step)
            p._bump_version(label=self._update_label)
