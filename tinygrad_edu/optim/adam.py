"""Adam and AdamW (decoupled weight decay), exactly as ``torch.optim.Adam`` / ``AdamW``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), PyTorch's update rule. At step ``t`` (from 1)::

        g = p.grad + weight_decay * p                 (-p.grad if maximize)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                        (amsgrad only; then use v_max for v)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w   # the first Adam step moves every coordinate by about lr
    tensor([ 0.9, -0.9], requires_grad=True)
    """

    _decoupled = False

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
        if lr < 0.0:
            raise ValueError(f"{name}: invalid learning rate lr={lr}; it must be >= 0")
        if eps < 0.0:
            raise ValueError(f"{name}: invalid eps={eps}; it must be >= 0")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{name}: invalid betas={betas}; each must be in [0, 1)")
        if weight_decay < 0.0:
            raise ValueError(f"{name}: invalid weight_decay={weight_decay}; it must be >= 0")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p.data
            g = p.grad.data
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = Tensor._wrap(np.zeros_like(w))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(w))
                if amsgrad:
                    state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(w))
            state["step"] = t = state["step"] + 1
            tmp = self._scratch(w, 0)
            if maximize:
                g = np.negative(g, out=self._scratch(w, 1))
            if weight_decay != 0:
                if self._decoupled:
                    w *= 1 - lr * weight_decay
                else:
                    g = np.add(g, np.multiply(w, weight_decay, out=tmp), out=self._scratch(w, 1))
            m, v = state["exp_avg"].data, state["exp_avg_sq"].data
            m *= beta1
            self._axpy(m, 1 - beta1, g)
            v *= beta2
            self._axpy(v, 1 - beta2, np.multiply(g, g, out=tmp))
            if amsgrad:
                v_max = state.get("max_exp_avg_sq")
                if v_max is None:  # amsgrad switched on after some steps
                    v_max = state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(w))
                v = np.maximum(v_max.data, v, out=v_max.data)
            denom = np.sqrt(v, out=tmp)
            denom /= math.sqrt(1 - beta2**t)
            denom += eps
            self._axpy(w, -lr / (1 - beta1**t), np.divide(m, denom, out=tmp))
            p._bump_version(label=self._update_label)


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
