"""Comparisons: bool results that carry no gradient, computed in PyTorch's result dtype as
arithmetic is (an int64 tensor meets 2.5 as float32), so they agree with the arithmetic."""

from __future__ import annotations

import numpy as np

from ..dtypes import result_type
from ..tensor import Tensor
from .math import _operand

_OPERANDS = (Tensor, bool, int, float, np.number, np.bool_, np.ndarray, list, tuple)


def _arrays(a, b) -> tuple:
    """The operands in their result dtype (arrays, or Python scalars: weak, so they take it),
    and that dtype."""
    a, b = _operand(a), _operand(b)
    dtype = result_type(a, b)
    a, b = (x.data.astype(dtype, copy=False) if isinstance(x, Tensor) else x for x in (a, b))
    return a, b, dtype


def _compare(ufunc, a, b):
    if not isinstance(b, _OPERANDS):
        return NotImplemented  # x == None is False, as in PyTorch; x < None a TypeError
    a, b, _ = _arrays(a, b)
    return Tensor._wrap(np.asarray(ufunc(a, b)))


def eq(a, b): return _compare(np.equal, a, b)
def ne(a, b): return _compare(np.not_equal, a, b)
def lt(a, b): return _compare(np.less, a, b)
def le(a, b): return _compare(np.less_equal, a, b)
def gt(a, b): return _compare(np.greater, a, b)
def ge(a, b): return _compare(np.greater_equal, a, b)
