"""The ``tg.*`` functions that take a dimension, with PyTorch's signatures.

Each forwards to the Tensor method of the same name, so a function and its method accept the
same arguments: PyTorch's ``dim``/``keepdim`` (by position or by name, a tuple of dims where
PyTorch allows one) and NumPy's ``axis``/``keepdims``. ``tg.sum(x, 1, True)``,
``tg.sum(x, dim=1, keepdim=True)`` and ``x.sum(axis=1, keepdims=True)`` are one call.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([[1.0, 5.0], [4.0, 2.0]])
>>> tg.max(x, 1, keepdim=True).indices.tolist()
[[1], [0]]
"""

from __future__ import annotations

from .tensor import Tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001
    return _t(input).sum(dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    return _t(input).mean(dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None, ddof=None):
    """Variance, unbiased (``correction=1``) unless told otherwise, as in PyTorch."""
    return _t(input).var(dim, unbiased, keepdim, correction=correction, axis=axis,
                         keepdims=keepdims, ddof=ddof)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None, ddof=None):
    return _t(input).std(dim, unbiased, keepdim, correction=correction, axis=axis,
                         keepdims=keepdims, ddof=ddof)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    """``tg.max(x)``, ``tg.max(x, dim)`` -> (values, indices), or ``tg.max(a, b)`` elementwise."""
    return _t(input).max(dim, keepdim, axis=axis, keepdims=keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    return _t(input).min(dim, keepdim, axis=axis, keepdims=keepdims)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).amax(dim, keepdim, axis=axis, keepdims=keepdims)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).amin(dim, keepdim, axis=axis, keepdims=keepdims)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).argmax(dim, keepdim, axis=axis, keepdims=keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).argmin(dim, keepdim, axis=axis, keepdims=keepdims)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    return _t(input).all(dim, keepdim, axis=axis, keepdims=keepdims)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    return _t(input).any(dim, keepdim, axis=axis, keepdims=keepdims)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(input).logsumexp(dim, keepdim, axis=axis, keepdims=keepdims)


def softmax(input, dim=-1, *, dtype=None, axis=None):
    return _t(input).softmax(dim, dtype, axis=axis)


def log_softmax(input, dim=-1, *, dtype=None, axis=None):
    return _t(input).log_softmax(dim, dtype, axis=axis)


def squeeze(input, dim=None, *, axis=None):
    return _t(input).squeeze(dim, axis=axis)


def unsqueeze(input, dim=None, *, axis=None):
    return _t(input).unsqueeze(dim, axis=axis)


def split(tensor, split_size_or_sections, dim=0):
    return _t(tensor).split(split_size_or_sections, dim)


def swapaxes(input, axis0, axis1):
    return _t(input).swapaxes(axis0, axis1)


def swapdims(input, dim0, dim1):
    return _t(input).swapaxes(dim0, dim1)
