"""Convolution and pooling primitives on strided windows, channels-last in memory.

Activations keep PyTorch's shape (N, C, H, W), but these ops read them through
``x.transpose(0, 2, 3, 1)`` and return their results as NCHW-shaped *views* of channels-last
(N, H, W, C) buffers. Elementwise ops keep that memory order, so a whole CNN runs
channels-last: every window gathers contiguous runs of C values, and the columns come out
in (kh, kw, C) order with no transposing copy.

Three primitives carry derivatives here:
    Im2Col   x (N, C, H, W) -> cols (N·Ho·Wo, kh·kw·C)     the only convolution derivative
    Col2Im   its adjoint: sums the columns back into the image (a cached sparse scatter
             matrix; slice-adds for very large shapes; no np.add.at)
    MaxPool2d  the maximum of strided slices; its gradient is col2im of a one-hot mask
conv2d (= im2col + matmul) and avg_pool2d (= im2col + mean) are composites in nn.functional.
"""

from __future__ import annotations

import collections
import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from .shape import permute, reshape

#: kernel (kh, kw), stride (sh, sw), padding (ph, pw), dilation (dh, dw)
Window = collections.namedtuple("Window", "kh kw sh sw ph pw dh dw")


def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """Output length along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _out_hw(shape: tuple, g: Window) -> tuple[int, int]:
    return out_size(shape[2], g.kh, g.sh, g.ph, g.dh), out_size(shape[3], g.kw, g.sw, g.pw, g.dw)


def _padded_nhwc(x: np.ndarray, g: Window, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) as a channels-last (N, H+2ph, W+2pw, C) array (a view when unpadded)."""
    xt = x.transpose(0, 2, 3, 1)
    if g.ph == 0 and g.pw == 0:
        return xt
    n, h, w, c = xt.shape
    xp = np.empty((n, h + 2 * g.ph, w + 2 * g.pw, c), dtype=x.dtype)  # (np.full is a Python
    xp.fill(value)  # wrapper around these two calls)
    xp[:, g.ph : g.ph + h, g.pw : g.pw + w] = xt
    return xp


def _windows(xp: np.ndarray, g: Window, ho: int, wo: int) -> np.ndarray:
    """The read-only strided view (N, Ho, Wo, kh, kw, C) of a channels-last padded image."""
    s_n, s_h, s_w, s_c = xp.strides
    shape = (xp.shape[0], ho, wo, g.kh, g.kw, xp.shape[3])
    strides = (s_n, s_h * g.sh, s_w * g.sw, s_h * g.dh, s_w * g.dw, s_c)
    return as_strided(xp, shape, strides, writeable=False)


@functools.lru_cache(maxsize=1024)
def _offset_slice(i: int, j: int, g: Window, ho: int, wo: int) -> tuple:
    """The (N, Ho, Wo, C) slice of the padded image read by kernel offset (i, j) (remembered:
    every step asks for the same few)."""
    h0, w0 = i * g.dh, j * g.dw
    return (
        slice(None),
        slice(h0, h0 + g.sh * (ho - 1) + 1, g.sh),
        slice(w0, w0 + g.sw * (wo - 1) + 1, g.sw),
    )


class Im2Col(Function):
    """cols[(n, ho, wo), (i, j, c)] = x_pad[n, c, ho·sh + i·dh, wo·sw + j·dw];  dx = col2im(grad)"""


    @staticmethod
    def forward(ctx, x, geometry: Window):
        ctx.in_shape, ctx.geometry = x.shape, geometry
        ho, wo = _out_hw(x.shape, geometry)
        xp = _padded_nhwc(x, geometry)
        n, c = x.shape[0], x.shape[1]
        cols = np.empty((n, ho, wo, geometry.kh, geometry.kw, c), dtype=x.dtype)
        if c == 1:  # one slice copy per kernel offset: NumPy's loops run along W, not over
            for i in range(geometry.kh):  # kw single values (measured 1.8x faster at C = 1)
                for j in range(geometry.kw):
                    cols[:, :, :, i, j, :] = xp[_offset_slice(i, j, geometry, ho, wo)]
        else:  # one strided copy: its inner loop runs over kw·C contiguous values
            np.copyto(cols, _windows(xp, geometry, ho, wo))
        return cols.reshape(n * ho * wo, geometry.kh * geometry.kw * c)

    @staticmethod
    def backward(ctx, grad):
        return Col2Im.apply(grad, in_shape=ctx.in_shape, geometry=ctx.geometry)


