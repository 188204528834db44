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
    assert tg.float32 != tg.float64 and tg.float32 != np.float64
    assert tg.float64 != None  # noqa: E711  (np.dtype(None) would be float64)
    assert tg.tensor([1, 2]).dtype == tg.int64 and tg.tensor([1.5]).dtype == tg.float32
    assert tg.get_default_dtype() is tg.float32
    assert np.issubdtype(tg.float32, np.floating) and np.result_type(tg.int8, tg.int16) == np.int16


# -- repr: PyTorch's layout, case by case --------------------------------------------------------
def _grad_leaf():
    return tg.tensor([1.0, 2.0], requires_grad=True)


REPRS = {
    "floats": (lambda: tg.tensor([0.0, 0.013, 1.0]), "tensor([0.0000, 0.0130, 1.0000])"),
    "integral floats": (lambda: tg.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    "zeros": (lambda: tg.zeros(3), "tensor([0., 0., 0.])"),
    "negative zero": (lambda: tg.tensor([-0.0, 1.0]), "tensor([-0., 1.])"),
    "signs align": (lambda: tg.tensor([-0.5, 0.25]), "tensor([-0.5000,  0.2500])"),
    "ints align": (lambda: tg.tensor([-1, 2, 300]), "tensor([ -1,   2, 300])"),
    "bools align": (lambda: tg.tensor([True, False]), "tensor([ True, False])"),
    "small: sci": (
        lambda: tg.tensor([1e-5, 1.0, 2.0]),
        "tensor([1.0000e-05, 1.0000e+00, 2.0000e+00])",
    ),
    "large: sci": (lambda: tg.tensor([1e9, 1.0]), "tensor([1.0000e+09, 1.0000e+00])"),
    "wide range: sci": (lambda: tg.tensor([0.1, 12345.678]), "tensor([1.0000e-01, 1.2346e+04])"),
    "range 1000 exactly": (lambda: tg.tensor([0.002, 2.0]), "tensor([0.0020, 2.0000])"),
    "inf and nan": (
        lambda: tg.tensor([np.inf, np.nan, 1.0, -np.inf]),
        "tensor([inf, nan, 1., -inf])",
    ),
    "inf, nan, fraction": (
        lambda: tg.tensor([np.inf, np.nan, 1.5]),
        "tensor([   inf,    nan, 1.5000])",
    ),
    "0-d float": (lambda: tg.tensor(0.5), "tensor(0.5000)"),
    "0-d int": (lambda: tg.tensor(3), "tensor(3)"),
    "0-d sci": (lambda: tg.tensor(1e-6), "tensor(1.0000e-06)"),
    "0-d float64": (lambda: tg.tensor(0.5, dtype=tg.float64), "tensor(0.5000, dtype=tg.float64)"),
    "int32": (lambda: tg.tensor([1, 2], dtype=tg.int32), "tensor([1, 2], dtype=tg.int32)"),
    "float16": (
        lambda: tg.tensor([1.5, 2.0], dtype=tg.float16),
        "tensor([1.5000, 2.0000], dtype=tg.float16)",
    ),
    "empty": (lambda: tg.tensor([]), "tensor([])"),
    "empty int": (lambda: tg.tensor([], dtype=tg.int64), "tensor([], dtype=tg.int64)"),
    "empty 2-D": (lambda: tg.zeros(0, 3), "tensor([], size=(0, 3))"),
    "2-D aligns columns": (
        lambda: tg.tensor([[1.5, -2.25], [300.0, 4.0]]),
        "tensor([[  1.5000,  -2.2500],\n        [300.0000,   4.0000]])",
    ),
    "2-D ints": (
        lambda: tg.tensor([[1, -20], [300, 4]]),
        "tensor([[  1, -20],\n        [300,   4]])",
    ),
    "3-D: blank line between blocks": (
        lambda: tg.arange(12.0).reshape(2, 2, 3),
        "tensor([[[ 0.,  1.,  2.],\n         [ 3.,  4.,  5.]],\n\n"
        "        [[ 6.,  7.,  8.],\n         [ 9., 10., 11.]]])",
    ),
    "long row wraps at 80 columns": (
        lambda: tg.linspace(0, 1, 12),
        "tensor([0.0000, 0.0909, 0.1818, 0.2727, 0.3636, 0.4545, 0.5455, 0.6364, 0.7273,\n"
        "        0.8182, 0.9091, 1.0000])",
    ),
    "over 1000 elements: summarised": (
        lambda: tg.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    ),
    "summarised 2-D": (
        lambda: tg.arange(1100).reshape(100, 11),
        "tensor([[   0,    1,    2,  ...,    8,    9,   10],\n"
        "        [  11,   12,   13,  ...,   19,   20,   21],\n"
        "        [  22,   23,   24,  ...,   30,   31,   32],\n"
        "        ...,\n"
        "        [1067, 1068, 1069,  ..., 1075, 1076, 1077],\n"
        "        [1078, 1079, 1080,  ..., 1086, 1087, 1088],\n"
        "        [1089, 1090, 1091,  ..., 1097, 1098, 1099]])",
    ),
    "requires grad": (_grad_leaf, "tensor([1., 2.], requires_grad=True)"),
    "float64 requires grad": (
        lambda: tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True),
        "tensor([1., 2.], dtype=tg.float64, requires_grad=True)",
    ),
    "made by an op": (lambda: _grad_leaf() * 2, "tensor([2., 4.], grad_fn=<MulBackward0>)"),
    "0-d made by an op": (lambda: (_grad_leaf() * 2).sum(), "tensor(6., grad_fn=<SumBackward0>)"),
    "parameter": (
        lambda: tg.nn.Parameter(tg.tensor([1.0, 2.0])),
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)",
    ),
}


