"""RMSprop, exactly as ``torch.optim.RMSprop`` (Hinton's lecture 6e rule, with PyTorch's
placement of eps outside the square root)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_non_negative, _gradient, _zeros_state


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's update rule. For each parameter ``p``::

        g = p.grad + weight_decay * p               (-p.grad + weight_decay * p if maximize)
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
        _check_non_negative(
            "RMSprop", lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha
        )
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

    def _update(self, p: Tensor, group: dict) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = _zeros_state(p)
        # (the two optional buffers also appear when momentum or centered is switched on later)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = _zeros_state(p)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = _zeros_state(p)
        state["step"] += 1
        g = _gradient(p, group["maximize"], group["weight_decay"])
        s = state["square_avg"]._data
        s *= alpha
        s += (1 - alpha) * g * g
        if group["centered"]:
            a = state["grad_avg"]._data
            a *= alpha
            a += (1 - alpha) * g
            denom = np.sqrt(s - a * a) + eps
        else:
            denom = np.sqrt(s) + eps
        if momentum > 0:
            b = state["momentum_buffer"]._data
            b *= momentum
            b += g / denom
            p._data -= lr * b
        else:
            p._data -= lr * g / denom
