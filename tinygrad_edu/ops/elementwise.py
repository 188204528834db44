"""Elementwise primitives. Each backward returns gradients in the output's (broadcast) shape;
the replay sums them down to each input's shape. Backward formulas use Tensor ops, so they
are recorded when ``create_graph=True``. Masks of kinks (relu, abs, max) are constants: their
derivative is zero almost everywhere."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .._shapes import broadcast_shapes
from ..function import Function
from ..tape import _state
from ..tensor import Tensor

_wrap = Tensor._wrap


class Add(Function):
    """y = a + b;  da = grad,  db = grad"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

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
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (grad if na else None), (-grad if nb else None)


class Mul(Function):
    """y = a * b;  da = grad * b,  db = grad * a"""

    fresh_grads = True  # new gradients, or grad itself (Function.fresh_grads)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        if not _state.grad_enabled:  # a plain backward: the same products on the arrays
            g = grad.data  # (no engine op: its Python costs more than a small product)
            return (
                _wrap(np.asarray(g * (b.data if isinstance(b, Tensor) else b))) if na else None,
                _wrap(np.asarray(g * (a.data if isinstance(a, Tensor) else a))) if nb else None,
            )
        return (grad * b if na else None), (grad * a if nb else None)


class Div(Function):
    """y = a / b;  da = grad / b,  db = -grad * y / b"""

    @staticmethod
    def forward(ctx, a, b):
        y = a / b
        # y only when db is wanted: saved, so an in-place change of y before backward raises
        # instead of giving a wrong db (ctx.output alone is not version-checked)
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
        # y only when db is wanted (as Div: saved, so it is version-checked)
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
                safe_log = where(a.data == 0, 0.0, log(where(a.data == 0, 1.0, a)))
                gb = grad * saved[2] * safe_log
            else:  # a Python scalar base
                gb = grad * saved[2] * (math.log(a) if a > 0 else float("nan"))
        return ga, gb


class Exp(Function):
    """y = exp(x);  dx = grad * y"""

    fresh_grads = True  # new gradients (Function.fresh_grads)

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if not _state.grad_enabled:  # a plain backward: the product on the arrays
            return _wrap(np.asarray(grad.data * y.data))
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
        return grad * cos(x)


class Cos(Function):
    """y = cos(x);  dx = -grad * sin(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -(grad * sin(x))


class Tanh(Function):
    """y = tanh(x);  dx = grad * (1 - y²)   (np.tanh saturates quietly at +-1000)"""

    fresh_grads = True  # new gradients (Function.fresh_grads)

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if not _state.grad_enabled:  # a plain backward: the formula on the arrays (three
            yd = y.data  # engine ops cost more than the arithmetic on small arrays)
            return _wrap(np.asarray(grad.data * (1.0 - yd * yd)))
        return grad * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dx = grad * y (1 - y)   (scipy's expit: no overflow warning)"""

    fresh_grads = True  # new gradients (Function.fresh_grads)

    @staticmethod
    def forward(ctx, x):
        y = special.expit(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if not _state.grad_enabled:  # a plain backward: the formula on the arrays
            yd = y.data
            return _wrap(np.asarray(grad.data * (yd * (1.0 - yd))))
        return grad * (y * (1.0 - y))


class Relu(Function):
    """y = max(x, 0);  dx = grad * [x > 0]   (relu'(0) = 0, as in PyTorch)"""

    fresh_grads = True  # new gradients, or grad itself (Function.fresh_grads)

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
        if ctx.grad_owned:  # the gradient's buffer is the replay's alone: mask it in place
            np.multiply(grad.data, x.data > 0, out=grad.data)
            return grad
        # the mask in grad's dtype: a same-type multiply is one SIMD loop (float x bool casts
        # through a buffer: 39 vs 28 us for a 128x512 float32 gradient, mask included)
        return Mul.apply(grad, _wrap((x.data > 0).astype(grad.data.dtype)))


class Abs(Function):
    """y = |x|;  dx = grad * sign(x)   (abs'(0) = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _wrap(np.sign(x.data))


class Erf(Function):
    """y = erf(x);  dx = grad * 2/sqrt(pi) * exp(-x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (exp(-(x * x)) * (2.0 / math.sqrt(math.pi)))


def _tie_share(a, b, greater: bool) -> np.ndarray:
    """1 where a wins, 0 where b wins, 1/2 on ties (so the shares sum to the gradient)."""
    a = np.asarray(a)
    win = (a > b) if greater else (a < b)
    share = win + 0.5 * (a == b)
    dtype = np.result_type(a.dtype if a.dtype.kind == "f" else np.float32)
    return share.astype(dtype, copy=False)


class Maximum(Function):
    """y = max(a, b);  da = grad * [a > b] + grad/2 * [a == b],  db = the rest"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        share = _wrap(_tie_share(a, b, greater=True))
        na, nb = ctx.needs_input_grad
        return (grad * share if na else None), (grad * (1.0 - share) if nb else None)


class Minimum(Function):
    """y = min(a, b);  da = grad * [a < b] + grad/2 * [a == b],  db = the rest"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        share = _wrap(_tie_share(a, b, greater=False))
        na, nb = ctx.needs_input_grad
        return (grad * share if na else None), (grad * (1.0 - share) if nb else None)


class Where(Function):
    """y = a where cond else b;  da = grad where cond else 0,  db = grad where not cond"""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)  # version-checked when cond is a tensor (a mask changed
        return np.where(cond, a, b)  # in place before backward raises, never misroutes)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_arrays
        _, na, nb = ctx.needs_input_grad
        zero = 0.0
        ga = Where.apply(cond, grad, zero) if na else None
        gb = Where.apply(cond, zero, grad) if nb else None
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
        (x,) = ctx.saved_arrays
        inside = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return grad * _wrap(inside), None, None


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


# -- functional forms (imported by ops/__init__) ---------------------------------------------
def exp(x): return Exp.apply(x)
def log(x): return Log.apply(x)
def sin(x): return Sin.apply(x)
def cos(x): return Cos.apply(x)


def where(cond, a, b):
    """Pick from ``a`` where ``cond`` is true, else from ``b`` (broadcasting, like np.where)."""
    if isinstance(cond, Tensor) and cond.data.dtype == np.bool_:
        c = cond  # passed as the tensor, so Where's saved mask is version-checked
    else:
        c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
        if c.dtype != np.bool_:
            c = c.astype(bool)
    operands = (np.shape(v.data if isinstance(v, Tensor) else v) for v in (a, b))
    broadcast_shapes("where", c.shape, *operands)  # a clear error before NumPy's
    return Where.apply(c, a, b)
