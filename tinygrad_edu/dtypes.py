"""Dtypes by their PyTorch names, the default float dtype (float32, as in PyTorch), and
PyTorch's type promotion: the one rule every op uses to pick the dtype of its result."""

from __future__ import annotations

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_default_float = float32


def set_default_dtype(dtype) -> None:
    """Set the float dtype used for Python floats and lists (float32 unless changed)."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_float = dtype


def get_default_dtype() -> np.dtype:
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
            tier, dtype = (1 if x.ndim == 0 else 0), x.dtype
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
        return bool_
    if isinstance(x, (int, np.integer)):
        return int64
    if isinstance(x, (float, np.floating)):
        return _default_float
    return np.asarray(x).dtype  # complex: not a category this engine computes in


def data_float_dtype(data) -> np.dtype:
    """The float dtype ``torch.tensor`` gives nested lists of numbers: the promotion of its
    float elements' dtypes, where a Python float counts as the default dtype and NumPy
    scalars, arrays and tensors keep theirs (``[np.float64(1.0)]`` is float64)."""
    found = _float_in(data)
    return _default_float if found is None else found


def _float_in(data) -> np.dtype | None:
    if isinstance(data, (list, tuple)):
        types = set(map(type, data))
        found = _default_float if float in types else None
        if types <= {float, int, bool}:
            return found
        for item in data:
            if type(item) not in (float, int, bool):
                dtype = _float_in(item)
                if dtype is not None:
                    found = dtype if found is None else promote_types(found, dtype)
        return found
    dtype = getattr(data, "dtype", None)  # a NumPy scalar, an array, a tensor
    return dtype if dtype is not None and dtype.kind == "f" else None
