"""The rest of PyTorch's tensor methods: conversions, comparisons, math, reductions, shapes.

Each is a plain forward to a function in ``functional`` (or a NumPy call for results that
carry no gradient, such as ``isnan`` and ``argmax``). ``Tensor`` inherits them; nothing here
takes part in autodiff.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._random import RandomFills
from ._shapes import normalize_axis
from ._tensor_str import Size, tensor_repr
from . import dtypes
from ._method_args import _arg_reduce, _axis_kw, _correction, _max_min, _one_dim, _shape_args
from .device import CPU, check_device, parse_to
from .dtypes import as_numpy, bool_, float16, float32, float64, int32, int64

# bound by tensor.py once both exist (tensor.py imports this module to define Tensor)
Tensor = functional = None

class TensorMethods(RandomFills):
    """PyTorch's tensor methods that are not autodiff itself (mixed into ``Tensor``)."""

    __slots__ = ()

    # -- what a tensor is, and how it prints --------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no recorded op produced them)."""
        return self._record is None

    @property
    def grad_fn(self):
        """The record that produced this tensor (None for leaves), like torch's grad_fn."""
        return self._record

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.of(self._data.dtype)

    @property
    def device(self):
        return CPU

    is_cuda = False

    def get_device(self) -> int:
        return -1  # PyTorch's answer for a CPU tensor

    def __repr__(self) -> str:
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats like its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self._data.ndim == 0 and not self._is_parameter:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # -- PyTorch's in-place methods --------------------------------------------------------------
    def add_(self, other, alpha=1):
        return functional.add_(self, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return functional.sub_(self, other if alpha == 1 else other * alpha)

    def mul_(self, other): return functional.mul_(self, other)
    def div_(self, other): return functional.div_(self, other)
    def zero_(self): return self._assign(..., 0, "zero_")
    def fill_(self, value): return self._assign(..., value, "fill_")
    def copy_(self, src): return self._assign(..., src, "copy_")
    def clamp_(self, min=None, max=None): return functional.clamp_(self, min, max)
    clip_ = clamp_

    def masked_fill_(self, mask, value): return functional.masked_fill_(self, mask, value)
    def masked_fill(self, mask, value): return functional.masked_fill(self, mask, value)

    # -- conversions ----------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor can be converted to a Python scalar, this "
                f"one has shape {self._data.shape}"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), like ``torch.Tensor.numpy``."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use "
                "tensor.detach().numpy()"
            )
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self._data.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data)

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None):
        """The shape (``x.size()``) or one dimension (``x.size(0)``), as in PyTorch."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[normalize_axis(dim, self.ndim, "size")[0]]

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    # -- dtype conversions --------------------------------------------------------------------
    def astype(self, dtype) -> "Tensor":
        return functional.cast(self, as_numpy(dtype))

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``, and the
        keywords ``dtype``, ``device``, ``copy``, as in PyTorch; the only device is the CPU."""
        args = tuple(a._data.dtype if isinstance(a, Tensor) else a for a in args)
        dtype, copy = parse_to(args, kwargs, "to")
        if dtype is not None and dtype != self._data.dtype:
            return self.astype(dtype)
        return self.clone() if copy else self

    def type(self, dtype=None):
        """The legacy type name (``'tg.FloatTensor'``), or with an argument a conversion to
        that dtype or legacy type (``tg.LongTensor``, ``'tg.LongTensor'``)."""
        if dtype is None:
            return dtypes.legacy_name(self._data.dtype)
        return self.to(dtypes.from_legacy(dtype))

    def float(self) -> "Tensor":
        return self.to(float32)

    def double(self) -> "Tensor":
        return self.to(float64)

    def half(self) -> "Tensor":
        return self.to(float16)

    def long(self) -> "Tensor":
        return self.to(int64)

    def int(self) -> "Tensor":
        return self.to(int32)

    def bool(self) -> "Tensor":
        return self.to(bool_)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking=False) -> "Tensor":
        check_device("cuda" if device is None else device, "cuda")
        return self

    def clone(self) -> "Tensor":
        return functional.clone(self)

    def contiguous(self) -> "Tensor":
        return functional.contiguous(self)

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    # -- comparisons, bitwise and logical ops (no gradient) ---------------------------------------
    def __eq__(self, other): return functional.eq(self, other)  # type: ignore[override]
    def __ne__(self, other): return functional.ne(self, other)  # type: ignore[override]
    def __lt__(self, other): return functional.lt(self, other)
    def __le__(self, other): return functional.le(self, other)
    def __gt__(self, other): return functional.gt(self, other)
    def __ge__(self, other): return functional.ge(self, other)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self): return functional.bitwise_not(self)
    def __and__(self, other): return functional.bitwise_and(self, other)
    def __or__(self, other): return functional.bitwise_or(self, other)
    def __xor__(self, other): return functional.bitwise_xor(self, other)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    bitwise_not, bitwise_and, bitwise_or, bitwise_xor = __invert__, __and__, __or__, __xor__

    def logical_and(self, other): return functional.logical_and(self, other)
    def logical_or(self, other): return functional.logical_or(self, other)
    def logical_xor(self, other): return functional.logical_xor(self, other)
    def logical_not(self): return functional.logical_not(self)

    def equal(self, other) -> bool:
        return bool(np.array_equal(self._data, _raw(other)))

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(np.allclose(self._data, _raw(other), rtol=rtol, atol=atol))

    def isnan(self): return Tensor._wrap(np.isnan(self._data))
    def isinf(self): return Tensor._wrap(np.isinf(self._data))
    def isfinite(self): return Tensor._wrap(np.isfinite(self._data))
    def sign(self): return functional.sign(self)
    def floor(self): return functional.floor(self)
    def ceil(self): return functional.ceil(self)
    def trunc(self): return functional.trunc(self)
    def round(self, decimals=0): return functional.round(self, decimals)

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "any")
        return Tensor._wrap(np.asarray(np.any(self._data, axis=a, keepdims=k)))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "all")
        return Tensor._wrap(np.asarray(np.all(self._data, axis=a, keepdims=k)))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _arg_reduce(np.argmax, self, dim, axis, keepdim, keepdims, "argmax")

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _arg_reduce(np.argmin, self, dim, axis, keepdim, keepdims, "argmin")

    # -- elementwise math ----------------------------------------------------------------------
    def floor_divide(self, other): return functional.floor_divide(self, other)
    def remainder(self, other): return functional.remainder(self, other)
    def add(self, other, alpha=1): return functional.add(self, other if alpha == 1 else other * alpha)
    def sub(self, other, alpha=1): return functional.sub(self, other if alpha == 1 else other * alpha)
    def mul(self, other): return functional.mul(self, other)
    def div(self, other): return functional.div(self, other)
    def pow(self, exponent): return functional.pow(self, exponent)
    def neg(self): return functional.neg(self)
    def exp(self): return functional.exp(self)
    def log(self): return functional.log(self)
    def log10(self): return functional.log10(self)
    def log2(self): return functional.log2(self)
    def sqrt(self): return functional.sqrt(self)
    def rsqrt(self): return functional.pow(self, -0.5)
    def square(self): return functional.mul(self, self)
    def reciprocal(self): return functional.div(1.0, self)
    def sin(self): return functional.sin(self)
    def cos(self): return functional.cos(self)
    def tanh(self): return functional.tanh(self)
    def sigmoid(self): return functional.sigmoid(self)
    def relu(self): return functional.relu(self)
    def relu_(self): return functional.relu_(self)
    def abs(self): return functional.abs(self)
    def erf(self): return functional.erf(self)
    def maximum(self, other): return functional.maximum(self, other)
    def minimum(self, other): return functional.minimum(self, other)

    def clip(self, min=None, max=None): return functional.clip(self, min, max)
    clamp = clip

    def where(self, condition, other): return functional.where(condition, self, other)

    subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg

    # -- reductions ------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "sum")
        x = self if dtype is None else self.astype(dtype)
        return functional.sum(x, a, k)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "mean")
        x = self if dtype is None else self.astype(dtype)
        return functional.mean(x, a, k)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Largest value. ``x.max(dim)`` returns ``(values, indices)`` as PyTorch does;
        ``x.max(axis=...)`` (NumPy's spelling) and tuple dims return the values only.
        Called with another tensor it is ``maximum``."""
        if isinstance(dim, Tensor):
            return functional.maximum(self, dim)
        return _max_min(self, functional.max, np.argmax, dim, axis, keepdim, keepdims, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Smallest value; see ``max`` for the ``(values, indices)`` rule."""
        if isinstance(dim, Tensor):
            return functional.minimum(self, dim)
        return _max_min(self, functional.min, np.argmin, dim, axis, keepdim, keepdims, "min")

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "amax")
        return functional.max(self, a, k)

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "amin")
        return functional.min(self, a, k)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        if isinstance(dim, bool):  # var(unbiased): PyTorch's form without a dim
            dim, unbiased = None, dim
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "var")
        return functional.var(self, a, _correction(unbiased, correction, ddof), k)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        if isinstance(dim, bool):  # std(unbiased): PyTorch's form without a dim
            dim, unbiased = None, dim
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "std")
        return functional.std(self, a, _correction(unbiased, correction, ddof), k)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "logsumexp")
        return functional.logsumexp(self, a, k)

    def softmax(self, dim=-1, dtype=None, *, axis=None):
        x = self if dtype is None else self.astype(dtype)
        return functional.softmax(x, dim if axis is None else axis)

    def log_softmax(self, dim=-1, dtype=None, *, axis=None):
        x = self if dtype is None else self.astype(dtype)
        return functional.log_softmax(x, dim if axis is None else axis)

    # -- shape ----------------------------------------------------------------------------------
    def reshape(self, *shape): return functional.reshape(self, _shape_args(shape))
    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            return self.astype(shape[0])  # view(dtype) reinterprets in torch; we convert
        return functional.view(self, _shape_args(shape))
    def view_as(self, other): return functional.view(self, other.shape)
    def reshape_as(self, other): return functional.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return functional.flatten(self, start_dim, end_dim)
    def unflatten(self, dim, sizes): return functional.unflatten(self, dim, sizes)
    def ravel(self): return functional.reshape(self, (-1,))

    def permute(self, *dims): return functional.permute(self, _shape_args(dims))

    def transpose(self, dim0=None, dim1=None):
        """Swap two dimensions (PyTorch). With no arguments, reverse all axes (NumPy)."""
        if dim0 is None and dim1 is None:
            return functional.permute(self, tuple(range(self.ndim))[::-1])
        return functional.swapaxes(self, dim0, dim1)

    def swapaxes(self, axis0, axis1): return functional.swapaxes(self, axis0, axis1)
    swapdims = swapaxes

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.transpose()

    @property
    def T(self): return functional.permute(self, tuple(range(self.ndim))[::-1])

    @property
    def mT(self): return functional.swapaxes(self, -2, -1)

    def squeeze(self, dim=None, *, axis=None): return functional.squeeze(self, dim if axis is None else axis)
    def unsqueeze(self, dim=None, *, axis=None):
        return functional.unsqueeze(self, _one_dim(dim, axis, "unsqueeze"))
    def expand(self, *sizes): return functional.expand(self, _shape_args(sizes))
    def expand_as(self, other): return functional.broadcast_to(self, other.shape)
    def broadcast_to(self, shape): return functional.broadcast_to(self, tuple(shape))
    def flip(self, *dims): return functional.flip(self, _shape_args(dims) if dims else None)
    def repeat(self, *sizes): return functional.repeat(self, _shape_args(sizes))
    def chunk(self, chunks, dim=0): return functional.chunk(self, chunks, dim)
    def split(self, split_size, dim=0): return functional.split(self, split_size, dim)

    def __getitem__(self, index): return functional.getitem(self, index)

    # -- linear algebra ---------------------------------------------------------------------------
    def matmul(self, other): return functional.matmul(self, other)
    def mm(self, other): return functional.matmul(self, other)
    def dot(self, other): return functional.matmul(self, other)


def _raw(x):
    return x._data if isinstance(x, TensorMethods) else x

