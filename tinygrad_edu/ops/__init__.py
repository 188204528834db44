"""The primitives (one short Function each) and the functional forms Tensor's methods call.

``PRIMITIVES`` lists every Function that carries a hand-written derivative; the test suite
fails when one of them has no test case. Everything else here is composed from them.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._shapes import broadcast_shapes
from ..function import Function
from ..tensor import Tensor
from . import composite, elementwise as ew, linalg, loss, reduce as rd, shape as sh
from .composite import log_softmax, logsumexp, softmax, std, var
from .elementwise import where
from .linalg import matmul
from .reduce import max, mean, min, sum, sum_to  # noqa: A004
from .shape import (
    broadcast_to,
    cat,
    chunk,
    expand,
    flatten,
    flip,
    getitem,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    unflatten,
    unsqueeze,
)

PRIMITIVES: dict[str, type[Function]] = {
    cls.__name__: cls
    for cls in (
        ew.Add, ew.Sub, ew.Mul, ew.Div, ew.Neg, ew.Pow, ew.Exp, ew.Log, ew.Sqrt, ew.Sin,
        ew.Cos, ew.Tanh, ew.Sigmoid, ew.Relu, ew.Abs, ew.Erf, ew.Maximum, ew.Minimum,
        ew.Where, ew.Clip, ew.Cast, ew.Clone,
        rd.Sum, rd.Mean, rd.Max, rd.Min, rd.SumTo,
        sh.Reshape, sh.Permute, sh.BroadcastTo, sh.GetItem, sh.IndexAdd, sh.Concatenate,
        sh.Pad, sh.Flip,
        linalg.MatMul, linalg.Linear,
        loss.LogSoftmax, loss.NllLoss, loss.CrossEntropy,
    )
}


def register(cls: type[Function]) -> type[Function]:
    """Add a primitive defined elsewhere (e.g. im2col) to ``PRIMITIVES``; returns it."""
    PRIMITIVES[cls.__name__] = cls
    return cls


from . import conv  # noqa: E402,F401  (registers Im2Col, Col2Im, MaxPool2d; owned by the nn helper)


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
            if a.data.dtype.kind == "f":
                return a, b
        elif isinstance(b, Tensor) and a.data.dtype == b.data.dtype:
            return a, b
    if not isinstance(a, Tensor) and not isinstance(a, _scalar_types):
        a = Tensor(a)
    if not isinstance(b, Tensor) and not isinstance(b, _scalar_types):
        b = Tensor(b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        da, db = a.data.dtype, b.data.dtype
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
    if isinstance(s, float) and t.data.dtype.kind in "iub":
        from ..tensor import get_default_dtype

        t = ew.Cast.apply(t, get_default_dtype())
    return t, s


def _binary(fn: type[Function], op: str, a, b) -> Tensor:
    a, b = _operands(a, b)
    try:
        return fn.apply(a, b)
    except ValueError:
        shapes = [x.data.shape for x in (a, b) if isinstance(x, Tensor)]
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
def relu_(x): return ew.Relu.apply_(x)  # in place (PyTorch's relu_)
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
    if x.data.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind not in "fc":
        # an integer result can carry no gradient: cut it from the graph, as torch does
        return Tensor._wrap(x.data.astype(dtype))
    return ew.Cast.apply(x, dtype)


def transpose(x, dim0, dim1):
    return swapaxes(x, dim0, dim1)
