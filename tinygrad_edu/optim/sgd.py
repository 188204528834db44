"""SGD: the lecture's gradient descent (eq. 5) and stochastic gradient descent (eq. 7), with
momentum, dampening, Nesterov momentum and weight decay exactly as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor
from .optimizer import Optimizer, _check_non_negative, required


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
        _check_non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
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

    def _update(self, p: Tensor, group: dict) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]
        g = p.grad._data  # the user's array: read, never written
        if weight_decay != 0:
            g = g + weight_decay * p._data
        if momentum != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:  # first step: b = g (a copy: g may be p.grad's)
                state["momentum_buffer"] = Tensor._wrap(g.copy())
                b = state["momentum_buffer"]._data
            else:
                b = state["momentum_buffer"]._data
                b *= momentum
                b += (1 - dampening) * g
            g = g + momentum * b if group["nesterov"] else b
        if group["maximize"]:
            p._data += lr * g
        else:
            p._data -= lr * g
