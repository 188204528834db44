"""The in-place forms behind ``x += y``, ``x[i] = v``, ``add_``, ``clamp_``, ...: each runs a
primitive through ``Function.apply_``, which writes the result into ``x``'s memory, moves its
version on and, while gradients are recorded, makes ``x`` the output of the op's record."""

from __future__ import annotations

import numpy as np

from ..ops import elementwise as ew
from ..ops.shape import SetItem
from ..dtypes import category, result_type
from ..tensor import Tensor, _to_array
from .math import where
from .shape import index_arrays


def add_(x, other, op="add_"): return ew.Add.apply_(x, _fitting(x, op, other), op=op)
def sub_(x, other, op="sub_"): return ew.Sub.apply_(x, _fitting(x, op, other), op=op)
def mul_(x, other, op="mul_"): return ew.Mul.apply_(x, _fitting(x, op, other), op=op)
def div_(x, other, op="div_"): return ew.Div.apply_(x, _fitting(x, op, other, floating=True), op=op)


def _fitting(x, op: str, *operands, floating: bool = False):
    """PyTorch's rule for arithmetic in place: the result, computed in the promoted dtype, is
    stored in ``x``'s dtype, so its category must not be higher (an int tensor refuses
    ``+= 0.5``), and in ``x``'s shape, so the operands must broadcast to it. Returns the
    (first) operand, a list or array made a tensor."""
    operands = [o if isinstance(o, (Tensor, bool, int, float)) or o is None
                else Tensor._wrap(_to_array(o)) for o in operands]
    dtype = result_type(x, *[o for o in operands if o is not None])
    if floating and dtype.kind != "f":
        dtype = np.dtype(np.float32)
    if category(dtype) > category(x._data.dtype):
        raise RuntimeError(
            f"{op}: result type {dtype} can't be cast to the desired output type "
            f"{x._data.dtype}; write it out of place (x = x + y) or convert first (x = x.float())"
        )
    shapes = [o.shape for o in operands if isinstance(o, Tensor)]
    if shapes and np.broadcast_shapes(tuple(x.shape), *map(tuple, shapes)) != tuple(x.shape):
        raise RuntimeError(
            f"{op}: the result has shape {np.broadcast_shapes(tuple(x.shape), *map(tuple, shapes))} "
            f"but the tensor changed in place has shape {tuple(x.shape)}; an in-place op cannot "
            "change the shape (write it out of place instead: x = x op y)"
        )
    return operands[0]
def relu_(x): return ew.Relu.apply_(x)  # PyTorch's relu_


def setitem_(x, index, value, op="x[index] = value"):
    """``x[index] = value`` (``fill_``, ``copy_`` and ``masked_fill_`` are this too)."""
    return SetItem.apply_(x, value, index_arrays(index, op), op=op)


def clamp_(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    lo, hi = (v.item() if isinstance(v, Tensor) else v for v in (min, max))
    _fitting(x, "clamp_", lo, hi)
    return ew.Clip.apply_(x, lo, hi, op="clamp_")


def masked_fill_(x, mask, value):
    """``value`` where ``mask`` (a bool tensor that broadcasts to ``x``) is True."""
    return setitem_(x, _bool_mask(mask, x.shape, "masked_fill_"), value, "masked_fill_")


def masked_fill(x, mask, value):  # (the out-of-place form, beside its in-place one)
    return where(_bool_mask(mask, x.shape, "masked_fill"), value, x)


def _bool_mask(mask, shape: tuple, op: str) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{op}: the mask must be a bool tensor, got {m.dtype}; use mask.bool()")
    try:
        return np.broadcast_to(m, shape)
    except ValueError:
        raise ValueError(
            f"{op}: a mask of shape {m.shape} does not broadcast to the tensor's shape {shape}"
        ) from None