@pytest.mark.parametrize("name", REPRS)
def test_repr_is_pytorchs(name) -> None:
    make, want = REPRS[name]
    assert repr(make()) == want
    assert str(make()) == want


def test_suffixes_move_to_the_next_line_when_the_line_is_full() -> None:
    t = tg.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], dtype=tg.float64) * _grad_leaf()[0]
    assert repr(t) == (
        "tensor([0.1000, 0.2000, 0.3000, 0.4000, 0.5000, 0.6000, 0.7000, 0.8000],\n"
        "       dtype=tg.float64, grad_fn=<MulBackward0>)"
    )


def test_set_printoptions() -> None:
    try:
        tg.set_printoptions(precision=2)
        assert repr(tg.tensor([1.2345, 2.0])) == "tensor([1.23, 2.00])"
        tg.set_printoptions(threshold=5)
        assert repr(tg.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
        tg.set_printoptions(sci_mode=False)  # (precision stays 2)
        assert repr(tg.tensor([1e-6, 1.0])) == "tensor([0.00, 1.00])"
        tg.set_printoptions(sci_mode=True)
        assert repr(tg.tensor([1.5, 2.0])) == "tensor([1.50e+00, 2.00e+00])"
        tg.set_printoptions(edgeitems=0, threshold=5)
        assert repr(tg.arange(10.0)) == "tensor([...], size=(10,))"
        with pytest.raises(ValueError, match="profile"):
            tg.set_printoptions(profile="tiny")
    finally:
        tg.set_printoptions(profile="default")
    assert repr(tg.tensor([1.12345])) == "tensor([1.1235])"


def test_grad_fn_prints_with_pytorchs_name() -> None:
    y = _grad_leaf() * 2
    assert repr(y.grad_fn).startswith("<MulBackward0 ")


# -- format: a 0-d tensor formats like its number -------------------------------------------------
FORMATS = [
    ("{:.4f}", 0.123456, np.float32),
    ("{:+.2f}", -1.5, np.float32),
    ("{:>8.3e}", 12345.678, np.float64),
    ("{}", 0.1, np.float32),
    ("{}", 3, np.int64),
    ("{:05d}", 42, np.int64),
    ("{}", True, np.bool_),
]


@pytest.mark.parametrize("spec, value, np_type", FORMATS)
def test_a_0d_tensor_formats_like_its_python_number(spec, value, np_type) -> None:
    t = tg.tensor(np.array(value, dtype=np_type))
    assert spec.format(t) == spec.format(np.array(value, dtype=np_type).item())


def test_an_f_string_of_a_0d_tensor_shows_the_number() -> None:
    assert f"{tg.tensor(0.25)}" == "0.25" and f"{tg.tensor(7)}" == "7"
    assert f"{tg.tensor(0.1)}" == str(float(np.float32(0.1)))  # the float32 value, as PyTorch


def test_other_tensors_format_only_without_a_spec() -> None:
    t = tg.tensor([1.0, 2.0])
    assert f"{t}" == repr(t)
    assert "{}".format(tg.nn.Parameter(tg.tensor(2.0))).startswith("Parameter")
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{t:.2f}"


# -- shapes are tg.Size ---------------------------------------------------------------------------
def test_shape_and_size_are_tg_size() -> None:
    x = tg.zeros(2, 3, 4)
    assert type(x.shape) is tg.Size and type(x.size()) is tg.Size and x.shape == (2, 3, 4)
    assert repr(x.shape) == str(x.shape) == f"{x.shape}" == "tg.Size([2, 3, 4])"
    assert repr(tg.Size([])) == "tg.Size([])" and repr(tg.zeros(()).shape) == "tg.Size([])"
    assert x.size(1) == 3 and type(x.size(-1)) is int
    assert repr(x.shape[1:]) == "tg.Size([3, 4])" and type(x.shape[0]) is int
    assert repr(x.shape + (5,)) == "tg.Size([2, 3, 4, 5])"
    assert repr((1,) + x.shape) == "tg.Size([1, 2, 3, 4])"
    assert x.shape.numel() == 24 == x.numel() and hash(x.shape) == hash((2, 3, 4))
    assert tg.zeros(x.shape[1:]).shape == (3, 4) and np.zeros(x.shape).shape == (2, 3, 4)
