"""Tensor factories (zeros, ones, rand, ...). The random ones draw from ``generator=`` (a
``tg.Generator``) or else the default generator (``tg.manual_seed``). Float factories default
to float32, as in PyTorch."""

from __future__ import annotations

import operator

import numpy as np

from ._random import numpy_generator
from .device import check_device
from .dtypes import as_numpy, bool_, float16, float32, float64, get_default_dtype, int64, uint8
from .tensor import Tensor, _check_can_require_grad, _to_array


def _shape(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"factory: negative dimension in size {shape}")
    return shape


def _make(arr: np.ndarray, requires_grad: bool, where: str, device=None) -> Tensor:
    check_device(device, where)
    t = Tensor._wrap(arr)
    if requires_grad:
        _check_can_require_grad(arr.dtype, where)
        t.requires_grad = True
    return t


def _float(dtype):
    return as_numpy(get_default_dtype() if dtype is None else dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor from a list, array, scalar or tensor (always a copy).

    Python floats become float32 (the default dtype); NumPy arrays keep their dtype; integers
    become int64. Only floating-point tensors can require grad.

    >>> import tinygrad_edu as tg
    >>> tg.tensor([[1, 2], [3, 4.5]]).dtype
    tg.float32
    """
    return _make(_to_array(data, dtype), requires_grad, "tensor", device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can (a tensor, or an array, of the asked
    dtype), as ``torch.as_tensor`` does; otherwise a copy."""
    check_device(device, "as_tensor")
    have = data._data.dtype if isinstance(data, Tensor) else getattr(data, "dtype", None)
    same = dtype is None or as_numpy(dtype) == have
    if isinstance(data, Tensor) and same:
        return data
    if isinstance(data, np.ndarray) and same:
        return from_numpy(data)
    return Tensor._wrap(_to_array(data, dtype))


def from_numpy(arr: np.ndarray) -> Tensor:
    """Wrap an array without copying (shares memory, like ``torch.from_numpy``)."""
    return Tensor._wrap(np.asarray(arr))


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(_shape(size), _float(dtype)), requires_grad, "zeros", device)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.ones(_shape(size), _float(dtype)), requires_grad, "ones", device)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.empty(_shape(size), _float(dtype)), requires_grad, "empty", device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = (
            np.bool_ if isinstance(fill_value, bool)
            else np.int64 if isinstance(fill_value, int) else get_default_dtype()
        )
    arr = np.full(_shape((size,)), fill_value, as_numpy(dtype))
    return _make(arr, requires_grad, "full", device)


def _like(t, dtype):
    return t._data.dtype if dtype is None else as_numpy(dtype)


def zeros_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(t.shape, _like(t, dtype)), requires_grad, "zeros_like", device)


def ones_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.ones(t.shape, _like(t, dtype)), requires_grad, "ones_like", device)


