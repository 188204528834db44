"""Shape primitives: views and data movement. Their backward moves the gradient back (reshape
back, permute by the inverse, scatter into zeros, slice out of the padding).

Reshape (when NumPy can view), Permute, BroadcastTo and GetItem with a basic index return
views: they share memory with their input, and ``write_back`` says how a change made through
such a view is written into its parent (see ``Function.apply_``)."""

from __future__ import annotations

import numpy as np

from ..function import Function


class Reshape(Function):
    """y = x.reshape(shape);  dx = grad.reshape(x.shape)"""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.shape), None

    @staticmethod
    def write_back(ctx, view):
        return SetItem, (Reshape.apply(view, ctx.shape), ...)  # parent[...] = view reshaped back


class Permute(Function):
    """y = x.transpose(dims);  dx = grad.transpose(argsort(dims))"""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))  # argsort, no NumPy call
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, ctx.inverse), None

    @staticmethod
    def write_back(ctx, view):
        return SetItem, (Permute.apply(view, ctx.inverse), ...)  # parent[...] = view permuted back


class BroadcastTo(Function):
    """y = broadcast_to(x, shape) (a read-only view);  dx = grad (the replay sums it down)"""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class GetItem(Function):
    """y = x[index];  dx = zeros with grad added at index (repeated indices accumulate)"""

    is_view = True  # for basic indexes (ints, slices, None, ...); advanced ones copy

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        y = x[index]
        if not isinstance(y, np.ndarray):  # one element: NumPy gives a scalar (a copy), and
            y = x[(*_items(index), ...)]  # x[(*index, ...)] the same element as a 0-d view
        return y

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.index, ctx.shape), None

    @staticmethod
    def write_back(ctx, view):
        return SetItem, (view, ctx.index)  # parent[index] = view


class SetItem(Function):
    """y = x with y[index] = v (v broadcast to x[index]'s shape);  dx = grad with
    grad[index] = 0,  dv = grad[index] (summed down to v's shape by the replay)"""

    @staticmethod
    def forward(ctx, x, v, index):
        y = x.copy()
        y[index] = v
        return y

    @staticmethod
    def forward_(ctx, x, v, index):
        x[index] = v

    @staticmethod
    def backward(ctx, grad):
        _, v, index = ctx.inputs
        nx, nv, _ = ctx.needs_input_grad
        gx = SetItem.apply(grad, 0.0, index) if nx else None
        gv = GetItem.apply(grad, index) if nv else None
        if nv and v.ndim > gv.ndim:  # v may have leading 1s that x[index] lacks, as in NumPy
            gv = Reshape.apply(gv, (1,) * (v.ndim - gv.ndim) + gv.shape)
        return gx, gv, None


class IndexAdd(Function):
    """y = zeros(shape); y[index] += g  (the adjoint of getitem; g broadcasts to y[index]'s
    shape);  dg = grad[index]"""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g  # basic indexing never repeats a position
        else:
            np.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


class Concatenate(Function):
    """y = concatenate(xs, axis);  dxs = the matching slices of grad"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        b = ctx.bounds
        return tuple(
            GetItem.apply(grad, lead + (slice(int(b[i]), int(b[i + 1])),)) if need else None
            for i, need in enumerate(ctx.needs_input_grad)
        )


class Pad(Function):
    """y = constant-pad(x, widths, value);  dx = grad with the padding sliced off"""

    @staticmethod
    def forward(ctx, x, widths, value=0.0):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.inner), None, None  # x, widths, value


class Flip(Function):
    """y = flip(x, axes), a copy as in PyTorch;  dx = flip(grad, axes)"""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.axes), None


# -- helpers and functional forms --------------------------------------------------------------
def _items(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def _is_basic(index) -> bool:
    items = _items(index)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)