class Col2Im(Function):
    """x[n, c, h, w] = sum of the cols entries that im2col copied from there (its adjoint);
    dcols = im2col(grad)"""


    @staticmethod
    def forward(ctx, cols, in_shape: tuple, geometry: Window):
        ctx.geometry = geometry
        return _col2im(cols, in_shape, geometry)

    @staticmethod
    def backward(ctx, grad):
        return Im2Col.apply(grad, geometry=ctx.geometry)


#: the largest scatter matrix (in stored entries) col2im builds and caches; ~16 bytes each
_SCATTER_MAX_NNZ = 1 << 22


@functools.lru_cache(maxsize=8)
def _scatter_matrix(n: int, h: int, w: int, g: Window):
    """The 0/1 matrix S with S @ cols6 = the padded image, cols6 = cols viewed as
    (N·Ho·Wo·kh·kw, C): row (n, y, x) of the padded image sums the column rows that im2col
    copied from there. CSR, so the product gathers each output row's (at most kh·kw) inputs."""
    import scipy.sparse  # (scipy is a run-time dependency; imported on first use)

    ho, wo = _out_hw((n, 0, h, w), g)
    hp, wp = h + 2 * g.ph, w + 2 * g.pw
    ar = np.arange
    rows = (
        (ar(n)[:, None, None, None, None] * hp
         + ar(ho)[None, :, None, None, None] * g.sh
         + ar(g.kh)[None, None, None, :, None] * g.dh) * wp
        + ar(wo)[None, None, :, None, None] * g.sw
        + ar(g.kw)[None, None, None, None, :] * g.dw
    ).ravel()
    k = rows.size  # one entry per column, in column order: CSC needs no sorting
    s = scipy.sparse.csc_matrix(
        (np.ones(k, np.float32), rows.astype(np.int32), np.arange(k + 1, dtype=np.int32)),
        shape=(n * hp * wp, k),
    )
    return s.tocsr()


def _col2im(cols: np.ndarray, in_shape: tuple, g: Window) -> np.ndarray:
    """Accumulate (N·Ho·Wo, kh·kw·C) columns into an NCHW-shaped view of an NHWC buffer.

    One sparse product with a cached 0/1 scatter matrix (5x faster than slice-adds for the
    benchmark CNN: each output pixel gathers its kh·kw contiguous C-runs in one pass); for
    shapes whose matrix would be large, one strided slice-add per kernel offset."""
    n, c, h, w = in_shape
    ho, wo = _out_hw(in_shape, g)
    hp, wp = h + 2 * g.ph, w + 2 * g.pw
    if c and n * ho * wo * g.kh * g.kw <= _SCATTER_MAX_NNZ and cols.dtype.kind == "f":
        out = _scatter_matrix(n, h, w, g) @ cols.reshape(-1, c)
        out = out.astype(cols.dtype, copy=False).reshape(n, hp, wp, c)
    else:
        g6 = cols.reshape(n, ho, wo, g.kh, g.kw, c)
        out = np.zeros((n, hp, wp, c), dtype=cols.dtype)
        for i in range(g.kh):
            for j in range(g.kw):
                out[_offset_slice(i, j, g, ho, wo)] += g6[:, :, :, i, j]
    if g.ph or g.pw:
        out = out[:, g.ph : g.ph + h, g.pw : g.pw + w]
    return out.transpose(0, 3, 1, 2)


