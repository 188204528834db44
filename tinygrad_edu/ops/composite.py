"""Composites: built only from primitives, with no backward of their own (their gradients,
and gradients of gradients, come from the primitives). Numerically stable forms."""

from __future__ import annotations

import numpy as np

from .._shapes import normalize_axis, prod
from ..tensor import Tensor
from . import elementwise as ew
from .loss import LogSoftmax
from .reduce import mean, sum as _sum


def _count(x: Tensor, axis) -> int:
    axes = normalize_axis(axis, x.ndim, "var")
    return x.data.size if axes is None else prod(x.shape[a] for a in axes)


def var(x, axis=None, correction=1, keepdims=False):
    """Variance with PyTorch's default Bessel correction (``correction=1``, unbiased)."""
    centred = x - mean(x, axis, keepdims=True)
    n = _count(x, axis)
    return _sum(centred * centred, axis, keepdims) / max(n - correction, 0)


def std(x, axis=None, correction=1, keepdims=False):
    return ew.Sqrt.apply(var(x, axis, correction, keepdims))


def _shift(x: Tensor, axis, op: str = "logsumexp") -> Tensor:
    """A constant (detached) max for stability; non-finite maxima are replaced by 0."""
    m = np.max(x.data, axis=normalize_axis(axis, x.ndim, op), keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return Tensor._wrap(m)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))): finite at logits of +-1e4."""
    m = _shift(x, axis)
    out = ew.Log.apply(_sum(ew.Exp.apply(x - m), axis, keepdims=True)) + m
    if not keepdims:
        axes = normalize_axis(axis, x.ndim, "logsumexp")
        shape = () if axes is None else tuple(n for i, n in enumerate(x.shape) if i not in axes)
        out = out.reshape(shape)
    return out


def softmax(x, axis=-1):
    """exp(x - m) / sum(exp(x - m)): rows sum to 1, no overflow at +-1e4."""
    e = ew.Exp.apply(x - _shift(x, axis, "softmax"))
    return e / _sum(e, axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``: the primitive ``LogSoftmax`` (one record; finite values
    and gradients at logits of +-1e4)."""
    return LogSoftmax.apply(x, axes=normalize_axis(axis, x.ndim, "log_softmax"))
