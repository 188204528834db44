"""The arithmetic, reduction and matrix functions behind Tensor's operators and ``tg.*``.

Each checks its arguments, applies PyTorch's dtype rules, and calls a primitive in ``ops``;
the composites at the end (softmax, logsumexp, var, std) are built from primitives only and
have no backward of their own.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .._shapes import broadcast_shapes, normalize_axis, prod
from ..function import Function
from ..ops import elementwise as ew, reduce as rd
from ..ops.elementwise import Cast, Where
from ..ops.linalg import MatMul
from ..ops.loss import LogSoftmax
from ..dtypes import as_numpy, get_default_dtype, result_type
from ..tensor import Tensor, _to_array
from .shape import swapaxes


def _operand(x):
    """A tensor, or a Python scalar (NumPy scalars are unwrapped: PyTorch treats both as weak
    scalars); arrays and lists become constant tensors."""
    if isinstance(x, (np.number, np.bool_)):  # (before float: np.float64 is a float)
        return x.item()
    if isinstance(x, (Tensor, bool, int, float)):
        return x
    return Tensor._wrap(_to_array(x))


def _promote(*operands, floating: bool = False) -> tuple:
    """The operands in PyTorch's result dtype (``dtypes.result_type``; with ``floating``, the
    default float dtype if that is not a float, as true division needs). Tensors are cast (a
    recorded Cast, so gradients flow back in their own dtype); Python scalars stay scalars,
    which NumPy keeps weak, so they take that dtype."""
    dtype = result_type(*[x for x in operands if x is not None])
    if floating and dtype.kind != "f":
        dtype = get_default_dtype().dtype
    return tuple(
        Cast.apply(x, dtype) if isinstance(x, Tensor) and x._data.dtype != dtype else x
        for x in operands
    )


def _operands(a, b, floating: bool = False) -> tuple:
    """The pair ready for a binary primitive: both in the result dtype (``_promote``).
    Shapes are not checked here: NumPy checks them in the forward, and ``_binary`` turns its
    error into ours."""
    if isinstance(a, Tensor):  # the common cases, decided without further checks
        kind = a._data.dtype.kind
        if kind == "f" and (type(b) is float or type(b) is int):
            return a, b
        if isinstance(b, Tensor) and a._data.dtype == b._data.dtype and (kind == "f" or not floating):
            return a, b
    return _promote(_operand(a), _operand(b), floating=floating)


def _binary(fn: type[Function], op: str, a, b, floating: bool = False) -> Tensor:
    return _apply(fn, op, *_operands(a, b, floating))


def _apply(primitive: type[Function], op: str, a, b, **kwargs) -> Tensor:
    try:
        return primitive.apply(a, b, **kwargs)
    except ValueError:
        shapes = [x._data.shape for x in (a, b) if isinstance(x, Tensor)]
        broadcast_shapes(op, *shapes)  # raises the clear error if that was the problem
        raise


def add(a, b): return _binary(ew.Add, "add", a, b)
def sub(a, b): return _binary(ew.Sub, "sub", a, b)
def mul(a, b): return _binary(ew.Mul, "mul", a, b)
def div(a, b): return _binary(ew.Div, "div", a, b, floating=True)  # int / int is a float
def pow(a, b): return _binary(ew.Pow, "pow", a, b)  # noqa: A001
def maximum(a, b): return _binary(ew.Maximum, "maximum", a, b)
def minimum(a, b): return _binary(ew.Minimum, "minimum", a, b)


def remainder(a, b):
    """a mod b with the sign of b (Python's ``%``, ``torch.remainder``); differentiable:
    d/da = 1, d/db = -floor(a / b)."""
    a, b = _operands(a, b)
    _check_divisor("remainder", a, b)
    return _apply(ew.Remainder, "remainder", a, b)


def floor_divide(a, b):
    """floor(a / b) (Python's ``//``); its gradient is zero, as for floor."""
    a, b = _operands(a, b)
    _check_divisor("floor_divide", a, b)
    return _apply(ew.PiecewiseConstant, "floor_divide", a, b, fn=np.floor_divide)


def _check_divisor(op: str, a, b) -> None:
    """Integer division by zero raises (as in PyTorch); float division gives inf or nan."""
    dtype = a.dtype if isinstance(a, Tensor) else b.dtype
    if dtype.kind == "b":
        raise TypeError(f"{op}: not defined for bool tensors; convert first, e.g. x.long()")
    if dtype.kind in "iu" and np.any(np.asarray(b._data if isinstance(b, Tensor) else b) == 0):
        raise RuntimeError(
            f"ZeroDivisionError: {op}: integer division by zero (the divisor holds a 0); "
            "convert to float first (x.float()) to get inf or nan instead"
        )


# -- piecewise-constant functions: zero gradient, but recorded, as in PyTorch -----------------
def _step(x, fn, **kw):
    if x.dtype.kind == "f":
        return ew.PiecewiseConstant.apply(x, fn=fn, **kw)
    # integers are whole numbers already (and carry no gradient); a bool's sign is itself
    keep = fn is not np.sign or x.dtype.kind == "b"
    return Tensor._wrap(x._data.copy() if keep else fn(x._data))


def floor(x): return _step(x, np.floor)
def ceil(x): return _step(x, np.ceil)
def trunc(x): return _step(x, np.trunc)
def sign(x): return _step(x, np.sign)
def round(x, decimals=0): return _step(x, np.round, decimals=decimals)  # noqa: A001 - half to even


def _floating(x):
    """An integer or bool tensor meets a float function as the default float dtype (PyTorch's
    rule; NumPy would pick float64, or float16 for int8)."""
    return x if x._data.dtype.kind == "f" else Cast.apply(x, get_default_dtype().dtype)


def neg(x): return ew.Neg.apply(x)
def exp(x): return ew.Exp.apply(_floating(x))
def log(x): return ew.Log.apply(_floating(x))
def log10(x): return log(x) * (1.0 / math.log(10.0))  # log10 x = ln x / ln 10
def log2(x): return log(x) * (1.0 / math.log(2.0))
def sqrt(x): return ew.Sqrt.apply(_floating(x))
def sin(x): return ew.Sin.apply(_floating(x))
def cos(x): return ew.Cos.apply(_floating(x))
def tanh(x): return ew.Tanh.apply(_floating(x))
def sigmoid(x): return ew.Sigmoid.apply(_floating(x))
def relu(x): return ew.Relu.apply(x)
def abs(x): return ew.Abs.apply(x)  # noqa: A001
def erf(x): return ew.Erf.apply(_floating(x))
def clone(x): return ew.Clone.apply(x)


def clip(x, min=None, max=None):  # noqa: A002
    """Clamp to [min, max]: each bound a number, or a tensor that broadcasts against x."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    x, lo, hi = _promote(x, *(None if v is None else _operand(v) for v in (min, max)))
    if any(isinstance(v, Tensor) and (v.ndim or v.requires_grad) for v in (lo, hi)):
        # elementwise bounds select (as PyTorch does), so gradients reach the bounds too
        if lo is not None:
            x = where(x < lo, lo, x)
        if hi is not None:
            x = where(x > hi, hi, x)
        return x
    lo, hi = (v.item() if isinstance(v, Tensor) else v for v in (lo, hi))
    return ew.Clip.apply(x, lo, hi)


clamp = clip


def cast(x, dtype):
    dtype = as_numpy(dtype)
    if x._data.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind not in "fc":
        # an integer result can carry no gradient: cut it from the graph, as torch does
        return Tensor._wrap(x._data.astype(dtype))
    return ew.Cast.apply(x, dtype)


def transpose(x, dim0, dim1):
    return swapaxes(x, dim0, dim1)


def where(cond, a, b):
    """Pick from ``a`` where ``cond`` is true, else from ``b`` (broadcasting, like np.where)."""
    if isinstance(cond, Tensor) and cond._data.dtype == np.bool_:
        c = cond  # passed as the tensor, so Where's saved mask is version-checked
    else:
        c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
        if c.dtype != np.bool_:
            c = c.astype(bool)
    a, b = _promote(_operand(a), _operand(b))
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # two scalars: NumPy would
        dtype = result_type(a, b)  # pick float64 for them, PyTorch the default dtype
        a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    operands = (np.shape(v._data if isinstance(v, Tensor) else v) for v in (a, b))
    broadcast_shapes("where", c.shape, *operands)  # a clear error before NumPy's
    return Where.apply(c, a, b)


def _axes(x: Tensor, axis, op: str):
    """The reduced axes (None for all). A 0-d tensor is one element, as in PyTorch: its dim 0
    or -1 reduces nothing."""
    axes = normalize_axis(axis, x.ndim, op)
    return () if x.ndim == 0 and axes is not None else axes


def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy/torch
    return rd.Sum.apply(x, axes=_axes(x, axis, "sum"), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean: needs a floating-point tensor, got {x.dtype}; call .float() first")
    return rd.Mean.apply(x, axes=_axes(x, axis, "mean"), keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return rd.Max.apply(x, axes=_axes(x, axis, "max"), keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return rd.Min.apply(x, axes=_axes(x, axis, "min"), keepdims=keepdims)


def sum_to(x, shape):
    return rd.SumTo.apply(x, tuple(shape))


# -- composites: no backward of their own ---------------------------------------------------
def _count(x: Tensor, axis) -> int:
    axes = _axes(x, axis, "var")
    return x._data.size if axes is None else prod(x.shape[a] for a in axes)


def var(x, axis=None, correction=1, keepdims=False):
    """Variance with PyTorch's default Bessel correction (``correction=1``, unbiased)."""
    centred = x - mean(x, axis, keepdims=True)
    n = _count(x, axis)
    return sum(centred * centred, axis, keepdims) / builtins.max(n - correction, 0)


def std(x, axis=None, correction=1, keepdims=False):
    """sqrt(var). Where var is 0 (a constant row) the gradient is 0, as in PyTorch: sqrt's
    slope is infinite there and var's is 0, so sqrt is taken of 1 instead and never meets it."""
    v = var(x, axis, correction, keepdims)
    zero = v._data == 0
    return Where.apply(zero, 0.0, ew.Sqrt.apply(Where.apply(zero, 1.0, v)))


def _shift(x: Tensor, axis, op: str = "logsumexp") -> Tensor:
    """A constant (detached) max for stability; non-finite maxima are replaced by 0."""
    axes = _axes(x, axis, op)
    if x._data.size == 0:  # no maximum (of an empty dim) to shift by: a sum of nothing, 0
        return Tensor._wrap(np.add.reduce(x._data, axis=axes, keepdims=True))
    m = np.max(x._data, axis=axes, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x._data.dtype, copy=False)
    return Tensor._wrap(m)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))): finite at logits of +-1e4."""
    m = _shift(x, axis)
    out = ew.Log.apply(sum(ew.Exp.apply(x - m), axis, keepdims=True)) + m
    if not keepdims:
        axes = _axes(x, axis, "logsumexp")
        shape = () if axes is None else tuple(n for i, n in enumerate(x.shape) if i not in axes)
        out = out.reshape(shape)
    return out


def softmax(x, axis=-1):
    """exp(x - m) / sum(exp(x - m)): rows sum to 1, no overflow at +-1e4."""
    e = ew.Exp.apply(x - _shift(x, axis, "softmax"))
    return e / sum(e, axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``: the primitive ``LogSoftmax`` (one record; finite values
    and gradients at logits of +-1e4)."""
    return LogSoftmax.apply(x, axes=_axes(x, axis, "log_softmax"))


def matmul(a, b):
    """``a @ b`` with NumPy's rules; a clear error names both shapes when they do not fit."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: {tuple(a.shape)} @ {tuple(b.shape)}: both operands need at least one "
            "dimension (use * for scalars)"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: {tuple(a.shape)} @ {tuple(b.shape)}: inner dimensions {k_a} and {k_b} "
            "differ (the last dim of the left operand must equal the second-to-last of the right; "
            "transpose one of them?)"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: {tuple(a.shape)} @ {tuple(b.shape)}: batch dimensions "
                f"{a.shape[:-2]} and {b.shape[:-2]} cannot be broadcast together"
            ) from None
    if a.dtype != b.dtype:
        a, b = _promote(a, b)  # (PyTorch refuses; the promoted product is what a cast gives)
    return MatMul.apply(a, b)

