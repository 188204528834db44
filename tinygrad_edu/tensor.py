"""Tensor: an ndarray (``.data``), an optional gradient (``.grad``), and a link to the record
that produced it. Every operator calls a primitive in ``ops`` or a composite built from them.

The one back-edge in the dependency graph is here: operators reach ``ops`` through a single
late import at the bottom of this file (``x * y`` must call ``ops.mul``).
"""

from __future__ import annotations

import collections
import numbers
from typing import Any, Sequence

import numpy as np

from . import tape as _tape
from ._shapes import broadcast_shapes, normalize_axis, prod, unbroadcast

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_default_float = float32

MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


def set_default_dtype(dtype) -> None:
    """Set the float dtype used for Python floats and lists (float32 unless changed)."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_float = dtype


def get_default_dtype() -> np.dtype:
    return _default_float


def _to_array(data, dtype=None) -> np.ndarray:
    """Array from data: Python floats become the default float (float32), ndarrays keep theirs."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, np.generic):
        return np.array(data)
    arr = np.array(data)
    if arr.dtype.kind == "f" and arr.dtype != _default_float:
        arr = arr.astype(_default_float)
    elif arr.dtype.kind == "O":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} data {data!r}")
    return arr


def _check_can_require_grad(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in "fc":
        raise TypeError(
            f"{where}: only floating-point tensors can require gradients, got dtype {dtype}; "
            "convert first, e.g. x.float() or tg.tensor(data, dtype=tg.float32)"
        )


def _arith(primitive: str, op: str, reflected: bool = False):
    """The operator method of a binary primitive (``Mul`` for ``*``). A float tensor with a
    Python float or int goes straight to the primitive: NumPy keeps the scalar weak (the dtype
    stays) and no shape can clash, so ops' checks have nothing to do (two Python frames an op
    fewer: the per-op overhead benchmark's chain is x * s + s)."""

    fn = None  # the primitive, looked up at the first call (ops imports this module)

    def method(self, other):
        nonlocal fn
        if fn is None:
            fn = getattr(ops.ew, primitive)
        if (type(other) is float or type(other) is int) and self.data.dtype.kind == "f":
            return fn.apply(other, self) if reflected else fn.apply(self, other)
        return ops._binary(fn, op, other, self) if reflected else ops._binary(fn, op, self, other)

    method.__name__ = f"__{'r' if reflected else ''}{'truediv' if op == 'div' else op}__"
    return method


class Tensor:
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("data", "requires_grad", "_grad", "_record", "_vc", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False) -> None:
        self.data = _to_array(data, dtype)
        self._grad = None
        self._record = None
        self._vc = None
        self.requires_grad = False
        if requires_grad:
            _check_can_require_grad(self.data.dtype, "Tensor(requires_grad=True)")
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an array without copying or checks (the engine's internal constructor)."""
        t = object.__new__(cls)
        t.data = data
        t.requires_grad = requires_grad
        t._grad = None
        t._record = None
        t._vc = None
        return t

    # -- basic attributes ------------------------------------------------------------------
    @property
    def grad(self) -> "Tensor | None":
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor(value, dtype=self.data.dtype)
            if value.data.shape != self.data.shape:
                raise ValueError(
                    f"grad: assigned gradient has shape {value.data.shape} but the tensor has "
                    f"shape {self.data.shape}; they must match"
                )
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no recorded op produced them)."""
        return self._record is None

    @property
    def grad_fn(self):
        """The record that produced this tensor (None for leaves), like torch's grad_fn."""
        return self._record

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return "cpu"

    def size(self, dim: int | None = None):
        """The shape (``x.size()``) or one dimension (``x.size(0)``), as in PyTorch."""
        if dim is None:
            return self.data.shape
        return self.data.shape[normalize_axis(dim, self.ndim, "size")[0]]

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    @property
    def itemsize(self) -> int:
        return self.data.itemsize

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    @property
    def _version(self) -> int:
        return self._vc[0] if self._vc else 0

    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor can be converted to a Python scalar, this "
                f"one has shape {self.data.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), like ``torch.Tensor.numpy``."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use "
                "tensor.detach().numpy() (or .data)"
            )
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self.data.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype not in (float32, int64, bool_) or self.data.size == 0:
            extras.append(f"dtype={self.data.dtype}")
        if self._record is not None:
            extras.append(f"grad_fn=<{self._record.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        tail = "".join(", " + e for e in extras)
        return f"tensor({body}{tail})"

    # -- autograd ---------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` by one reverse pass.

        A scalar needs no ``gradient``; any other tensor needs one of its own shape (the
        vector of a vector-Jacobian product). The records replayed are freed afterwards unless
        ``retain_graph=True``; ``create_graph=True`` records the backward itself so the
        gradients can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this tensor (shape {self.shape}) does not require grad and was not "
                "produced by a recorded op; set requires_grad=True on the leaves you want "
                "gradients for, and make sure the forward did not run under no_grad()"
            )
        grad = _initial_grad(self, gradient, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        _tape.run_backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def _accumulate_grad(self, g: "Tensor", create_graph: bool, adopted: set) -> None:
        """Add a finished gradient into a leaf's ``.grad`` (the ``+=`` of accumulation).

        The first gradient's buffer is adopted without a copy unless it is read-only (a
        broadcast view) or its memory was already adopted by another leaf in this backward
        (``adopted`` holds the owners' ids): later accumulation is in place, so no two
        leaves may share a buffer.
        """
        if create_graph:
            self._grad = g if self._grad is None else self._grad + g
            return
        arr = g.data
        if self._grad is None:
            owner = arr if arr.base is None else arr.base
            if not arr.flags.writeable or id(owner) in adopted:
                arr = owner = arr.copy()
            adopted.add(id(owner))
            self._grad = g if arr is g.data else Tensor._wrap(arr)  # (no copy: adopted)
        elif self._grad.requires_grad:
            self._grad = Tensor._wrap(self._grad.data + arr)
        else:
            self._grad.data += arr

    def _reduce_to(self, like: "Tensor", op: str) -> "Tensor":
        """This gradient summed down to ``like``'s shape and cast to its dtype (the replay's
        single unbroadcast). Recorded through ``ops`` when the gradient itself needs grad."""
        shape, dtype = like.data.shape, like.data.dtype
        g = self
        gshape = g.data.shape
        if gshape != shape:
            # shape must broadcast to gshape: no more dims, each 1 or equal (plain Python)
            lead = len(gshape) - len(shape)
            fits = lead >= 0 and (
                gshape[lead:] == shape  # (summed over leading axes only: the common case)
                or all(n == 1 or n == m for n, m in zip(shape, gshape[lead:]))
            )
            if not fits:
                raise RuntimeError(
                    f"{op}.backward returned a gradient of shape {g.data.shape} for an input "
                    f"of shape {shape}; a gradient must have the input's shape or a shape the "
                    "input broadcasts to"
                )
            if g.requires_grad:
                g = ops.sum_to(g, shape)
            else:
                g = Tensor._wrap(unbroadcast(g.data, shape))
        if g.data.dtype != dtype:
            g = ops.cast(g, dtype) if g.requires_grad else Tensor._wrap(g.data.astype(dtype))
        return g

    def detach(self) -> "Tensor":
        """A new tensor sharing this one's data, cut from the graph."""
        t = Tensor._wrap(self.data)
        t._vc = self._shared_vc()
        return t

    def detach_(self) -> "Tensor":
        self._record = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._record is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf tensors; use "
                "detach() to get a tensor cut from the graph"
            )
        if requires_grad:
            _check_can_require_grad(self.data.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:  # pragma: no cover - documented gap
        raise NotImplementedError(
            "retain_grad: not supported; use tg.grad(loss, [tensor]) to get the gradient of an "
            "intermediate tensor"
        )

    def zero_(self) -> "Tensor":
        return self._inplace_fill(0, "zero_")

    def fill_(self, value) -> "Tensor":
        return self._inplace_fill(value, "fill_")

    def _inplace_fill(self, value, op: str) -> "Tensor":
        self._check_inplace(op)
        self.data[...] = value
        self._bump_version(op)
        return self

    # -- version counter (in-place safety) ---------------------------------------------------
    def _shared_vc(self) -> list:
        """This tensor's version box, made on first use so views can share it; marked shared
        (its third entry), so an in-place op that the tape cannot follow through the other
        aliases refuses to be recorded."""
        if self._vc is None:
            self._vc = [0, None, True]
        else:
            self._vc[2] = True
        return self._vc

    def _bump_version(self, op: str | None = None, label: str | None = None) -> None:
        """Count an in-place change and remember it (``op`` and the user's source line, or a
        ready-made ``label``: optimizers pass one and skip the frame walk) for the error a
        backward raises when it needed the old value."""
        vc = self._vc
        if vc is None:
            vc = self._vc = [0, None, False]  # [version, last in-place change, shared]
        vc[0] += 1
        if label is None:
            what = f"`{op}`" if op else "an in-place operation"
            label = f"{what} at {_tape._user_frame()}"
        vc[1] = label

    def _check_inplace(self, op: str) -> None:
        if _tape._state.grad_enabled and self.requires_grad:
            if self._record is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad (shape {self.shape}) is being "
                    "changed in place while gradients are recorded; wrap the update in "
                    "`with tg.no_grad():` (as optimizers do) or work on x.detach()"
                )
            raise RuntimeError(
                f"{op}: in-place change of a tensor that is part of the recorded graph (shape "
                f"{self.shape}); use the out-of-place form (x = x + y), or detach() first"
            )

    # -- dtype conversions --------------------------------------------------------------------
    def astype(self, dtype) -> "Tensor":
        return ops.cast(self, np.dtype(dtype))

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``; a device argument ('cpu') is accepted and ignored."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif not (isinstance(a, str) and a.startswith("cpu")):
                dtype = a
        return self if dtype is None or np.dtype(dtype) == self.dtype else self.astype(dtype)

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self.astype(dtype)

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

    def clone(self) -> "Tensor":
        return ops.clone(self)

    def contiguous(self) -> "Tensor":
        return self

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    # -- arithmetic operators -------------------------------------------------------------------
    __add__, __radd__ = _arith("Add", "add"), _arith("Add", "add", reflected=True)
    __sub__, __rsub__ = _arith("Sub", "sub"), _arith("Sub", "sub", reflected=True)
    __mul__, __rmul__ = _arith("Mul", "mul"), _arith("Mul", "mul", reflected=True)
    __truediv__, __rtruediv__ = _arith("Div", "div"), _arith("Div", "div", reflected=True)

    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)

    def __floordiv__(self, other):
        return Tensor._wrap(np.floor_divide(self.data, _raw(other)))

    def __mod__(self, other):
        return Tensor._wrap(np.mod(self.data, _raw(other)))

    # in-place: the buffer changes and the version counter moves on (see _check_inplace)
    def __iadd__(self, other): return self._inplace(np.add, other, "+=")
    def __isub__(self, other): return self._inplace(np.subtract, other, "-=")
    def __imul__(self, other): return self._inplace(np.multiply, other, "*=")
    def __itruediv__(self, other): return self._inplace(np.divide, other, "/=")

    def add_(self, other, alpha=1):
        return self._inplace(np.add, other if alpha == 1 else _raw(other) * alpha, "add_")

    def sub_(self, other, alpha=1):
        return self._inplace(np.subtract, other if alpha == 1 else _raw(other) * alpha, "sub_")

    def mul_(self, other): return self._inplace(np.multiply, other, "mul_")
    def div_(self, other): return self._inplace(np.divide, other, "div_")

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        np.clip(self.data, min, max, out=self.data)
        self._bump_version("clamp_")
        return self

    def copy_(self, src) -> "Tensor":
        self._check_inplace("copy_")
        self.data[...] = _raw(src)
        self._bump_version("copy_")
        return self

    def _inplace(self, ufunc, other, op: str) -> "Tensor":
        self._check_inplace(op)
        if isinstance(other, Tensor) and other.requires_grad and _tape._state.grad_enabled:
            raise RuntimeError(
                f"{op}: the right-hand side requires grad, so the result must be recorded; "
                "write x = x + y (out of place) instead"
            )
        ufunc(self.data, _raw(other), out=self.data, casting="same_kind")
        self._bump_version(op)
        return self

    def __setitem__(self, index, value) -> None:
        self._check_inplace("__setitem__")
        if isinstance(value, Tensor) and value.requires_grad and _tape._state.grad_enabled:
            raise RuntimeError(
                "__setitem__: the value requires grad, so the assignment must be recorded; build "
                "the result out of place (e.g. with tg.where or tg.cat) instead"
            )
        self.data[_raw_index(index)] = _raw(value)
        self._bump_version("x[index] = value")

    # -- comparisons (bool tensors, no gradient) -------------------------------------------------
    def __eq__(self, other): return Tensor._wrap(np.equal(self.data, _raw(other)))  # type: ignore[override]
    def __ne__(self, other): return Tensor._wrap(np.not_equal(self.data, _raw(other)))  # type: ignore[override]
    def __lt__(self, other): return Tensor._wrap(np.less(self.data, _raw(other)))
    def __le__(self, other): return Tensor._wrap(np.less_equal(self.data, _raw(other)))
    def __gt__(self, other): return Tensor._wrap(np.greater(self.data, _raw(other)))
    def __ge__(self, other): return Tensor._wrap(np.greater_equal(self.data, _raw(other)))
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self): return Tensor._wrap(np.invert(self.data))
    def __and__(self, other): return Tensor._wrap(np.logical_and(self.data, _raw(other)))
    def __or__(self, other): return Tensor._wrap(np.logical_or(self.data, _raw(other)))
    def __xor__(self, other): return Tensor._wrap(np.logical_xor(self.data, _raw(other)))
    logical_and, logical_or, logical_xor = __and__, __or__, __xor__

    def logical_not(self): return Tensor._wrap(np.logical_not(self.data))

    def equal(self, other) -> bool:
        return bool(np.array_equal(self.data, _raw(other)))

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(np.allclose(self.data, _raw(other), rtol=rtol, atol=atol))

    def isnan(self): return Tensor._wrap(np.isnan(self.data))
    def isinf(self): return Tensor._wrap(np.isinf(self.data))
    def isfinite(self): return Tensor._wrap(np.isfinite(self.data))
    def sign(self): return Tensor._wrap(np.sign(self.data))
    def floor(self): return Tensor._wrap(np.floor(self.data))
    def ceil(self): return Tensor._wrap(np.ceil(self.data))
    def round(self): return Tensor._wrap(np.round(self.data))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "any")
        return Tensor._wrap(np.asarray(np.any(self.data, axis=a, keepdims=k)))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "all")
        return Tensor._wrap(np.asarray(np.all(self.data, axis=a, keepdims=k)))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _arg_reduce(np.argmax, self, dim, axis, keepdim, keepdims, "argmax")

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _arg_reduce(np.argmin, self, dim, axis, keepdim, keepdims, "argmin")

    # -- elementwise math ----------------------------------------------------------------------
    def add(self, other, alpha=1): return ops.add(self, other if alpha == 1 else other * alpha)
    def sub(self, other, alpha=1): return ops.sub(self, other if alpha == 1 else other * alpha)
    def mul(self, other): return ops.mul(self, other)
    def div(self, other): return ops.div(self, other)
    def pow(self, exponent): return ops.pow(self, exponent)
    def neg(self): return ops.neg(self)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def rsqrt(self): return ops.pow(self, -0.5)
    def square(self): return ops.mul(self, self)
    def reciprocal(self): return ops.div(1.0, self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def relu_(self): return ops.relu_(self)
    def abs(self): return ops.abs(self)
    def erf(self): return ops.erf(self)
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)

    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    clamp = clip

    def where(self, condition, other): return ops.where(condition, self, other)

    subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg

    # -- reductions ------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "sum")
        x = self if dtype is None else self.astype(dtype)
        return ops.sum(x, a, k)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "mean")
        x = self if dtype is None else self.astype(dtype)
        return ops.mean(x, a, k)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Largest value. ``x.max(dim)`` returns ``(values, indices)`` as PyTorch does;
        ``x.max(axis=...)`` (NumPy's spelling) and tuple dims return the values only.
        Called with another tensor it is ``maximum``."""
        if isinstance(dim, Tensor):
            return ops.maximum(self, dim)
        return _max_min(self, ops.max, np.argmax, dim, axis, keepdim, keepdims, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Smallest value; see ``max`` for the ``(values, indices)`` rule."""
        if isinstance(dim, Tensor):
            return ops.minimum(self, dim)
        return _max_min(self, ops.min, np.argmin, dim, axis, keepdim, keepdims, "min")

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "amax")
        return ops.max(self, a, k)

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "amin")
        return ops.min(self, a, k)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "var")
        return ops.var(self, a, _correction(unbiased, correction, ddof), k)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "std")
        return ops.std(self, a, _correction(unbiased, correction, ddof), k)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        a, k = _axis_kw(dim, axis, keepdim, keepdims, self.ndim, "logsumexp")
        return ops.logsumexp(self, a, k)

    def softmax(self, dim=-1, *, axis=None):
        return ops.softmax(self, dim if axis is None else axis)

    def log_softmax(self, dim=-1, *, axis=None):
        return ops.log_softmax(self, dim if axis is None else axis)

    # -- shape ----------------------------------------------------------------------------------
    def reshape(self, *shape): return ops.reshape(self, _shape_args(shape))
    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            return self.astype(shape[0])  # view(dtype) reinterprets in torch; we convert
        return ops.reshape(self, _shape_args(shape))
    def view_as(self, other): return ops.reshape(self, other.shape)
    def reshape_as(self, other): return ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def unflatten(self, dim, sizes): return ops.unflatten(self, dim, sizes)
    def ravel(self): return ops.reshape(self, (-1,))

    def permute(self, *dims): return ops.permute(self, _shape_args(dims))

    def transpose(self, dim0=None, dim1=None):
        """Swap two dimensions (PyTorch). With no arguments, reverse all axes (NumPy)."""
        if dim0 is None and dim1 is None:
            return ops.permute(self, tuple(range(self.ndim))[::-1])
        return ops.swapaxes(self, dim0, dim1)

    def swapaxes(self, axis0, axis1): return ops.swapaxes(self, axis0, axis1)
    swapdims = swapaxes

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.transpose()

    @property
    def T(self): return ops.permute(self, tuple(range(self.ndim))[::-1])

    @property
    def mT(self): return ops.swapaxes(self, -2, -1)

    def squeeze(self, dim=None, *, axis=None): return ops.squeeze(self, dim if axis is None else axis)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def expand(self, *sizes): return ops.expand(self, _shape_args(sizes))
    def expand_as(self, other): return ops.broadcast_to(self, other.shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, tuple(shape))
    def flip(self, *dims): return ops.flip(self, _shape_args(dims) if dims else None)
    def repeat(self, *sizes): return ops.repeat(self, _shape_args(sizes))
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    def split(self, split_size, dim=0): return ops.split(self, split_size, dim)

    def __getitem__(self, index): return ops.getitem(self, index)

    # -- linear algebra ---------------------------------------------------------------------------
    def matmul(self, other): return ops.matmul(self, other)
    def mm(self, other): return ops.matmul(self, other)
    def dot(self, other): return ops.matmul(self, other)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _raw_index(index):
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


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
    out = fn(t.data, axis=a)
    if k:
        out = np.expand_dims(out, a) if a is not None else np.reshape(out, (1,) * t.ndim)
    return Tensor._wrap(np.asarray(out, dtype=np.int64))


