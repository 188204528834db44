"""Elementwise primitives. Each backward returns gradients in the output's (broadcast) shape;
the replay sums them down to each input's shape. Backward formulas use Tensor ops, so they
are recorded when ``create_graph=True``. Masks of kinks (relu, abs, max) are constants: their
derivative is zero almost everywhere."""

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
        ctx.save_for_backward(a, b)
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
    """y = a ** b;  da = grad * b * a**(b-1),  db = grad * y * log(a)  (0 where a == 0)"""

    @staticmethod
    def forward(ctx, a, b):
        y = a**b
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
            if isinstance(b, (int, float)) and b == 2:
                ga = grad * a * 2.0
            else:
                ga = grad * b * a ** (b - 1)
        if nb:
            if isinstance(a, Tensor):
                zero = a._data == 0
                safe_log = Where.apply(zero, 0.0, Log.apply(Where.apply(zero, 1.0, a)))
                gb = grad * saved[2] * safe_log
            else:  # a Python scalar base
                gb = grad * saved[2] * (math.log(a) if a > 0 else float("nan"))
        return ga, gb


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
    """y = max(x, 0);  dx = grad * [x > 0]   (relu'(0) = 0, as in PyTorch)"""

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
        return Mul.apply(grad, _wrap(x._data > 0))


class Abs(Function):
    """y = |x|;  dx = grad * sign(x)   (abs'(0) = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _wrap(np.sign(x._data))


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
    """y = max(a, b);  da = grad where a > b,  db = grad where a < b,  half to each on ties"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _share(grad, a, b, ctx.needs_input_grad)


class Minimum(Function):
    """y = min(a, b);  da = grad where a < b,  db = grad where a > b,  half to each on ties"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _share(grad, b, a, ctx.needs_input_grad)  # a's share is where b > a


def _share(grad, p, q, needs) -> tuple:
    """(grad where p > q, grad where p < q), half to each on a tie, so the two always sum
    to the gradient."""
    pd = p._data if isinstance(p, Tensor) else np.asarray(p)
    dtype = pd.dtype if pd.dtype.kind == "f" else grad.dtype
    share = _wrap(((pd > _raw(q)) + 0.5 * (pd == _raw(q))).astype(dtype))
    return (grad * share if needs[0] else None), (grad * (1.0 - share) if needs[1] else None)


class Where(Function):
    """y = a where cond else b;  da = grad where cond else 0,  db = grad where not cond"""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)  # version-checked when cond is a tensor (a mask changed
        return np.where(cond, a, b)  # in place before backward raises, never misroutes)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        _, na, nb = ctx.needs_input_grad
        ga = Where.apply(cond._data, grad, 0.0) if na else None
        gb = Where.apply(cond._data, 0.0, grad) if nb else None
        return None, ga, gb


class Clip(Function):
    """y = min(max(x, lo), hi);  dx = grad * [lo <= x <= hi]"""

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
        return Mul.apply(grad, _wrap(inside)), None, None


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
