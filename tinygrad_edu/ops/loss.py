"""The losses' primitives: log-softmax, negative log-likelihood and softmax cross-entropy."""

from __future__ import annotations

import math

import numpy as np

from .._shapes import normalize_axis
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from .elementwise import Exp
from .reduce import Sum
from .shape import IndexAdd, Reshape


class LogSoftmax(Function):
    """y = x - logsumexp(x, axes), computed as s - log(sum(exp(s))) with s = x - max(x);
    dx = grad - exp(y) · sum(grad, axes)

    A primitive, as in PyTorch (its own LogSoftmaxBackward), not a composite: one record and
    four ops in backward instead of five records and seven ops, which was 3% of an MLP training
    step (the loss is the one place every classifier pays per-op costs on small arrays).
    Finite at logits of ±1e4; a row's non-finite maximum is replaced by 0 (an all -inf row
    gives NaN, as ``log(0 / 0)`` should).
    """

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        if x.size == 0:
            out = x.copy()
        else:
            m = np.maximum.reduce(x, axis=axes, keepdims=True)  # np.max without its wrapper
            if not math.isfinite(np.add.reduce(m, axis=None)):  # (an inf or NaN maximum; or an
                # overflowing sum of finite ones, which the line below leaves as they are)
                m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
            out = x - m
            out -= np.log(np.add.reduce(np.exp(out), axis=axes, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if not is_grad_enabled():  # a plain backward: the same formula on the arrays (four
            # engine ops would cost ~10 us each between GEMMs; see linalg._matrix_grads)
            g = grad.data
            return Tensor._wrap(g - np.exp(y.data) * np.add.reduce(g, axis=ctx.axes, keepdims=True))
        total = Sum.apply(grad, axes=ctx.axes, keepdims=True)
        return grad - Exp.apply(y) * total


def _reduce_rows(ctx, values: np.ndarray, weight, reduction: str):
    """The reduction of a per-row loss (NllLoss, CrossEntropy): 'none' the values, 'sum' their
    total, 'mean' the total over the summed row weights (N without weights; NaN when nothing
    counts, as torch). ``ctx.den`` keeps the divisor for backward."""
    if reduction == "none":
        return values
    total = np.add.reduce(values)
    if reduction == "sum":
        return total
    ctx.den = den = values.shape[0] if weight is None else np.add.reduce(weight)
    if den:
        return total / den
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / den


class NllLoss(Function):
    """y = -Σᵢ wᵢ·x[i, tᵢ] / d  (d = Σᵢ wᵢ for 'mean', 1 for 'sum'; no sum for 'none');
    dx = zeros with -grad·wᵢ/d added at (i, tᵢ)

    The negative log-likelihood of class indices ``target`` (N,) for log-probabilities
    ``x`` (N, C), with per-row weights ``weight`` (N,) or None (all 1; rows to ignore carry
    weight 0 and any valid index). A primitive, as in PyTorch (its own NllLossBackward): the
    gather, the weights and the reduction are one record, not three. ``target`` and
    ``weight`` are kept as given: pass arrays the caller cannot change (nll_loss copies).
    """

    @staticmethod
    def forward(ctx, x, target, weight=None, reduction="mean"):
        rows = np.arange(target.shape[0])
        picked = x[rows, target]  # a fresh array: fancy indexing copies
        if weight is not None:
            picked *= weight
        ctx.index, ctx.shape, ctx.weight, ctx.reduction = (rows, target), x.shape, weight, reduction
        return _reduce_rows(ctx, np.negative(picked, out=picked), weight, reduction)

    @staticmethod
    def backward(ctx, grad):
        w = ctx.weight
        if ctx.reduction == "none":
            g = -grad if w is None else grad * Tensor._wrap(-w)
        elif w is None:  # a 0-d gradient, spread over the picked positions by IndexAdd itself
            scale = -1.0 if ctx.reduction == "sum" else -1.0 / (ctx.den or 1)
            g = grad * scale if is_grad_enabled() else Tensor._wrap(np.asarray(grad.data * scale))
        else:
            coef = -w if ctx.reduction == "sum" else -w / (ctx.den or 1)
            g = grad * Tensor._wrap(coef)
        return IndexAdd.apply(g, ctx.index, ctx.shape)


class CrossEntropy(Function):
    """y = Σᵢ wᵢ·(logsumexp(x[i]) - x[i, tᵢ]) / d  (d = Σᵢ wᵢ for 'mean', 1 for 'sum'; no sum
    for 'none');  dx[i] = aᵢ·(softmax(x[i]) - onehot(tᵢ)),  aᵢ = grad·wᵢ/d

    Softmax cross-entropy of class indices ``target`` (N,) for logits ``x`` (N, C): the one
    record of ``F.cross_entropy``, as fused as the hand-written loss (LogSoftmax and NllLoss
    are two records and six ops in backward; one here: measured ~3% of an MLP training step,
    where each op costs ~10 us between GEMMs). Weights and reductions as NllLoss's; the forward
    keeps the softmax for backward, as the hand-written loss does. With create_graph the same
    formula is recorded from the logits (through LogSoftmax), so it differentiates again.
    """

    @staticmethod
    def forward(ctx, x, target, weight=None, reduction="mean"):
        ctx.save_for_backward(x)  # read (version-checked) only by a create_graph backward
        n = target.shape[0]
        rows = np.arange(n)
        ctx.index, ctx.weight, ctx.reduction = (rows, target), weight, reduction
        if x.size == 0:
            e, per_row = x.copy(), np.zeros(n, x.dtype)
        else:
            m = np.maximum.reduce(x, axis=1, keepdims=True)
            if not math.isfinite(np.add.reduce(m, axis=None)):  # as LogSoftmax.forward
                m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
            e = x - m
            per_row = -e[rows, target]  # max - x[i, t] (a fresh array: fancy indexing copies)
            np.exp(e, out=e)
            s = np.add.reduce(e, axis=1, keepdims=True)
            per_row += np.log(s[:, 0])
            e /= s  # the softmax, for backward
        ctx.prob = e
        if weight is not None:
            per_row *= weight
        return _reduce_rows(ctx, per_row, weight, reduction)

    @staticmethod
    def backward(ctx, grad):
        w, reduction = ctx.weight, ctx.reduction
        scale = 1.0 if reduction != "mean" else 1.0 / (ctx.den or 1)
        if not is_grad_enabled():  # a plain backward: the formula on the arrays
            a = grad.data * scale if w is None else grad.data * (w * scale)  # () or (N,)
            dx = ctx.prob * (a if a.ndim == 0 else a[:, None])
            dx[ctx.index] -= a
            return Tensor._wrap(dx)
        (x,) = ctx.saved_tensors  # the same formula as recorded ops of the logits
        a = grad * scale if w is None else grad * Tensor._wrap(w * scale)
        spread = IndexAdd.apply(a, ctx.index, x.shape)
        if a.data.ndim:  # one coefficient per row
            a = Reshape.apply(a, (a.data.shape[0], 1))
        return Exp.apply(LogSoftmax.apply(x, axes=(1,))) * a - spread