def empty_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.empty(t.shape, _like(t, dtype)), requires_grad, "empty_like", device)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = np.full(t.shape, fill_value, _like(t, dtype))
    return _make(arr, requires_grad, "full_like", device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else get_default_dtype()
    arr = np.arange(start, end, step, dtype=as_numpy(dtype))
    return _make(arr, requires_grad, "arange", device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = np.linspace(start, end, int(steps), dtype=_float(dtype))
    return _make(arr, requires_grad, "linspace", device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad, "eye", device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    g = numpy_generator(generator, "rand")
    return _make(g.random(_shape(size)).astype(_float(dtype)), requires_grad, "rand", device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    g = numpy_generator(generator, "randn")
    return _make(g.standard_normal(_shape(size)).astype(_float(dtype)), requires_grad, "randn", device)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` draws from [0, high), as in torch."""
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)) and size == ():
        low, high, size = 0, low, high
    if low >= high:
        raise ValueError(f"randint: expects low < high, got low={low} >= high={high}")
    g = numpy_generator(generator, "randint")
    dt = as_numpy(np.int64 if dtype is None else dtype)
    return _make(g.integers(low, high, size=_shape((size,))).astype(dt), False, "randint", device)


def randperm(n, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0, ..., n - 1."""
    g = numpy_generator(generator, "randperm")
    dt = as_numpy(np.int64 if dtype is None else dtype)
    return _make(g.permutation(int(n)).astype(dt), False, "randperm", device)


def rand_like(t, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device, "rand_like")
    return rand(*t.shape, generator=generator, dtype=_like(t, dtype), device=device,
                requires_grad=requires_grad)


def randn_like(t, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device, "randn_like")
    return randn(*t.shape, generator=generator, dtype=_like(t, dtype), device=device,
                 requires_grad=requires_grad)


def randint_like(t, low, high=None, *, generator=None, dtype=None, device=None) -> Tensor:
    check_device(device, "randint_like")
    return randint(low, high, t.shape, generator=generator, dtype=_like(t, dtype), device=device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples with the given mean and standard deviation, as ``torch.normal``: either
    may be a tensor (the result has their broadcast shape and float dtype), or both are numbers
    and ``size`` gives the shape. The result carries no gradient to ``mean`` or ``std``."""
    m, s = (x._data if isinstance(x, Tensor) else np.asarray(x) for x in (mean, std))
    tensors = [x._data for x in (mean, std) if isinstance(x, Tensor)]
    if size is None and not tensors:
        raise TypeError("normal: with a number for both mean and std, give size= too")
    if (s < 0).any():
        raise ValueError(f"normal: expects std >= 0, got {s.min()}")
    if dtype is None:
        floats = [a.dtype for a in tensors if a.dtype.kind == "f"]
        dtype = np.result_type(*floats) if floats else get_default_dtype().dtype
    shape = _shape((size,)) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    g = numpy_generator(generator, "normal")
    return _make(g.normal(m, s, shape).astype(dtype), requires_grad, "normal", device)


def bernoulli(input, p=None, *, generator=None, device=None) -> Tensor:
    """1 with probability ``input`` (or ``p`` everywhere), else 0, in ``input``'s dtype."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    probs = np.asarray(input._data if p is None else p, dtype=np.float64)
    if ((probs < 0) | (probs > 1) | np.isnan(probs)).any():
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    g = numpy_generator(generator, "bernoulli")
    draws = g.random(input.shape) < probs
    return _make(draws.astype(input._data.dtype), False, "bernoulli", device)


def multinomial(input, num_samples, replacement=False, *, generator=None, device=None) -> Tensor:
    """Category indices drawn from weighted categories, as ``torch.multinomial``.

    ``input`` holds non-negative weights (they need not sum to 1), ``(C,)`` for one
    distribution or ``(N, C)`` for one per row; the result is int64 of shape
    ``(num_samples,)`` or ``(N, num_samples)``. Without replacement each row's indices are
    distinct, drawn one after another in proportion to the weights not yet drawn.

    >>> import tinygrad_edu as tg
    >>> tg.multinomial(tg.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    w = input._data if isinstance(input, Tensor) else np.asarray(input)
    n = operator.index(num_samples)
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ValueError(
            f"multinomial: input must be 1-D or 2-D weights, (C,) or (N, C), got shape {w.shape}"
        )
    if w.dtype.kind != "f":
        raise TypeError(
            f"multinomial: weights must be floating point, got {w.dtype}; call .float() first"
        )
    rows = np.atleast_2d(w).astype(np.float64)
    if n <= 0:
        raise ValueError(f"multinomial: cannot sample num_samples={n} <= 0 samples")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: weights contain inf, nan or an element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: invalid distribution, a row of weights sums to 0")
    fewest = int((rows > 0).sum(axis=1).min(initial=w.shape[-1]))
    if not replacement and n > fewest:
        raise ValueError(
            f"multinomial: cannot draw {n} samples without replacement from a row with only "
            f"{fewest} non-zero weights (of {w.shape[-1]}); pass replacement=True or draw fewer"
        )
    g = numpy_generator(generator, "multinomial")
    out = [g.choice(len(r), n, replace=replacement, p=r / r.sum()) for r in rows]
    return _make(np.array(out, dtype=np.int64).reshape(w.shape[:-1] + (n,)), False, "multinomial", device)


# -- PyTorch's legacy typed constructors: tg.FloatTensor([1, 2]), tg.LongTensor(3) -----------
class _LegacyType(type):
    """``isinstance(x, tg.FloatTensor)`` is True for float32 tensors, as in PyTorch."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.dtype


class _LegacyTensor(metaclass=_LegacyType):
    """``Tensor(*args)`` (data, or sizes for an uninitialised tensor) of one fixed dtype."""

    dtype = float32

    def __new__(cls, *args, device=None) -> Tensor:
        check_device(device, cls.__name__)
        return Tensor(*args, dtype=cls.dtype)


class FloatTensor(_LegacyTensor):
    dtype = float32


class DoubleTensor(_LegacyTensor):
    dtype = float64


class HalfTensor(_LegacyTensor):
    dtype = float16


class LongTensor(_LegacyTensor):
    dtype = int64


class BoolTensor(_LegacyTensor):
    dtype = bool_


class ByteTensor(_LegacyTensor):
    dtype = uint8
