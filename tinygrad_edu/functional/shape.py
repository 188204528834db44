"""The shape functions behind Tensor's methods and ``tg.*``: reshape, permute, indexing,
cat, pad, ... Each checks its arguments and calls a shape primitive in ``ops.shape``; stack,
repeat, split and chunk are composed from them.

PyTorch's rule for views, followed here: ``view``, ``permute``, ``expand``, basic indexing,
``squeeze``/``unsqueeze`` and ``reshape`` (when it can) return a new tensor sharing the
memory (and the version counter); ``reshape`` when it cannot view, ``contiguous()`` of a
non-contiguous tensor, ``flip``, ``repeat`` and advanced indexing return copies; ``view``
that cannot be a view raises."""

from __future__ import annotations

import numpy as np

from .._shapes import broadcast_shapes, normalize_axis, prod
from ..dtypes import result_type
from ..ops.elementwise import Cast, Clone
from ..ops.shape import (
    BroadcastTo,
    Concatenate,
    Flip,
    GetItem,
    Pad,
    Permute,
    Reshape,
)
from ..tensor import Tensor


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def reshape(x, shape):
    """A view when NumPy can make one (as PyTorch's reshape), else a copy."""
    shape = _new_shape(x, shape, "reshape")
    return Reshape.apply(x, shape)


def view(x, shape):
    """Always a view: raises where the memory layout would need a copy (use reshape)."""
    shape = _new_shape(x, shape, "view")
    try:
        np.reshape(x._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            f"view: view size is not compatible with input tensor's size and stride (a tensor "
            f"of shape {x.shape} with strides {x._data.strides} cannot be seen as {shape} "
            "without a copy). Use .reshape(...) instead (or .contiguous().view(...))."
        ) from None
    return Reshape.apply(x, shape)


def contiguous(x):
    """``x`` itself when its memory is C-contiguous, else a contiguous copy (as PyTorch)."""
    return x if x._data.flags.c_contiguous else Clone.apply(x)


def _new_shape(x, shape, op: str) -> tuple:
    shape = tuple(int(s) for s in shape)
    known = prod(s for s in shape if s != -1)
    n = x._data.size
    bad = shape.count(-1) > 1 or any(s < -1 for s in shape)
    if not bad:
        bad = (known != n) if -1 not in shape else (known == 0 or n % known != 0)
    if bad:
        raise ValueError(
            f"{op}: cannot reshape a tensor of shape {tuple(x.shape)} ({n} elements) into "
            f"{shape}; the new shape must hold exactly {n} elements (at most one -1)"
        )
    return tuple(n // known if s == -1 else s for s in shape)


def permute(x, dims):
    dims = tuple(int(d) for d in dims)
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)) or len(dims) != x.ndim:
        raise ValueError(
            f"permute: dims {dims} is not a permutation of the {x.ndim} dimensions of a tensor "
            f"of shape {tuple(x.shape)}"
        )
    return Permute.apply(x, tuple(d % x.ndim for d in dims))