class MaxPool2d(Function):
    """y = max of each window (padding is -inf);  dx = col2im(grad · onehot), the one-hot
    marking the first maximum of each window (PyTorch's tie rule)"""


    @staticmethod
    def forward(ctx, x, geometry: Window):
        ctx.geometry = geometry
        ho, wo = _out_hw(x.shape, geometry)
        xp = _padded_nhwc(x, geometry, -np.inf)
        out = None
        for i in range(geometry.kh):
            for j in range(geometry.kw):
                part = xp[_offset_slice(i, j, geometry, ho, wo)]
                out = part.copy() if out is None else np.maximum(out, part, out=out)
        y = out.transpose(0, 3, 1, 2)
        ctx.save_for_backward(x, y)  # y too: an in-place change of it before backward raises
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = (t.data for t in ctx.saved_tensors)
        g = ctx.geometry
        out = y.transpose(0, 2, 3, 1)
        xp = _padded_nhwc(x, g, -np.inf)
        if not is_grad_enabled():
            # a plain backward (no create_graph): route the gradient with a few NumPy slice ops
            # instead of building the (N, Ho, Wo, kh, kw, C) one-hot; same numbers, as tested
            return Tensor._wrap(
                _route_to_first_max(xp, out, grad.data.transpose(0, 2, 3, 1), x.shape, g)
            )
        onehot = _first_max_onehot(xp, out, g)
        n, ho, wo, c = out.shape
        g_nhwc = reshape(permute(grad, (0, 2, 3, 1)), (n, ho, wo, 1, 1, c))
        cols = reshape(g_nhwc * Tensor._wrap(onehot), (n * ho * wo, g.kh * g.kw * c))
        return Col2Im.apply(cols, in_shape=x.shape, geometry=g)


def _first_max_onehot(xp: np.ndarray, out: np.ndarray, g: Window) -> np.ndarray:
    """(N, Ho, Wo, kh, kw, C) bool: True at the first position of each window equal to its max."""
    n, ho, wo, c = out.shape
    mask = np.empty((n, ho, wo, g.kh, g.kw, c), dtype=bool)
    free = np.ones(out.shape, dtype=bool)
    for i in range(g.kh):
        for j in range(g.kw):
            hit = np.equal(xp[_offset_slice(i, j, g, ho, wo)], out)
            hit &= free
            free ^= hit
            mask[:, :, :, i, j] = hit
    return mask


def _route_to_first_max(xp, out, grad_out, in_shape: tuple, g: Window) -> np.ndarray:
    """dx (NCHW view of NHWC): grad_out placed at the first maximum of each window."""
    h, w = in_shape[2:]
    ho, wo = out.shape[1:3]
    dxp = np.zeros(xp.shape, dtype=grad_out.dtype)
    disjoint = g.sh > g.dh * (g.kh - 1) and g.sw > g.dw * (g.kw - 1)  # windows never overlap
    free = np.ones(out.shape, dtype=bool)
    hit = np.empty(out.shape, dtype=bool)
    for i in range(g.kh):
        for j in range(g.kw):
            sl = _offset_slice(i, j, g, ho, wo)
            np.equal(xp[sl], out, out=hit)
            hit &= free
            free ^= hit
            if disjoint:
                np.multiply(grad_out, hit, out=dxp[sl])
            else:
                dxp[sl] += grad_out * hit
    if g.ph or g.pw:
        dxp = dxp[:, g.ph : g.ph + h, g.pw : g.pw + w]
    return dxp.transpose(0, 3, 1, 2)


def im2col(x: Tensor, geometry: Window) -> Tensor:
    """x (N, C, H, W) -> columns (N·Ho·Wo, kh·kw·C) in (kh, kw, C) order."""
    return Im2Col.apply(x, geometry=geometry)


def col2im(cols: Tensor, in_shape: tuple, geometry: Window) -> Tensor:
    """The adjoint of im2col: columns (N·Ho·Wo, kh·kw·C) summed back into (N, C, H, W)."""
    return Col2Im.apply(cols, in_shape=tuple(in_shape), geometry=geometry)


def max_pool2d(x: Tensor, geometry: Window) -> Tensor:
    return MaxPool2d.apply(x, geometry=geometry)


def _register() -> None:
    from . import register  # ops/__init__ imports this module after defining register

    for cls in (Im2Col, Col2Im, MaxPool2d):
        register(cls)


_register()
