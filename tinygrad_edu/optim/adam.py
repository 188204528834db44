"""Adam and AdamW (decoupled weight decay), exactly as ``torch.optim.Adam`` / ``AdamW``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_non_negative, _gradient, _zeros_state


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), PyTorch's update rule. At step ``t`` (from 1)::

        g = p.grad + weight_decay * p                (-p.grad + weight_decay * p if maximize)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v = v_max = max(v_max, v)                    (amsgrad only)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w   # the first Adam step moves every coordinate by about lr
    tensor([ 0.9, -0.9], requires_grad=True)
    """

    _decoupled = False  # AdamW sets it: weight decay shrinks p instead of entering g

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        name = type(self).__name__
        _check_non_negative(name, lr=lr, eps=eps)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{name}: invalid betas={betas}; each must be in [0, 1)")
        _check_non_negative(name, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(self, p: Tensor, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:  # (also if switched on later)
            state["max_exp_avg_sq"] = _zeros_state(p)
        state["step"] = t = state["step"] + 1
        if self._decoupled:  # AdamW: p = p - lr * weight_decay * p
            p._data *= 1 - lr * group["weight_decay"]
            g = _gradient(p, group["maximize"], weight_decay=0.0)
        else:
            g = _gradient(p, group["maximize"], group["weight_decay"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]._data
            np.maximum(v_max, v, out=v_max)
            v = v_max
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p._data -= lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's rule: before the
    Adam step the weights shrink, ``p = p * (1 - lr * weight_decay)``, and the decay never
    enters the moment estimates. Default ``weight_decay=1e-2`` as in PyTorch."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