def swapaxes(x, a, b):
    (a,) = normalize_axis(a, x.ndim, "transpose")
    (b,) = normalize_axis(b, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


def broadcast_to(x, shape):
    x = _as_tensor(x)
    shape = tuple(int(s) for s in shape)
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(
            f"broadcast_to: a tensor of shape {tuple(x.shape)} cannot be expanded to {shape}; only "
            "size-1 dimensions can grow"
        )
    return BroadcastTo.apply(x, shape)


def expand(x, sizes):
    """torch's expand: -1 keeps a dimension; new leading dimensions may be added."""
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor with {x.ndim} dims")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def squeeze(x, axis=None):
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = normalize_axis(axis, x.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape)


def unsqueeze(x, dim):
    (d,) = normalize_axis(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    (s,) = normalize_axis(start_dim, x.ndim, "flatten")
    (e,) = normalize_axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if s == e:
        return x  # nothing to flatten: PyTorch returns the tensor itself
    return reshape(x, x.shape[:s] + (prod(x.shape[s : e + 1]),) + x.shape[e + 1 :])


def unflatten(x, dim, sizes):
    (d,) = normalize_axis(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1 :])


def index_arrays(index, op: str = "getitem"):
    """An index as NumPy takes it: tensors inside it become arrays, bool masks integer indices,
    and index arrays are copied (changing the caller's index must not reroute a backward)."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            i = i._data
        elif isinstance(i, (list, range)):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            out.extend(np.nonzero(i))
            continue
        if isinstance(i, np.ndarray):
            if i.dtype.kind not in "iu":
                raise IndexError(
                    f"{op}: index arrays must be integers or booleans, got dtype {i.dtype}"
                )
            # (a 0-d integer index is an integer: x[t] is then a view, as in PyTorch)
            i = int(i) if i.ndim == 0 else i.copy()
        out.append(i)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def getitem(x, index):
    index = index_arrays(index)
    try:
        return GetItem.apply(x, index)
    except IndexError as e:
        shape = tuple(x.shape)
        raise IndexError(f"getitem: index {index!r} on a tensor of shape {shape}: {e}") from None


def cat(tensors, dim=0, *, axis=None):
    """Join tensors along an existing dimension (``torch.cat`` / ``np.concatenate``)."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    d = dim if axis is None else axis
    (d,) = normalize_axis(d, tensors[0].ndim, "cat")
    ref = tensors[0].shape
    for t in tensors[1:]:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != d):
            raise ValueError(
                f"cat: shapes {[tuple(t.shape) for t in tensors]} must match in every "
                f"dimension except dim {d}"
            )
    dtype = result_type(*tensors)  # PyTorch's promotion: [int64, float32] joins as float32
    tensors = [t if t.dtype == dtype else Cast.apply(t, dtype) for t in tensors]
    return Concatenate.apply(*tensors, axis=d)


def stack(tensors, dim=0, *, axis=None):
    """Join tensors along a new dimension (a composite: unsqueeze each, then cat)."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    d = dim if axis is None else axis
    (d,) = normalize_axis(d, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def pad(x, pad_width, value=0.0):
    """Constant padding with NumPy's ``pad_width`` ((before, after) per axis, or one pair or
    one int for all axes). For PyTorch's last-dimension-first tuple use ``nn.functional.pad``."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width} does not fit a tensor of shape {tuple(x.shape)}: give one "
            f"(before, after) pair per dimension ({x.ndim} of them), one pair, or one int"
        ) from None
    if (widths < 0).any():
        raise ValueError(f"pad: widths must be non-negative, got {pad_width}")
    widths = tuple((int(a), int(b)) for a, b in widths)
    return Pad.apply(x, widths, value)


def flip(x, dims=None):
    axes = normalize_axis(dims, x.ndim, "flip")
    if axes is None:
        axes = tuple(range(x.ndim))
    return Flip.apply(x, axes)


def repeat(x, sizes):
    """torch's ``repeat`` (NumPy's ``tile``): reshape, broadcast_to, a copy, reshape. (The copy:
    the result is new memory, as in PyTorch, never a read-only view of ``x``.)"""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor with {x.ndim} dims")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    inter = []
    for r, n in zip(sizes, shape):
        inter += [1, n]
    y = reshape(x, tuple(inter))
    big = []
    for r, n in zip(sizes, shape):
        big += [r, n]
    y = Clone.apply(broadcast_to(y, tuple(big)))
    return reshape(y, tuple(r * n for r, n in zip(sizes, shape)))


def split(x, split_size, dim=0):
    (d,) = normalize_axis(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size, int):
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
    else:
        sizes = list(split_size)
        if sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} do not add up to {n} (dim {d} of {tuple(x.shape)})"
            )
    out, start = [], 0
    lead = (slice(None),) * d
    for s in sizes:
        out.append(getitem(x, lead + (slice(start, start + s),)))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    (d,) = normalize_axis(dim, x.ndim, "chunk")
    size = -(-x.shape[d] // chunks)
    return split(x, max(size, 1), d)
