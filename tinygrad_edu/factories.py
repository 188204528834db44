"""Tensor factories (zeros, ones, rand, ...), drawing randomness from the one seedable
generator (``tg.manual_seed``). Float factories default to float32, as in PyTorch."""

from __future__ import annotations

import numpy as np

from ._random import default_generator
from .dtypes import get_default_dtype
from .tensor import Tensor, _check_can_require_grad


def _shape(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"factory: negative dimension in size {shape}")
    return shape


def _make(arr: np.ndarray, requires_grad: bool, where: str) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        _check_can_require_grad(arr.dtype, where)
        t.requires_grad = True
    return t


def _float(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor from a list, array, scalar or tensor (always a copy).

    Python floats become float32 (the default dtype); NumPy arrays keep their dtype; integers
    become int64. Only floating-point tensors can require grad.

    >>> import tinygrad_edu as tg
    >>> tg.tensor([[1, 2], [3, 4.5]]).dtype
    dtype('float32')
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can (a tensor, or an array, of the asked
    dtype), as ``torch.as_tensor`` does; otherwise a copy."""
    same = dtype is None or np.dtype(dtype) == getattr(data, "dtype", None)
    if isinstance(data, Tensor) and same:
        return data
    if isinstance(data, np.ndarray) and same:
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """Wrap an array without copying (shares memory, like ``torch.from_numpy``)."""
    return Tensor._wrap(np.asarray(arr))


def zeros(*size, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(_shape(size), _float(dtype)), requires_grad, "zeros")


def ones(*size, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.ones(_shape(size), _float(dtype)), requires_grad, "ones")


def empty(*size, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.empty(_shape(size), _float(dtype)), requires_grad, "empty")


def full(size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = (
            np.bool_ if isinstance(fill_value, bool)
            else np.int64 if isinstance(fill_value, int) else get_default_dtype()
        )
    return _make(np.full(_shape((size,)), fill_value, np.dtype(dtype)), requires_grad, "full")


def _like(t, dtype):
    return t.dtype if dtype is None else np.dtype(dtype)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(t.shape, _like(t, dtype)), requires_grad, "zeros_like")


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.ones(t.shape, _like(t, dtype)), requires_grad, "ones_like")


def empty_like(t, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.empty(t.shape, _like(t, dtype)), requires_grad, "empty_like")


def full_like(t, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.full(t.shape, fill_value, _like(t, dtype)), requires_grad, "full_like")


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Like ``torch.arange``: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else get_default_dtype()
    return _make(np.arange(start, end, step, dtype=np.dtype(dtype)), requires_grad, "arange")


def linspace(start, end, steps, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.linspace(start, end, int(steps), dtype=_float(dtype)), requires_grad, "linspace")


def eye(n, m=None, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad, "eye")


def rand(*size, dtype=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform on [0, 1)."""
    g = generator or default_generator()
    return _make(g.random(_shape(size)).astype(_float(dtype)), requires_grad, "rand")


def randn(*size, dtype=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal."""
    g = generator or default_generator()
    return _make(g.standard_normal(_shape(size)).astype(_float(dtype)), requires_grad, "randn")


def randint(low, high=None, size=(), dtype=None, generator=None) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` also works, as in torch)."""
    if high is None:
        low, high = 0, low
    g = generator or default_generator()
    dt = np.dtype(np.int64 if dtype is None else dtype)
    return Tensor._wrap(g.integers(low, high, size=_shape((size,))).astype(dt))


def randperm(n, dtype=None, generator=None) -> Tensor:
    g = generator or default_generator()
    return Tensor._wrap(g.permutation(int(n)).astype(np.dtype(np.int64 if dtype is None else dtype)))


def rand_like(t, dtype=None, requires_grad=False) -> Tensor:
    return rand(*t.shape, dtype=_like(t, dtype), requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False) -> Tensor:
    return randn(*t.shape, dtype=_like(t, dtype), requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None) -> Tensor:
    return randint(low, high, t.shape, dtype=_like(t, dtype))
