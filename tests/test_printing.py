"""How tensors, shapes and dtypes print and format, as in PyTorch (with ``tg.`` for ``torch.``).

The expected strings are PyTorch's documented formats, written out by hand; NumPy checks
that the dtype objects still behave as NumPy dtypes.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tinygrad_edu as tg

# -- dtypes ------------------------------------------------------------------------------------
DTYPES = {
    "float16": (tg.float16, np.float16),
    "float32": (tg.float32, np.float32),
    "float64": (tg.float64, np.float64),
    "int8": (tg.int8, np.int8),
    "int16": (tg.int16, np.int16),
    "int32": (tg.int32, np.int32),
    "int64": (tg.int64, np.int64),
    "uint8": (tg.uint8, np.uint8),
    "bool": (tg.bool, np.bool_),
}


@pytest.mark.parametrize("name", DTYPES)
def test_dtypes_print_by_name_and_stand_in_for_numpys(name) -> None:
    d, np_type = DTYPES[name]
    assert repr(d) == str(d) == f"tg.{name}"
    assert d == np_type and d == np.dtype(np_type) and np.dtype(np_type) == d and d == name
    assert hash(d) == hash(np.dtype(np_type)) and {np.dtype(np_type): 1}[d] == 1
    assert np.dtype(d) == np.dtype(np_type) and np.zeros(2, dtype=d).dtype == np_type
    assert np.ones(2).astype(d).dtype == np_type
    assert d.kind == np.dtype(np_type).kind and d.itemsize == np.dtype(np_type).itemsize
    assert d.is_floating_point == (name.startswith("float"))
    t = tg.zeros(2, dtype=d)
    assert t.dtype is d and t.dtype == d and t.numpy().dtype == np_type
    assert pickle.loads(pickle.dumps(d)) is d


def test_dtype_aliases_and_comparisons() -> None:
    assert tg.float is tg.float32 and tg.double is tg.float64 and tg.long is tg.int64
    assert tg.int is tg.int32 and tg.half is tg.float16
    assert tg.float32 != tg.float64 and tg.float32 != np.float64 and tg.float64 != None  # noqa: E711
    assert tg.tensor([1, 2]).dtype == tg.int64 and tg.tensor([1.5]).dtype == tg.float32
    assert tg.get_default_dtype() is tg.float32
    assert np.issubdtype(tg.float32, np.floating) and np.result_type(tg.int8, tg.int16) == np.int16