def _max_min(t, op_fn, arg_fn, dim, axis, keepdim, keepdims, op):
    torch_style = dim is not None and axis is None and isinstance(dim, numbers.Integral)
    a, k = _axis_kw(dim, axis, keepdim, keepdims, t.ndim, op)
    values = op_fn(t, a, k)
    if not torch_style:
        return values
    return MaxMin(values, _arg_reduce(arg_fn, t, a, None, k, None, op))


def _initial_grad(t: Tensor, gradient, op: str) -> Tensor:
    """The seed gradient of a backward: ones for a one-element output, else ``gradient``."""
    if gradient is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{op}: output has shape {t.shape}, so backward() needs a `gradient` argument of "
                "that shape (the vector in the vector-Jacobian product); for a loss, reduce it "
                "to a scalar first, e.g. loss.sum().backward() or loss.mean().backward()"
            )
        one = np.empty_like(t.data)  # (C-level calls: np.ones_like is a Python wrapper)
        one.fill(1)
        return Tensor._wrap(one)
    g = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient, dtype=t.dtype))
    if g.data.shape != t.data.shape:
        raise RuntimeError(
            f"{op}: gradient has shape {g.data.shape} but the output has shape {t.shape}; "
            "pass a gradient of exactly the output's shape"
        )
    if not g.requires_grad:
        g = Tensor._wrap(np.array(g.data, dtype=t.dtype))  # a private copy: never alias the caller's
    return g


from . import ops  # noqa: E402  (the one back-edge: operators reach the primitives; see DESIGN)
