"""tinygrad_edu: a tape-based reverse-mode autodiff engine on NumPy, with a PyTorch-style API.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4.])

Read the engine in this order (about 450 lines):

1. ``_shapes.unbroadcast``: a broadcast gradient summed back to an input's shape.
2. ``tape.py``: ``Record`` and ``Tape`` (the computation graph is the list of records), then
   ``replay``: backprop as one loop over the records in reverse.
3. ``function.py``: ``Context`` and ``Function.apply``, the one path every op runs through.
4. The primitives ``Add``, ``Mul``, ``Exp`` (``ops/elementwise.py``), ``Sum``
   (``ops/reduce.py``) and ``MatMul`` (``ops/linalg.py``): a forward on arrays and a local
   derivative in Tensor ops each.
"""

from __future__ import annotations

import numpy as np

from . import functional, ops, viz
from ._random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ._tensor_str import Size, set_printoptions
from .device import accelerator, backends, cuda, device
from .autograd import BackwardStep, backward_steps, grad, hessian, hvp, jacobian, vjp
from .factories import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    LongTensor,
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ._dim_functions import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    split,
    squeeze,
    std,
    sum,
    swapaxes,
    swapdims,
    unsqueeze,
    var,
)
from .function import Context, Function
from .functional import (
    abs,
    add,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    cos,
    div,
    erf,
    exp,
    expand,
    flatten,
    flip,
    floor,
    floor_divide,
    log,
    log10,
    log2,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    matmul,
    maximum,
    minimum,
    mul,
    neg,
    pad,
    permute,
    pow,
    relu,
    relu_,
    remainder,
    repeat,
    reshape,
    round,
    sigmoid,
    sign,
    sin,
    sqrt,
    stack,
    sub,
    tanh,
    transpose,
    trunc,
    unflatten,
    where,
)
from .grad_mode import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .serialization import load, save
from .tape import Tape, get_tape
from .tensor import Tensor
from .dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)

# torch's dtype spellings (module attributes, so they do not shadow builtins anywhere else)
bool = bool_  # noqa: A001
half, float, double, long, int = float16, float32, float64, int64, int32  # noqa: A001
concatenate = cat
divide, multiply, subtract, negative = div, mul, sub, neg
concat = cat


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def numel(x: Tensor) -> int:
    return x.numel()


def allclose(a, b, rtol=1e-5, atol=1e-8) -> bool:
    return a.allclose(b, rtol, atol) if isinstance(a, Tensor) else Tensor(a).allclose(b, rtol, atol)


__version__ = "0.1.0"

# Subpackages load on first use (PEP 562), so `import tinygrad_edu as tg; tg.nn.Linear` works
# as with torch while the engine itself never imports nn, optim or their optional dependencies.
_SUBMODULES = {
    "nn", "optim", "utils", "datasets", "viz", "gradcheck", "testing", "autograd", "bench",
}


def __getattr__(name: str):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

