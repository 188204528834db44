"""Dtypes by their PyTorch names, and the default float dtype (float32, as in PyTorch).

``tg.float32`` and ``x.dtype`` are ``dtype`` objects: they print as PyTorch's do
(``tg.float32``) and stand in for NumPy's dtype everywhere (``x.dtype == np.float32``,
``np.zeros(3, dtype=tg.float32)``). Inside the engine arrays keep NumPy's own dtypes;
``as_numpy`` turns either kind into NumPy's.
"""

from __future__ import annotations

import numpy as np


class dtype:
    """An element type, printed by its PyTorch name.

    ``.dtype`` is the NumPy dtype it stands for, which is how NumPy accepts it wherever a
    dtype goes; it compares and hashes equal to that dtype, and NumPy's attributes (``kind``,
    ``itemsize``, ``name``, ...) read through.

    >>> import numpy as np, tinygrad_edu as tg
    >>> tg.tensor([1.0]).dtype, tg.float32 == np.float32, np.zeros(1, tg.float64).dtype
    (tg.float32, True, dtype('float64'))
    """

    __slots__ = ("dtype",)

    def __init__(self, np_dtype: np.dtype) -> None:
        self.dtype = np_dtype

    def __repr__(self) -> str:
        return f"tg.{self.dtype.name}"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        if other is None:  # (np.dtype(None) is float64)
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __reduce__(self):
        return of, (self.dtype,)

    def __getattr__(self, name: str):
        if name == "dtype":  # not set yet (while unpickling)
            raise AttributeError(name)
        return getattr(self.dtype, name)

    @property
    def kind(self) -> str:
        return self.dtype.kind

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "ifc"


_BY_NUMPY: dict[np.dtype, dtype] = {}


def of(np_dtype) -> dtype:
    """The ``dtype`` object for a NumPy dtype (one object per dtype)."""
    d = _BY_NUMPY.get(np_dtype)
    if d is None:
        np_dtype = np.dtype(np_dtype)
        d = _BY_NUMPY.setdefault(np_dtype, dtype(np_dtype))
    return d


def as_numpy(d) -> np.dtype:
    """NumPy's dtype for a ``tg`` dtype, a NumPy dtype or type, or a name like 'float32'."""
    return d.dtype if type(d) is dtype else np.dtype(d)


float16 = of(np.float16)
float32 = of(np.float32)
float64 = of(np.float64)
int8 = of(np.int8)
int16 = of(np.int16)
int32 = of(np.int32)
int64 = of(np.int64)
uint8 = of(np.uint8)
bool_ = of(np.bool_)

# PyTorch's legacy type names (x.type(), tg.FloatTensor)
_LEGACY_NAMES = {
    float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor",
    int64: "LongTensor", int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor",
    uint8: "ByteTensor", bool_: "BoolTensor",
}


def legacy_name(np_dtype) -> str:
    """``'tg.FloatTensor'`` for float32, and so on (``x.type()``)."""
    return f"tg.{_LEGACY_NAMES.get(np_dtype, of(np_dtype).name)}"


def from_legacy(d):
    """The dtype a legacy type (``tg.LongTensor``) or its name (``'torch.LongTensor'``)
    stands for; any other dtype spelling as it is."""
    if isinstance(d, str) and d.endswith("Tensor"):
        return {name: k for k, name in _LEGACY_NAMES.items()}[d.rsplit(".", 1)[-1]]
    return d.dtype if isinstance(d, type) and hasattr(d, "dtype") else d

_default_float = float32


def set_default_dtype(d) -> None:
    """Set the float dtype used for Python floats and lists (float32 unless changed)."""
    global _default_float
    new = of(as_numpy(d))
    if new.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {new}")
    _default_float = new


def get_default_dtype() -> dtype:
    return _default_float
