"""Convolution and pooling primitives: im2col, its adjoint col2im, and max pooling.

A convolution is im2col + ONE matrix multiply: im2col copies each kh×kw window of the padded
image into one row, so every output pixel is a row of ``cols @ W2ᵀ`` (nn.functional.conv2d):

    x: (N, C_in, H, W)  ->  cols: (N·H_out·W_out, kh·kw·C_in)

Layout: activations have PyTorch's shape (N, C, H, W) but are stored channels-last, (N, H, W, C)
in memory, and the columns are in (kh, kw, C) order. Then a window row is kw·C neighbours in
memory, and the GEMM's (N·H_out·W_out, C_out) result already is the next channels-last image,
passed on as an (N, C_out, H_out, W_out) view without a transposing copy. With one channel
a window row is only kw values, too short a run for one copy; im2col then copies one kernel
offset at a time, each copy running along a whole output row.

    Im2Col     x -> cols                     dx = col2im(grad)
    Col2Im     cols -> x, im2col's adjoint   dcols = im2col(grad)
    MaxPool2d  x -> the max of each window   dx = grad added at each window's argmax
"""

from __future__ import annotations

import collections
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function
from ..tensor import Tensor
from .shape import IndexAdd

#: kernel (kh, kw), stride (sh, sw), padding (ph, pw), dilation (dh, dw)
Window = collections.namedtuple("Window", "kh kw sh sw ph pw dh dw")


