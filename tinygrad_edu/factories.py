"""Tensor factories (zeros, ones, rand, ...), drawing randomness from the one seedable
generator (``tg.manual_seed``). Float factories default to float32, as in PyTorch."""

from __future__ import annotations

import numpy as np

from ._random import default_generator
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
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.data.dtype == as_numpy(dtype)):
        return data
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
    return t.data.dtype if dtype is None else as_numpy(dtype)


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


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform on [0, 1)."""
    g = generator or default_generator()
    return _make(g.random(_shape(size)).astype(_float(dtype)), requires_grad, "rand", device)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal."""
    g = generator or default_generator()
    arr = g.standard_normal(_shape(size)).astype(_float(dtype))
    return _make(arr, requires_grad, "randn", device)


def randint(low, high=None, size=(), dtype=None, device=None, generator=None) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` also works, as in torch)."""
    if high is None:
        low, high = 0, low
    g = generator or default_generator()
    dt = as_numpy(np.int64 if dtype is None else dtype)
    return _make(g.integers(low, high, size=_shape((size,))).astype(dt), False, "randint", device)


def randperm(n, dtype=None, device=None, generator=None) -> Tensor:
    g = generator or default_generator()
    dt = as_numpy(np.int64 if dtype is None else dtype)
    return _make(g.permutation(int(n)).astype(dt), False, "randperm", device)


def rand_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device, "rand_like")
    return rand(*t.shape, dtype=_like(t, dtype), device=device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device, "randn_like")
    return randn(*t.shape, dtype=_like(t, dtype), device=device, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, device=None) -> Tensor:
    check_device(device, "randint_like")
    return randint(low, high, t.shape, dtype=_like(t, dtype), device=device)


# -- PyTorch's legacy typed constructors: tg.FloatTensor([1, 2]), tg.LongTensor(3) -----------
class _LegacyType(type):
    """``isinstance(x, tg.FloatTensor)`` is True for float32 tensors, as in PyTorch."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.data.dtype == cls.dtype.dtype


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
