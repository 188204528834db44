"""The arithmetic, reduction and matrix functions behind Tensor's operators and ``tg.*``.

Each checks its arguments, applies PyTorch's dtype rules, and calls a primitive in ``ops``;
the composites at the end (softmax, logsumexp, var, std) are built from primitives only and
have no backward of their own.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._shapes import broadcast_shapes, normalize_axis, prod
from ..function import Function
from ..ops import elementwise as ew, reduce as rd
from ..ops.elementwise import Cast, Where
from ..ops.linalg import MatMul
from ..ops.loss import LogSoftmax
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .shape import swapaxes

_scalar_types = (int, float, bool, np.number, np.bool_)


def _operands(a, b):
    """Make the pair ready for a binary primitive.

    Python scalars stay scalars (NumPy keeps them weak, so they never upcast a float32 tensor);
    arrays and lists become constant tensors; an integer tensor meeting a float tensor is cast
    to the float dtype (PyTorch's rule; NumPy would pick float64). Shapes are not checked
    here: NumPy checks them in the forward, and ``_binary`` turns its error into ours."""
    if isinstance(a, Tensor):  # the common cases, decided without further checks
        tb = type(b)
        if tb is float:
            if a._data.dtype.kind == "f":
                return a, b
        elif isinstance(b, Tensor) and a._data.dtype == b._data.dtype:
            return a, b
    if not isinstance(a, Tensor) and not isinstance(a, _scalar_types):
        a = Tensor(a)
    if not isinstance(b, Tensor) and not isinstance(b, _scalar_types):
        b = Tensor(b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        da, db = a._data.dtype, b._data.dtype
        if da != db:
            fa, fb = da.kind in "fc", db.kind in "fc"
            if fa and not fb and db.kind != "b":  # NumPy keeps float op bool in the float dtype
                b = ew.Cast.apply(b, da)
            elif fb and not fa and da.kind != "b":
                a = ew.Cast.apply(a, db)
    elif isinstance(a, _scalar_types):
        b, a = _with_scalar(b, a)
    elif isinstance(b, _scalar_types):
        a, b = _with_scalar(a, b)
    return a, b


def _with_scalar(t, s):
    """A tensor meeting a Python scalar: an integer tensor meeting a float becomes the default
    float dtype (PyTorch's rule), and NumPy scalars are unwrapped so they stay weak."""
    if isinstance(s, (np.number, np.bool_)):
        s = s.item()
    if isinstance(s, float) and t._data.dtype.kind in "iub":
        t = ew.Cast.apply(t, get_default_dtype())
    return t, s


def _binary(fn: type[Function], op: str, a, b) -> Tensor:
    a, b = _operands(a, b)
    try:
        return fn.apply(a, b)
    except ValueError:
        shapes = [x._data.shape for x in (a, b) if isinstance(x, Tensor)]
        broadcast_shapes(op, *shapes)  # raises the clear error if that was the problem
        raise


def add(a, b): return _binary(ew.Add, "add", a, b)
def sub(a, b): return _binary(ew.Sub, "sub", a, b)
def mul(a, b): return _binary(ew.Mul, "mul", a, b)
def div(a, b): return _binary(ew.Div, "div", a, b)
def pow(a, b): return _binary(ew.Pow, "pow", a, b)  # noqa: A001
def maximum(a, b): return _binary(ew.Maximum, "maximum", a, b)
def minimum(a, b): return _binary(ew.Minimum, "minimum", a, b)


def neg(x): return ew.Neg.apply(x)
def exp(x): return ew.Exp.apply(x)
def log(x): return ew.Log.apply(x)
def sqrt(x): return ew.Sqrt.apply(x)
def sin(x): return ew.Sin.apply(x)
def cos(x): return ew.Cos.apply(x)
def tanh(x): return ew.Tanh.apply(x)
def sigmoid(x): return ew.Sigmoid.apply(x)
def relu(x): return ew.Relu.apply(x)
def abs(x): return ew.Abs.apply(x)  # noqa: A001
def erf(x): return ew.Erf.apply(x)
def clone(x): return ew.Clone.apply(x)


def clip(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    min = min.item() if isinstance(min, Tensor) else min
    max = max.item() if isinstance(max, Tensor) else max
    return ew.Clip.apply(x, min, max)


clamp = clip


def cast(x, dtype):
    dtype = np.dtype(dtype)
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
    operands = (np.shape(v._data if isinstance(v, Tensor) else v) for v in (a, b))
    broadcast_shapes("where", c.shape, *operands)  # a clear error before NumPy's
    return Where.apply(c, a, b)


def _axes(x: Tensor, axis, op: str):
    return normalize_axis(axis, x.ndim, op)


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
    axes = normalize_axis(axis, x.ndim, "var")
    return x._data.size if axes is None else prod(x.shape[a] for a in axes)


def var(x, axis=None, correction=1, keepdims=False):
    """Variance with PyTorch's default Bessel correction (``correction=1``, unbiased)."""
    centred = x - mean(x, axis, keepdims=True)
    n = _count(x, axis)
    return sum(centred * centred, axis, keepdims) / builtins.max(n - correction, 0)


def std(x, axis=None, correction=1, keepdims=False):
    return ew.Sqrt.apply(var(x, axis, correction, keepdims))


def _shift(x: Tensor, axis, op: str = "logsumexp") -> Tensor:
    """A constant (detached) max for stability; non-finite maxima are replaced by 0."""
    m = np.max(x._data, axis=normalize_axis(axis, x.ndim, op), keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return Tensor._wrap(m)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))): finite at logits of +-1e4."""
    m = _shift(x, axis)
    out = ew.Log.apply(sum(ew.Exp.apply(x - m), axis, keepdims=True)) + m
    if not keepdims:
        axes = normalize_axis(axis, x.ndim, "logsumexp")
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
    return LogSoftmax.apply(x, axes=normalize_axis(axis, x.ndim, "log_softmax"))


def matmul(a, b):
    """``a @ b`` with NumPy's rules; a clear error names both shapes when they do not fit."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: {a.shape} @ {b.shape}: both operands need at least one dimension "
            "(use * for scalars)"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_a} and {k_b} differ "
            "(the last dim of the left operand must equal the second-to-last of the right; "
            "transpose one of them?)"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and "
                f"{b.shape[:-2]} cannot be broadcast together"
            ) from None
    if a.dtype != b.dtype:
        a, b = _promote(a, b)
    return MatMul.apply(a, b)


def _promote(*tensors: Tensor) -> tuple:
    """The tensors cast to one dtype: NumPy's result type, except that floats meeting integers
    keep the floats' dtype (PyTorch's rule)."""
    dtypes = [t.dtype for t in tensors]
    dt = np.result_type(*([d for d in dtypes if d.kind in "fc"] or dtypes))
    return tuple(t if t.dtype == dt else Cast.apply(t, dt) for t in tensors)
