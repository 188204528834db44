"""Argument handling shared by the tensor methods: PyTorch's ``dim``/``keepdim`` beside NumPy's
``axis``/``keepdims``, shapes given as ``f(2, 3)`` or ``f((2, 3))``, ``unbiased``/``correction``,
and the ``(values, indices)`` pair of ``max(dim)``."""

from __future__ import annotations

import collections
import numbers

import numpy as np

from ._shapes import normalize_axis

MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


def _shape_args(shape: tuple) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    if len(shape) == 1 and isinstance(shape[0], np.ndarray):
        return tuple(shape[0].tolist())
    return tuple(shape)


def _axis_kw(dim, axis, keepdim, keepdims, ndim, op):
    """Merge PyTorch's ``dim``/``keepdim`` with NumPy's ``axis``/``keepdims``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass either dim or axis, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, list):
        dim = tuple(dim)
    normalize_axis(dim, ndim, op)  # raise early on a bad axis, with the op's name
    return dim, bool(keepdim)


def _one_dim(dim, axis, op):
    """The one dimension an op works along, given as PyTorch's ``dim`` or NumPy's ``axis``."""
    if axis is None:
        if dim is None:
            raise TypeError(f"{op}: missing the dimension to work along (dim=...)")
        return dim
    if dim is not None:
        raise TypeError(f"{op}: pass either dim or axis, not both")
    return axis


def _correction(unbiased, correction, ddof) -> float:
    """PyTorch's rule: unbiased (correction=1) unless told otherwise."""
    given = [v is not None for v in (unbiased, correction, ddof)]
    if sum(given) > 1:
        raise TypeError("var/std: pass only one of unbiased, correction, ddof")
    if unbiased is not None:
        return 1 if unbiased else 0
    if correction is not None:
        return correction
    if ddof is not None:
        return ddof
    return 1


def _arg_reduce(fn, t, dim, axis, keepdim, keepdims, op):
    a, k = _axis_kw(dim, axis, keepdim, keepdims, t.ndim, op)
    if isinstance(a, tuple):
        raise TypeError(f"{op}: takes a single dim, got {a}")
    out = fn(t._data, axis=a)
    if k:
        out = np.expand_dims(out, a) if a is not None else np.reshape(out, (1,) * t.ndim)
    from .tensor import Tensor  # (tensor.py imports this module's users)

    return Tensor._wrap(np.asarray(out, dtype=np.int64))


def _max_min(t, op_fn, arg_fn, dim, axis, keepdim, keepdims, op):
    torch_style = dim is not None and axis is None and isinstance(dim, numbers.Integral)
    a, k = _axis_kw(dim, axis, keepdim, keepdims, t.ndim, op)
    if not torch_style:
        return op_fn(t, a, k)
    if t._data.size == 0:
        op_fn(t, a, k)  # raises its clear error when the dim is empty
    indices = _arg_reduce(arg_fn, t, a, None, k, None, op)
    # the values are t gathered at the indices (one index array per dim), so that the whole
    # gradient goes to the index returned: PyTorch's rule on ties
    index = list(np.indices(indices.shape, sparse=True))  # (none for a 0-d t: t[()])
    if t.ndim:
        d = a % t.ndim
        index[d : d + k] = [indices._data]  # replaces the kept dim's range, or inserts the dim
    from . import functional

    return MaxMin(functional.getitem(t, tuple(index)), indices)


