"""Dtypes by their PyTorch names, the default float dtype (float32, as in PyTorch), and
PyTorch's type promotion: the one rule every op uses to pick the dtype of its result.

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


# -- type promotion -----------------------------------------------------------------------------
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < float < complex


def category(dtype) -> int:
    """0 for bool, 1 for the integers, 2 for the floats (3 for complex)."""
    return _CATEGORY[np.dtype(dtype).kind]


def promote_types(a, b) -> np.dtype:
    """``torch.promote_types``: the higher category wins outright (float16 with int64 is
    float16); within one category, the smallest dtype that holds both (int8 with uint8 is
    int16), which is NumPy's rule there.

    >>> promote_types(float16, int64), promote_types(int8, uint8)
    (dtype('float16'), dtype('int16'))
    """
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_type(*operands) -> np.dtype:
    """``torch.result_type``: the dtype of an op's result, from its operands (tensors, arrays,
    Python or NumPy scalars).

    Operands fall into three tiers, strongest first: tensors with dimensions, 0-d tensors,
    scalars (a float scalar counts as the default dtype, an int as int64, a bool as bool).
    Within a tier, dtypes promote (``promote_types``). A weaker tier changes the result only
    when its category is higher, and then its dtype is the result: float32 tensor + 0-d
    float64 tensor is float32, int64 tensor + 2.5 is float32, int32 tensor + 0-d float64
    tensor is float64.

    >>> import numpy as np
    >>> result_type(np.ones(2, np.int64), 2.5), result_type(np.ones(2, np.float32), np.float64(1))
    (dtype('float32'), dtype('float32'))
    """
    tiers = [None, None, None]  # tensors with dimensions, 0-d tensors, scalars
    for x in operands:
        if isinstance(x, (bool, int, float, np.generic)):  # np.float64 is weak, as in torch
            tier, dtype = 2, _scalar_dtype(x)
        else:
            tier, dtype = (1 if x.ndim == 0 else 0), as_numpy(x.dtype)
        old = tiers[tier]
        tiers[tier] = dtype if old is None else promote_types(old, dtype)
    result = None
    for dtype in tiers:  # the strongest tier, unless a weaker one is of a higher category
        if dtype is not None and (result is None or _CATEGORY[dtype.kind] > _CATEGORY[result.kind]):
            result = dtype
    if result is None:
        raise TypeError("result_type: needs at least one operand")
    return result


def _scalar_dtype(x) -> np.dtype:
    if isinstance(x, (bool, np.bool_)):
        return bool_.dtype
    if isinstance(x, (int, np.integer)):
        return int64.dtype
    if isinstance(x, (float, np.floating)):
        return _default_float.dtype
    return np.asarray(x).dtype  # complex: not a category this engine computes in


def data_float_dtype(data) -> np.dtype:
    """The float dtype ``torch.tensor`` gives nested lists of numbers: the promotion of its
    float elements' dtypes, where a Python float counts as the default dtype and NumPy
    scalars, arrays and tensors keep theirs (``[np.float64(1.0)]`` is float64)."""
    found = _float_in(data)
    return _default_float.dtype if found is None else found


def _float_in(data) -> np.dtype | None:
    if isinstance(data, (list, tuple)):
        types = set(map(type, data))
        found = _default_float.dtype if float in types else None
        if types <= {float, int, bool}:
            return found
        for item in data:
            if type(item) not in (float, int, bool):
                dtype = _float_in(item)
                if dtype is not None:
                    found = dtype if found is None else promote_types(found, dtype)
        return found
    dtype = getattr(data, "dtype", None)  # a NumPy scalar, an array, a tensor
    return as_numpy(dtype) if dtype is not None and dtype.kind == "f" else None
