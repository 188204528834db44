"""Comparisons, bitwise and logical functions: bool or integer results that carry no
gradient. Comparisons and bitwise ops compute in PyTorch's result dtype, as arithmetic does
(an int64 tensor meets 2.5 as float32), so they agree with the arithmetic."""

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
    a, b = (x._data.astype(dtype, copy=False) if isinstance(x, Tensor) else x for x in (a, b))
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


def _bitwise(ufunc, op: str, a, b):
    a, b, dtype = _arrays(a, b)
    if dtype.kind not in "biu":
        raise TypeError(
            f"{op}: needs integer or bool tensors, got {dtype}; for a truth-value test of any "
            "tensors use logical_and / logical_or / logical_xor"
        )
    return Tensor._wrap(np.asarray(ufunc(a, b)))


def bitwise_and(a, b): return _bitwise(np.bitwise_and, "bitwise_and", a, b)
def bitwise_or(a, b): return _bitwise(np.bitwise_or, "bitwise_or", a, b)
def bitwise_xor(a, b): return _bitwise(np.bitwise_xor, "bitwise_xor", a, b)


def bitwise_not(x):
    """~x: logical not of a bool tensor, the two's-complement not of an integer one."""
    if x.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: needs an integer or bool tensor, got {x.dtype}; use logical_not")
    return Tensor._wrap(np.invert(x._data))


def logical_and(a, b): return Tensor._wrap(np.logical_and(_raw(a), _raw(b)))
def logical_or(a, b): return Tensor._wrap(np.logical_or(_raw(a), _raw(b)))
def logical_xor(a, b): return Tensor._wrap(np.logical_xor(_raw(a), _raw(b)))
def logical_not(x): return Tensor._wrap(np.logical_not(_raw(x)))


def _raw(x):
    return x._data if isinstance(x, Tensor) else x
