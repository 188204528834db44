"""Elementwise primitives. Each backward returns gradients in the output's (broadcast) shape;
the replay sums them down to each input's shape. Backward formulas use Tensor ops, so they
are recorded when ``create_graph=True``. Masks of kinks (relu, abs, max) are constants: their
derivative is zero almost everywhere. Where a mask routes the gradient (relu, clip, maximum),
backward *selects* (``masked_grad``), as PyTorch does: an infinite incoming gradient then
gives 0 where the mask is off, where multiplying by the mask would give 0 · inf = NaN."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..function import Function
from ..tensor import Tensor
from ..tensor_methods import _raw

_wrap = Tensor._wrap


class Add(Function):
    """y = a + b;  da = grad,  db = grad"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def forward_(ctx, a, b):  # a += b
        np.add(a, b, out=a, casting="same_kind")

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (grad if na else None), (grad if nb else None)


class Sub(Function):
    """y = a - b;  da = grad,  db = -grad"""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def forward_(ctx, a, b):  # a -= b
        np.subtract(a, b, out=a, casting="same_kind")

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (grad if na else None), (-grad if nb else None)


class Mul(Function):
    """y = a * b;  da = grad * b,  db = grad * a"""

    @staticmethod
    def forward(ctx, a, b):
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)  # only what backward reads
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (grad * b if na else None), (grad * a if nb else None)


class Div(Function):
    """y = a / b;  da = grad / b,  db = -grad * y / b"""

    @staticmethod
    def forward(ctx, a, b):
        y = a / b
        # y only when db is wanted; saved, so an in-place change of y before backward raises
        # instead of giving a wrong db
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(b, y)
        else:
            ctx.save_for_backward(b)
        return y

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors  # (b,) or (b, y)
        b = saved[0]
        na, nb = ctx.needs_input_grad
        ga = grad / b if na else None
        gb = -(grad * saved[1]) / b if nb else None
        return ga, gb


class Neg(Function):
    """y = -x;  dx = -grad"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """y = a ** b;  da = grad * b * a**(b-1),  db = grad * y * log(a);  at the limits, as in
    PyTorch: da = 0 where a == b == 0 (or b is a constant 0), db = 0 where a == 0 and b >= 0"""

    @staticmethod
    def forward(ctx, a, b):
        y = _power(a, b)
        # y only when db is wanted (saved, as in Div, so it is version-checked)
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, b, y)
        else:
            ctx.save_for_backward(a, b)
        return y

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors  # (a, b) or (a, b, y)
        a, b = saved[0], saved[1]
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            if isinstance(b, Tensor):  # 0 * 0**-1 is NaN: the limit at a = b = 0 is 0
                ga = Where.apply((a._data == 0) & (b._data == 0), 0.0, grad * b * a ** (b - 1.0))
            elif b == 0:  # a constant 1: no slope even at a = 0, where 0 * 0**-1 is NaN
                ga = _wrap(np.zeros_like(grad._data))
            else:
                ga = grad * a * 2.0 if b == 2 else grad * b * a ** (b - 1)
        if nb:
            flat = (_raw(a) == 0) & (b._data >= 0)  # 0**b is constant (0, or 1 at b = 0) there
            if isinstance(a, Tensor):  # log of 1 where flat: no 0 * log(0) in any derivative
                log_a = Log.apply(Where.apply(flat, 1.0, a))
            else:  # a Python scalar base
                log_a = math.log(a) if a > 0 else -math.inf if a == 0 else math.nan
            gb = Where.apply(flat, 0.0, grad * saved[2] * log_a)
        return ga, gb


def _power(a, b):
    """a ** b, by repeated multiplication for an integer exponent 2 <= |b| <= 4 (as PyTorch
    does): NumPy's pow takes a path hundreds of times slower for negative bases."""
    if type(b) in (int, float) and abs(b) in (2, 3, 4) and a.dtype.kind == "f":
        y = a * a
        for _ in range(int(abs(b)) - 2):
            y = y * a
        return 1 / y if b < 0 else y
    return a**b