def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """Output length along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _padded(x: np.ndarray, g: Window, value: float = 0.0) -> np.ndarray:
    """x: (N, C, H, W) -> the channels-last padded image (N, H + 2ph, W + 2pw, C)."""
    x_nhwc = x.transpose(0, 2, 3, 1)
    if g.ph == 0 and g.pw == 0:
        return x_nhwc
    n, h, w, c = x_nhwc.shape
    xp = np.full((n, h + 2 * g.ph, w + 2 * g.pw, c), value, dtype=x.dtype)
    xp[:, g.ph : g.ph + h, g.pw : g.pw + w] = x_nhwc
    return xp


def _extent(g: Window) -> tuple[int, int]:
    """The height and width a dilated kernel spans."""
    return g.dh * (g.kh - 1) + 1, g.dw * (g.kw - 1) + 1


def _windows(xp: np.ndarray, g: Window, writeable: bool = False) -> np.ndarray:
    """The windows of a padded channels-last image as a view (N, H_out, W_out, kh, kw, C):
    ``[n, ho, wo, i, j]`` is the pixel at (ho·sh + i·dh, wo·sw + j·dw)."""
    win = sliding_window_view(xp, _extent(g), axis=(1, 2), writeable=writeable)
    win = win[:, :: g.sh, :: g.sw, :, :: g.dh, :: g.dw]  # (N, H_out, W_out, C, kh, kw)
    return win.transpose(0, 1, 2, 4, 5, 3)


class Im2Col(Function):
    """cols[(n, ho, wo), (i, j, c)] = x_pad[n, c, ho·sh + i·dh, wo·sw + j·dw];
    dx = col2im(grad)"""

    @staticmethod
    def forward(ctx, x, geometry: Window):
        ctx.in_shape, ctx.geometry = x.shape, geometry
        windows = _windows(_padded(x, geometry), geometry)  # (N, H_out, W_out, kh, kw, C)
        n, ho, wo, kh, kw, c = windows.shape
        if c == 1:  # one copy per kernel offset (see the module docstring)
            cols = np.empty(windows.shape, dtype=x.dtype)
            for i, j in np.ndindex(kh, kw):
                cols[:, :, :, i, j] = windows[:, :, :, i, j]
        else:
            cols = windows.copy()  # the copy is the im2col
        return cols.reshape(n * ho * wo, kh * kw * c)

    @staticmethod
    def backward(ctx, grad):
        return Col2Im.apply(grad, in_shape=ctx.in_shape, geometry=ctx.geometry)


class Col2Im(Function):
    """x[n, c, h, w] = sum of the cols entries im2col copied from there;  dcols = im2col(grad)"""

    @staticmethod
    def forward(ctx, cols, in_shape: tuple, geometry: Window):
        ctx.geometry = geometry
        return _col2im(cols, in_shape, geometry)

    @staticmethod
    def backward(ctx, grad):
        return Im2Col.apply(grad, geometry=ctx.geometry)


def _col2im(cols: np.ndarray, in_shape: tuple, g: Window) -> np.ndarray:
    """cols: (N·H_out·W_out, kh·kw·C) -> x: (N, C, H, W), a view of a channels-last array.

    Each window's row goes back where im2col read it. Overlapping windows cannot be added in
    one step (a pixel two of them share would get only one of their values), but windows a
    kernel extent apart never overlap: every step-th window along each axis goes in one add,
    step = ceil(extent / stride) (one add in all when windows do not overlap, as in pooling)."""
    n, c, h, w = in_shape
    xp = np.zeros((n, h + 2 * g.ph, w + 2 * g.pw, c), dtype=cols.dtype)
    windows = _windows(xp, g, writeable=True)  # (N, H_out, W_out, kh, kw, C), a view of xp
    cols = cols.reshape(windows.shape)
    step_h, step_w = (math.ceil(e / s) for e, s in zip(_extent(g), (g.sh, g.sw)))
    for r in range(step_h):
        for s in range(step_w):
            windows[:, r::step_h, s::step_w] += cols[:, r::step_h, s::step_w]
    return xp[:, g.ph : g.ph + h, g.pw : g.pw + w].transpose(0, 3, 1, 2)


class MaxPool2d(Function):
    """y = max of each window (padding is -inf);  dx = grad added at each window's first
    maximum (PyTorch's tie rule), or at its first NaN if it has one (the NaN maximum)"""

    @staticmethod
    def forward(ctx, x, geometry: Window):
        ctx.geometry = geometry
        windows = _windows(_padded(x, geometry, -np.inf), geometry)
        y = windows[:, :, :, 0, 0].copy()  # (N, H_out, W_out, C)
        for i, j in list(np.ndindex(geometry.kh, geometry.kw))[1:]:
            np.maximum(y, windows[:, :, :, i, j], out=y)
        y = np.ascontiguousarray(y.transpose(0, 3, 1, 2))  # NCHW memory, as PyTorch's (view-able)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = ctx.geometry
        n, c, h, w = x.shape
        padded = (n, h + 2 * g.ph, w + 2 * g.pw, c)  # the image argmax indexes, flattened
        argmax = _argmax_positions(x._data, y._data, g)  # a constant: its derivative is 0
        grad_flat = grad.permute(0, 2, 3, 1).reshape(-1)  # (N·H_out·W_out·C,)
        dx = IndexAdd.apply(grad_flat, argmax, (math.prod(padded),))  # windows may share one
        dx = dx.reshape(padded)
        return dx[:, g.ph : g.ph + h, g.pw : g.pw + w].permute(0, 3, 1, 2)


def _argmax_positions(x: np.ndarray, y: np.ndarray, g: Window) -> np.ndarray:
    """The flat position in the padded channels-last image of each window's first maximum,
    in (N, H_out, W_out, C) order."""
    xp = _padded(x, g, -np.inf)
    windows = _windows(xp, g)
    y = y.transpose(0, 2, 3, 1)
    # k: the maximum's offset i·kw + j, in the smallest integer type that holds it
    k = np.zeros(y.shape, np.min_scalar_type(g.kh * g.kw))
    below = np.ones(y.shape, dtype=bool)  # every offset so far is below the maximum
    for i, j in list(np.ndindex(g.kh, g.kw))[:-1]:
        w = windows[:, :, :, i, j]
        below &= ~((w == y) | np.isnan(w))  # the maximum, or a NaN (a NaN window's maximum)
        k += below
    n, hp, wp, c = xp.shape
    step = (np.arange(g.kh)[:, None] * g.dh * wp + np.arange(g.kw) * g.dw) * c  # (0, 0) to (i, j)
    at = np.take(step, k)
    b, ho, wo, ch = np.ogrid[:n, : y.shape[1], : y.shape[2], :c]
    at += ((b * hp + ho * g.sh) * wp + wo * g.sw) * c  # plus the window's (0, 0) pixel
    at += ch
    return at.ravel()


def im2col(x: Tensor, geometry: Window) -> Tensor:
    """x: (N, C, H, W) -> cols: (N·H_out·W_out, kh·kw·C), columns in (kh, kw, C) order."""
    return Im2Col.apply(x, geometry=geometry)


def col2im(cols: Tensor, in_shape: tuple, geometry: Window) -> Tensor:
    """The adjoint of im2col: cols (N·H_out·W_out, kh·kw·C) summed back into (N, C, H, W)."""
    return Col2Im.apply(cols, in_shape=tuple(in_shape), geometry=geometry)


def max_pool2d(x: Tensor, geometry: Window) -> Tensor:
    """x: (N, C, H, W) -> (N, C, H_out, W_out), the maximum of each window."""
    return MaxPool2d.apply(x, geometry=geometry)
