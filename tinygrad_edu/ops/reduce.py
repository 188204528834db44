"""Reductions. Backward spreads the (kept-dims) gradient back over the reduced axes with
``broadcast_to``; max/min share it evenly among ties so the shares sum to the gradient."""

from __future__ import annotations

import numpy as np

from .._shapes import prod, unbroadcast
from ..function import Function
from ..tensor import Tensor
from .shape import BroadcastTo, Reshape


def _kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad: Tensor, in_shape: tuple, axes, keepdims: bool) -> Tensor:
    """The reduced gradient re-expanded to the input's shape (a view, no copy). The shapes are
    known to fit, so the primitives are applied directly (no checks)."""
    if not keepdims and axes is not None:  # (a 0-d total broadcasts as it is)
        grad = Reshape.apply(grad, _kept_shape(in_shape, axes))
    if grad._data.shape == in_shape:
        return grad
    return BroadcastTo.apply(grad, in_shape)


class Sum(Function):
    """y = sum(x, axes);  dx = grad broadcast back over axes"""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return np.add.reduce(x, axis=axes, keepdims=keepdims)  # np.sum without its wrapper

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.shape, ctx.axes, ctx.keepdims)


class Mean(Function):
    """y = mean(x, axes);  dx = grad broadcast back over axes / count"""

    @staticmethod
    def forward(ctx, x, axes=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.count = count = prod(x.shape) if axes is None else prod(x.shape[a] for a in axes)
        if x.dtype.kind != "f" or x.dtype.itemsize < 4 or count == 0:
            return np.mean(x, axis=axes, keepdims=keepdims)  # NumPy's dtype rules and warning
        # sum / count is what np.mean computes for floats, without its Python-level wrapper
        return np.true_divide(np.add.reduce(x, axis=axes, keepdims=keepdims), count)

    @staticmethod
    def backward(ctx, grad):
        # a zero count (mean of nothing) gives an empty gradient, never a division warning;
        # (ctx.count or 1), not max(...): this module's max is the reduction, not the builtin
        return _spread(grad / (ctx.count or 1), ctx.shape, ctx.axes, ctx.keepdims)


class _MaxMin(Function):
    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axes=None, keepdims=False):
        if x.size == 0 and (axes is None or any(x.shape[a] == 0 for a in axes)):
            raise ValueError(
                f"{cls.__name__.lower()}: cannot reduce an empty tensor of shape {x.shape} "
                f"over dims {axes} (there is no identity element); check the shape or use sum"
            )
        out = cls.reduce(x, axis=axes, keepdims=True)
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.save_for_backward(x, out)
        if keepdims:
            return out
        return out.reshape(()) if axes is None else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = (t._data for t in ctx.saved_tensors)
        mask = x == out
        share = mask / mask.sum(axis=ctx.axes, keepdims=True)
        return _spread(grad, ctx.shape, ctx.axes, ctx.keepdims) * Tensor._wrap(share.astype(x.dtype))


class Max(_MaxMin):
    """y = max(x, axes);  dx = grad / (#ties) at the maxima, 0 elsewhere"""

    reduce = staticmethod(np.max)


class Min(_MaxMin):
    """y = min(x, axes);  dx = grad / (#ties) at the minima, 0 elsewhere"""

    reduce = staticmethod(np.min)


class SumTo(Function):
    """y = x summed down to ``shape`` (undoing broadcasting);  dx = grad broadcast back"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return unbroadcast(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.broadcast_to(ctx.shape), None