class Exp(Function):
    """y = exp(x);  dx = grad * y"""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = log(x);  dx = grad / x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = sqrt(x);  dx = grad / (2 y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (y * 2.0)


class Sin(Function):
    """y = sin(x);  dx = grad * cos(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Cos.apply(x)


class Cos(Function):
    """y = cos(x);  dx = -grad * sin(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -(grad * Sin.apply(x))


class Tanh(Function):
    """y = tanh(x);  dx = grad * (1 - y²)   (np.tanh saturates quietly at +-1000)"""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dx = grad * y (1 - y)   (scipy's expit: no overflow warning)"""

    @staticmethod
    def forward(ctx, x):
        y = special.expit(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y * (1.0 - y))


class Relu(Function):
    """y = max(x, 0);  dx = grad, or 0 where x <= 0   (relu'(0) = 0; NaN passes grad: PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def forward_(ctx, x):
        """In place (``relu_``): saves the output, whose mask y > 0 is x > 0."""
        np.maximum(x, 0, out=x)
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors  # the input, or (in place) the output: the same mask
        return masked_grad(grad, ~(x._data <= 0))


class Abs(Function):
    """y = |x|;  dx = grad * sign(x)   (abs'(0) = 0, and 0 at NaN, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        sign = np.sign(x._data)
        return grad * _wrap(np.where(np.isnan(sign), 0, sign))


class Erf(Function):
    """y = erf(x);  dx = grad * 2/sqrt(pi) * exp(-x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (Exp.apply(-(x * x)) * (2.0 / math.sqrt(math.pi)))


class Maximum(Function):
    """y = max(a, b);  da = grad where a > b,  db = grad where a < b,  half to each on ties
    (and all to each where one is NaN, as in PyTorch)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = (_raw(v) for v in ctx.saved_tensors)
        na, nb = ctx.needs_input_grad
        ga = masked_grad(grad, _share(a < b, a == b, grad.dtype)) if na else None
        gb = masked_grad(grad, _share(b < a, a == b, grad.dtype)) if nb else None
        return ga, gb


class Minimum(Function):
    """y = min(a, b);  da = grad where a < b,  db = grad where a > b,  half to each on ties
    (and all to each where one is NaN, as in PyTorch)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = (_raw(v) for v in ctx.saved_tensors)
        na, nb = ctx.needs_input_grad
        ga = masked_grad(grad, _share(a > b, a == b, grad.dtype)) if na else None
        gb = masked_grad(grad, _share(b > a, a == b, grad.dtype)) if nb else None
        return ga, gb


def _share(loses: np.ndarray, ties: np.ndarray, dtype) -> np.ndarray:
    """An input's share of max/min's gradient: none where it loses, half on a tie, else all."""
    return ((1.0 - 0.5 * ties) * ~loses).astype(dtype)


class Where(Function):
    """y = a where cond else b;  da = grad where cond else 0,  db = grad where not cond"""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)  # version-checked when cond is a tensor (a mask changed
        return np.where(cond, a, b)  # in place before backward raises, never misroutes)

    @staticmethod
    def backward(ctx, grad):
        cond = _raw(ctx.saved_tensors[0])  # (a NumPy bool when it is 0-d)
        _, na, nb = ctx.needs_input_grad
        ga = Where.apply(cond, grad, 0.0) if na else None
        gb = Where.apply(cond, 0.0, grad) if nb else None
        return None, ga, gb


class Clip(Function):
    """y = min(max(x, lo), hi);  dx = grad where lo <= x <= hi, else 0"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]._data
        inside = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return masked_grad(grad, inside), None, None


def masked_grad(grad: Tensor, share: np.ndarray) -> Tensor:
    """grad · share for a constant share (a mask, or max's 0, ½, 1), exactly 0 where the share
    is 0 even when grad is inf or NaN there: selected then, as in PyTorch. While grad is
    finite the product is the same, and a multiply is much faster than np.where on a mask
    with no pattern (a relu's)."""
    product = Mul.apply(grad, _wrap(np.asarray(share)))
    if np.isfinite(grad._data).all():
        return product
    return Where.apply(share == 0, 0.0, product)


class Cast(Function):
    """y = x as dtype;  dx = grad as x's dtype"""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return Cast.apply(grad, ctx.in_dtype), None


class Clone(Function):
    """y = copy of x;  dx = grad"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Remainder(Function):
    """y = a mod b (the sign of b, as Python's %);  da = grad,  db = -grad * floor(a / b)

    A primitive, not a - floor(a / b) * b: NumPy's mod is exact where that composite rounds.
    """

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, b)
        return np.mod(a, b)

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        gb = None
        if nb:
            a, b = ctx.saved_tensors
            gb = -(grad * _wrap(np.floor_divide(_raw(a), _raw(b))))  # floor's derivative is 0
        return (grad if na else None), gb


class PiecewiseConstant(Function):
    """y = fn(x) or fn(a, b) for a step function fn (floor, ceil, round, trunc, sign, a // b);
    d(each input) = 0. Recorded all the same, as in PyTorch: y requires grad, its gradient is 0."""

    @staticmethod
    def forward(ctx, *args, fn, **kwargs):
        return fn(*args, **kwargs)

    @staticmethod
    def backward(ctx, grad):
        zero = _wrap(np.zeros_like(grad._data))  # not grad * 0, which is nan where grad is inf
        return tuple(zero if needed else None for needed in ctx.needs_input_grad)
