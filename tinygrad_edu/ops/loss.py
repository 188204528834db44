"""The classifier's loss primitives: log-softmax, negative log-likelihood and softmax
cross-entropy. Each could be composed from smaller ops; why each is not, its docstring says."""

from __future__ import annotations

import math

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .elementwise import Exp, Where
from .reduce import Sum
from .shape import IndexAdd


def _log_softmax(x: np.ndarray, axes: tuple) -> np.ndarray:
    """x - logsumexp(x, axes) on an array, shifted by the maximum so that exp cannot overflow."""
    if x.size == 0:
        return x.copy()
    m = np.maximum.reduce(x, axis=axes, keepdims=True)
    if not math.isfinite(np.add.reduce(m, axis=None)):  # an inf or NaN maximum (or an
        # overflowing sum of finite ones, which the line below leaves as they are)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    out = x - m
    out -= np.log(np.add.reduce(np.exp(out), axis=axes, keepdims=True))
    return out


class LogSoftmax(Function):
    """y = x - logsumexp(x, axes), computed as s - log(sum(exp(s))) with s = x - max(x);
    dx = grad - exp(y) · sum(grad, axes)

    A primitive, as in PyTorch, for stability: the shift by the maximum keeps it finite at
    logits of ±1e4, where the composite exp / sum / log overflows. A row's non-finite maximum
    is replaced by 0 (an all -inf row gives NaN, as ``log(0 / 0)`` should).
    """

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        out = _log_softmax(x, axes)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - Exp.apply(y) * Sum.apply(grad, axes=ctx.axes, keepdims=True)


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
    return total / den


def _weighted(values: np.ndarray, weight) -> np.ndarray:
    """wᵢ·valuesᵢ, and exactly 0 where wᵢ = 0: an ignored row takes no part, even when its
    value is inf or NaN (a padding row's logits), as PyTorch skips it."""
    if weight is None:
        return values
    return np.where(weight == 0, 0, values * weight)


def _row_coefficients(ctx, grad: Tensor) -> Tensor:
    """aᵢ = grad·wᵢ/d, each row's share of the incoming gradient of a per-row loss: a 0-d
    tensor without weights ('mean', 'sum'), else one per row (N,), selected to exactly 0 in
    rows of weight 0 (0 even when grad is inf)."""
    scale = 1.0 / (ctx.den or 1) if ctx.reduction == "mean" else 1.0
    if ctx.weight is None:
        return grad * scale
    return Where.apply(ctx.weight == 0, 0.0, grad * Tensor._wrap(ctx.weight * scale))


class NllLoss(Function):
    """y = -Σᵢ wᵢ·x[i, tᵢ] / d  (d = Σᵢ wᵢ for 'mean', 1 for 'sum'; no sum for 'none');
    dx = zeros with -grad·wᵢ/d added at (i, tᵢ)

    The negative log-likelihood of class indices ``target`` (N,) for log-probabilities
    ``x`` (N, C), with per-row weights ``weight`` (N,) or None (all 1; rows to ignore carry
    weight 0 and any valid index). A primitive, as in PyTorch: the gather, the weights and
    the reduction are one record, not three. ``target`` and ``weight`` are kept as given:
    pass arrays the caller cannot change (nll_loss copies).
    """

    @staticmethod
    def forward(ctx, x, target, weight=None, reduction="mean"):
        rows = np.arange(target.shape[0])
        picked = _weighted(x[rows, target], weight)
        ctx.index, ctx.shape, ctx.weight, ctx.reduction = (rows, target), x.shape, weight, reduction
        return _reduce_rows(ctx, -picked, weight, reduction)

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(-_row_coefficients(ctx, grad), ctx.index, ctx.shape)


class CrossEntropy(Function):
    """y = Σᵢ wᵢ·(logsumexp(x[i]) - x[i, tᵢ]) / d  (d = Σᵢ wᵢ for 'mean', 1 for 'sum'; no sum
    for 'none');  dx[i] = aᵢ·(softmax(x[i]) - onehot(tᵢ)),  aᵢ = grad·wᵢ/d

    Softmax cross-entropy of class indices ``target`` (N,) for logits ``x`` (N, C). A
    primitive so that its derivative is the lecture's softmax minus one-hot, in one record
    where LogSoftmax then NllLoss are two. Weights and reductions as NllLoss's: a row of
    weight 0 (ignored, or of a class of weight 0) has loss 0 and gradient 0, whatever its
    logits.
    """

    @staticmethod
    def forward(ctx, x, target, weight=None, reduction="mean"):
        ctx.save_for_backward(x)
        rows = np.arange(target.shape[0])
        ctx.index, ctx.weight, ctx.reduction = (rows, target), weight, reduction
        per_row = -_log_softmax(x, (1,))[rows, target]  # logsumexp(x[i]) - x[i, tᵢ]
        return _reduce_rows(ctx, _weighted(per_row, weight), weight, reduction)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.weight is not None:  # rows of weight 0 take no part: their logits (perhaps inf
            x = Where.apply(ctx.weight[:, None] == 0, 0.0, x)  # or NaN) are not even read
        # softmax(x) from the logits, so that a create_graph backward differentiates it again
        prob = Exp.apply(LogSoftmax.apply(x, axes=(1,)))
        onehot = np.zeros(x.shape, x._data.dtype)
        onehot[ctx.index] = 1
        a = _row_coefficients(ctx, grad)
        if a.ndim:  # one coefficient per row: (N,) -> (N, 1)
            a = a.reshape(-1, 1)
        return (prob - Tensor._wrap(onehot)) * a
