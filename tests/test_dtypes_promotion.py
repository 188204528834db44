"""PyTorch's type promotion, integer arithmetic and the remainder's gradient.

The expected dtypes are written out by hand from PyTorch's documented rules
(https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc), never computed
by the code under test:

- categories: bool < integer < float. Within one category, the smallest dtype that holds
  both (``torch.promote_types``: int8 with uint8 is int16); across categories the higher
  category's dtype (float16 with int64 is float16).
- operands come in three tiers: tensors with dimensions, 0-d tensors, Python scalars (a float
  scalar is the default dtype, float32; an int is int64). A weaker tier decides the dtype only
  when its category is higher than the stronger tiers'.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck

NAMES = ["b", "u8", "i8", "i16", "i32", "i64", "f16", "f32", "f64"]
DTYPE = dict(zip(NAMES, [tg.bool, tg.uint8, tg.int8, tg.int16, tg.int32, tg.int64, tg.float16,
                         tg.float32, tg.float64]))

# torch.promote_types(row, column): also the dtype of two tensors of the same tier
PROMOTE = """
      b   u8  i8  i16 i32 i64 f16 f32 f64
b     b   u8  i8  i16 i32 i64 f16 f32 f64
u8    u8  u8  i16 i16 i32 i64 f16 f32 f64
i8    i8  i16 i8  i16 i32 i64 f16 f32 f64
i16   i16 i16 i16 i16 i32 i64 f16 f32 f64
i32   i32 i32 i32 i32 i32 i64 f16 f32 f64
i64   i64 i64 i64 i64 i64 i64 f16 f32 f64
f16   f16 f16 f16 f16 f16 f16 f16 f32 f64
f32   f32 f32 f32 f32 f32 f32 f32 f32 f64
f64   f64 f64 f64 f64 f64 f64 f64 f64 f64
"""

# a tensor with dimensions (row) meets a 0-d tensor (column): the 0-d one only lifts the category
DIM_ZERO_D = """
      b   u8  i8  i16 i32 i64 f16 f32 f64
b     b   u8  i8  i16 i32 i64 f16 f32 f64
u8    u8  u8  u8  u8  u8  u8  f16 f32 f64
i8    i8  i8  i8  i8  i8  i8  f16 f32 f64
i16   i16 i16 i16 i16 i16 i16 f16 f32 f64
i32   i32 i32 i32 i32 i32 i32 f16 f32 f64
i64   i64 i64 i64 i64 i64 i64 f16 f32 f64
f16   f16 f16 f16 f16 f16 f16 f16 f16 f16
f32   f32 f32 f32 f32 f32 f32 f32 f32 f32
f64   f64 f64 f64 f64 f64 f64 f64 f64 f64
"""

# a tensor (row; with dimensions or 0-d alike) meets the Python scalars True, 2, 2.5
WITH_SCALAR = """
      True 2   2.5
b     b    i64 f32
u8    u8   u8  f32
i8    i8   i8  f32
i16   i16  i16 f32
i32   i32  i32 f32
i64   i64  i64 f32
f16   f16  f16 f16
f32   f32  f32 f32
f64   f64  f64 f64
"""


def _table(text: str) -> dict:
    head, *rows = [line.split() for line in text.strip().splitlines()]
    return {(row[0], col): DTYPE[v] for row in rows for col, v in zip(head, row[1:])}


PROMOTE_T, DIM_ZERO_D_T, WITH_SCALAR_T = _table(PROMOTE), _table(DIM_ZERO_D), _table(WITH_SCALAR)
SCALARS = {"True": True, "2": 2, "2.5": 2.5}
PAIRS = list(itertools.product(NAMES, NAMES))


def ones(name: str, shape=(2,)):
    return tg.ones(*shape, dtype=DTYPE[name]) if shape else tg.tensor(np.ones((), DTYPE[name]))


def _ops(a, b) -> dict:
    """The result of each op that combines two operands (dtype only: values elsewhere)."""
    c = tg.tensor([True, False])
    return {
        "add": a + b, "radd": b + a, "mul": a * b, "maximum": tg.maximum(a, b),
        "where": tg.where(c, a, b),
    }


# -- the matrix ---------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_promote_types_and_two_tensors(a, b) -> None:
    expected = PROMOTE_T[a, b]
    assert tg.promote_types(DTYPE[a], DTYPE[b]) == expected
    for shape in [(2,), ()]:  # two tensors of the same tier
        x, y = ones(a, shape), ones(b, shape)
        assert tg.result_type(x, y) == expected
        for op, out in _ops(x, y).items():
            assert out.dtype == expected, (op, shape)
    assert tg.cat([ones(a), ones(b)]).dtype == expected
    assert tg.stack([ones(a), ones(b)]).dtype == expected


@pytest.mark.parametrize("a, b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_a_zero_d_tensor_only_lifts_the_category(a, b) -> None:
    x, z = ones(a), ones(b, shape=())
    expected = DIM_ZERO_D_T[a, b]
    assert tg.result_type(x, z) == expected and tg.result_type(z, x) == expected
    for op, out in _ops(x, z).items():
        assert out.dtype == expected, op


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("s", list(SCALARS))
@pytest.mark.parametrize("shape", [(2,), ()], ids=["tensor", "0-d"])
def test_python_scalars_only_lift_the_category(a, s, shape) -> None:
    x, scalar = ones(a, shape), SCALARS[s]
    expected = WITH_SCALAR_T[a, s]
    assert tg.result_type(x, scalar) == expected
    for op, out in _ops(x, scalar).items():
        assert out.dtype == expected, op
    np_scalar = {"True": np.bool_(True), "2": np.int32(2), "2.5": np.float64(2.5)}[s]
    assert (x + np_scalar).dtype == expected  # NumPy scalars are weak as well


def test_the_default_dtype_is_the_float_scalars_dtype() -> None:
    tg.set_default_dtype(tg.float64)
    try:
        assert (tg.tensor([1, 2]) + 2.5).dtype == tg.float64
        assert (tg.tensor([1, 2]) / 2).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert (tg.tensor([1, 2]) + 2.5).dtype == tg.float32


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: tg.ones(2) // tg.tensor([1, 2]), tg.float32),
        (lambda: tg.ones(2) % tg.tensor([1, 2]), tg.float32),
        (lambda: tg.ones(2, dtype=tg.float16) % tg.tensor([1, 2]), tg.float16),
        (lambda: tg.where(tg.tensor([True, False]), tg.ones(2), tg.tensor([1, 2])), tg.float32),
        (lambda: tg.where(tg.tensor([True, False]), 1, 2.5), tg.float32),
        (lambda: tg.where(tg.tensor([True, False]), tg.tensor([1, 2]), 2.5), tg.float32),
        (lambda: tg.cat([tg.tensor([1, 2]), tg.ones(2)]), tg.float32),
        (lambda: tg.ones(2) + tg.tensor(1.0, dtype=tg.float64), tg.float32),
        (lambda: tg.tensor([1, 2]) + tg.tensor(1.0, dtype=tg.float64), tg.float64),
        (lambda: tg.tensor([1, 2]) + 2.5, tg.float32),
        (lambda: tg.tensor([1, 2]) / tg.tensor([2, 2]), tg.float32),
        (lambda: tg.tensor([True]) / tg.tensor([True]), tg.float32),
        (lambda: tg.tensor([1, 2]) ** 2.0, tg.float32),
        (lambda: 2 ** tg.tensor([1, 2]), tg.int64),
        (lambda: tg.ones(1, 2) @ tg.ones(2, 1, dtype=tg.int64), tg.float32),
        (lambda: tg.clamp(tg.tensor([1, 2]), min=1.5), tg.float32),
        (lambda: tg.clamp(tg.tensor([1, 2]), min=tg.tensor(1.5, dtype=tg.float64)), tg.float64),
        (lambda: tg.clamp(tg.ones(2), min=tg.tensor(0.5, dtype=tg.float64)), tg.float32),
        (lambda: tg.clamp(tg.ones(2), min=tg.tensor([0.5, 2.0], dtype=tg.float64)), tg.float64),
        (lambda: tg.clamp(tg.tensor([1, 2]), min=1, max=1), tg.int64),
        *[(lambda f=f: f(tg.tensor([1, 2])), tg.float32)
          for f in (tg.exp, tg.log, tg.sqrt, tg.sin, tg.cos, tg.tanh, tg.sigmoid, tg.erf)],
        (lambda: tg.exp(tg.ones(2, dtype=tg.float16)), tg.float16),
        (lambda: tg.tensor([np.float64(1.0)]), tg.float64),
    ],
)
def test_each_op_that_combines_dtypes(make, expected) -> None:
    assert make().dtype == expected


def test_comparisons_compute_in_the_promoted_dtype() -> None:
    # float32 holds 2**24 + 1 as 2**24, so PyTorch's int64-vs-float32 comparison says equal
    big = 2**24 + 1
    assert (tg.tensor([big]) == tg.tensor([float(2**24)])).tolist() == [True]
    assert (tg.tensor([big]) > float(2**24)).tolist() == [False]
    assert (tg.tensor([big]) > tg.tensor([float(2**24)], dtype=tg.float64)).tolist() == [True]
    # a 0-d float64 tensor is compared in float32, the tensor's dtype
    assert (tg.tensor([0.1]) == tg.tensor(0.1, dtype=tg.float64)).tolist() == [True]
    assert (tg.tensor([1, 2]) == 1.5).tolist() == [False, False]
    assert (tg.tensor([1.0]) == None) is False  # noqa: E711 - Python falls back to identity


@pytest.mark.parametrize(
    "data, expected",
    [  # torch.tensor's inference: promote the elements' dtypes; a Python float is float32
        ([1.0, 2.0], tg.float32),
        ([np.float64(1.0)], tg.float64),
        (np.float64(1.0), tg.float64),
        ([1.0, np.float64(2.0)], tg.float64),
        ([[np.float64(1.0)], [2.0]], tg.float64),
        ([np.float32(1.0), 2.0], tg.float32),
        ([np.float16(1.0), 2], tg.float16),
        ([np.float32(1.0), np.float64(2.0)], tg.float64),
        ([np.int32(1), 2.0], tg.float32),
        ([np.int32(1), 2], tg.int64),
        ([np.int8(1), np.int32(3)], tg.int32),
        ([True, 2], tg.int64),
        ([np.array([1.0, 2.0]), np.array([3.0, 4.0])], tg.float64),
        ([tg.tensor(1.0, dtype=tg.float64), tg.tensor(2.0)], tg.float64),
    ],
)
def test_tensor_infers_dtypes_as_pytorch(data, expected) -> None:
    assert tg.tensor(data).dtype == expected


# -- integers ----------------------------------------------------------------------------------
def test_bitwise_ops_on_integers_and_logical_ops_on_bools() -> None:
    x = tg.tensor([6, 5])
    assert (x & 3).tolist() == [6 & 3, 5 & 3] == [2, 1]
    assert (x | 3).tolist() == [6 | 3, 5 | 3] and (x ^ 3).tolist() == [6 ^ 3, 5 ^ 3]
    assert (3 & x).tolist() == [2, 1] and (~x).tolist() == [~6, ~5]
    assert (x & tg.tensor([3], dtype=tg.int32)).dtype == tg.int64
    assert (tg.tensor([1, 2], dtype=tg.int8) & 3).dtype == tg.int8
    assert (tg.tensor([True, False]) & 3).tolist() == [1, 0]
    p, q = tg.tensor([True, True, False]), tg.tensor([True, False, False])
    assert (p & q).tolist() == [True, False, False] and (p & q).dtype == tg.bool
    assert (p | q).tolist() == [True, True, False] and (p ^ q).tolist() == [False, True, False]
    assert (~p).tolist() == [False, False, True]
    assert tg.tensor([2.0, 0.0]).logical_and(tg.tensor([1, 1])).tolist() == [True, False]
    for bad in (lambda: tg.ones(2) & 1, lambda: x | tg.ones(2), lambda: ~tg.ones(2)):
        with pytest.raises(TypeError, match="integer or bool"):
            bad()
    y = tg.tensor([6, 5])
    y &= 3
    assert y.tolist() == [2, 1]


@pytest.mark.parametrize(
    "op", [
        lambda: tg.tensor([1, 2]) // 0, lambda: tg.tensor([1, 2]) % 0,
        lambda: tg.tensor([1, 2]) // tg.tensor([1, 0]), lambda: tg.tensor([7]) % tg.tensor([0]),
        lambda: 5 // tg.tensor([1, 0]), lambda: 5 % tg.tensor([0]),
        lambda: tg.tensor([1, 2], dtype=tg.int32).__ifloordiv__(0),
        lambda: tg.tensor([1, 2]).__imod__(tg.tensor([0, 1])),
    ],
)
def test_integer_division_by_zero_raises(op) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op()


def test_float_division_by_zero_gives_inf_and_nan() -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        assert (tg.tensor([1.0, -1.0]) // 0).tolist() == [math.inf, -math.inf]
        assert np.isnan((tg.tensor([1.0, -2.0]) % 0)._data).all()
        assert (tg.tensor([1, 0]) / 0).tolist()[0] == math.inf


def test_floor_division_and_remainder_follow_the_divisors_sign() -> None:
    a = [7, -7, 7, -7]
    b = [2, 2, -2, -2]
    assert (tg.tensor(a) // tg.tensor(b)).tolist() == [x // y for x, y in zip(a, b)]
    assert (tg.tensor(a) % tg.tensor(b)).tolist() == [x % y for x, y in zip(a, b)]
    fa = [7.5, -7.5, 7.5, -7.5]
    assert (tg.tensor(fa) % tg.tensor(b)).tolist() == [x % y for x, y in zip(fa, b)]
    assert (tg.tensor(fa) // tg.tensor(b)).tolist() == [x // y for x, y in zip(fa, b)]
    assert (5 % tg.tensor([3, 4])).tolist() == [2, 1] and (9 // tg.tensor([2, 4])).tolist() == [4, 2]


def test_rounding_an_integer_tensor_keeps_it() -> None:
    x = tg.tensor([-3, 0, 4])
    for f in (tg.floor, tg.ceil, tg.round, tg.trunc):
        assert f(x).dtype == tg.int64 and f(x).tolist() == [-3, 0, 4]
    assert tg.sign(x).tolist() == [-1, 0, 1] and tg.sign(tg.tensor([True, False])).dtype == tg.bool


# -- in place: the result keeps self's dtype --------------------------------------------------------
@pytest.mark.parametrize(
    "op", [
        lambda: tg.tensor([1, 2]).add_(1.5), lambda: tg.tensor([1, 2]).mul_(tg.tensor(2.0)),
        lambda: tg.tensor([1, 2]).div_(2), lambda: tg.tensor([True]).add_(1),
        lambda: tg.tensor([1, 2]).clamp_(min=1.5), lambda: tg.tensor([1, 2]).__iadd__(0.5),
        lambda: tg.tensor([1, 2]).sub_(tg.ones(2)),
    ],
)
def test_inplace_refuses_a_result_its_dtype_cannot_hold(op) -> None:
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        op()


def test_inplace_computes_in_the_promoted_dtype_and_stores_in_its_own() -> None:
    x = tg.tensor([1, 2], dtype=tg.int32)
    x += tg.tensor([2, 3])
    assert x.dtype == tg.int32 and x.tolist() == [3, 5]
    h = tg.tensor([1.0], dtype=tg.float16)
    h.add_(tg.tensor([1e-3]))  # summed in float32, then rounded to float16 once
    assert h.dtype == tg.float16
    assert h._data[0] == np.float16(np.float32(1.0) + np.float32(1e-3))
    f = tg.ones(2)
    f.add_(tg.tensor([1.0, 2.0], dtype=tg.float64))
    assert f.dtype == tg.float32 and f.tolist() == [2.0, 3.0]
    i = tg.tensor([7, 8])
    i //= 2
    assert i.tolist() == [3, 4]
    i %= 2
    assert i.tolist() == [1, 0]
    n = tg.tensor([1, 2])
    n.fill_(2.7)  # fill_ and copy_ convert, as in PyTorch
    assert n.tolist() == [2, 2]
    with pytest.raises(RuntimeError, match="cannot change the shape"):
        tg.ones(2).add_(tg.ones(3, 2))


# -- the remainder's gradient and the step functions' zero gradient ------------------------------
def f64(data, requires_grad=True):
    return tg.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


def test_angle_wrapping_gradient() -> None:
    x = f64([3.5, -1.25])
    wrapped = (x + math.pi) % (2 * math.pi) - math.pi
    (wrapped * x).sum().backward()
    # d/dx [w(x) x] = x + w(x), since w'(x) = 1; w(3.5) = 3.5 - 2 pi, w(-1.25) = -1.25
    expected = [3.5 + (3.5 - 2 * math.pi), -1.25 + -1.25]
    np.testing.assert_allclose(x.grad._data, expected, rtol=1e-12)
    assert (x.detach() % 2).requires_grad is False and (x % 2).requires_grad


def test_remainder_gradients_match_central_differences() -> None:
    # divisors of both signs; no a / b near a whole number (where the remainder jumps)
    a = f64([5.3, -5.3, 5.3, -5.3, 0.7, 2.2])
    b = f64([2.0, 2.0, -2.0, -2.0, 3.0, -0.9])
    assert gradcheck(lambda a, b: a % b, (a, b))
    assert gradgradcheck(lambda a, b: (a % b) * (a % b) * b, (a, b))
    assert gradcheck(lambda b: 7.0 % b, (b,)) and gradcheck(lambda a: a % 1.5, (a,))
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad._data, np.ones(6))
    np.testing.assert_array_equal(b.grad._data, [-(x // y) for x, y in zip(a.tolist(), b.tolist())])


@pytest.mark.parametrize(
    "f", [tg.floor, tg.ceil, tg.round, tg.trunc, tg.sign, lambda x: x // 0.7,
          lambda x: 3.0 // x, lambda x: x.round(1)],
    ids=["floor", "ceil", "round", "trunc", "sign", "x//0.7", "3//x", "round(1)"],
)
def test_step_functions_have_zero_gradient(f) -> None:
    x = f64([1.3, -2.6, 0.42])
    y = f(x)
    assert y.requires_grad
    y.backward(np.full(3, math.inf))  # a zero derivative, not 0 * the incoming gradient
    np.testing.assert_array_equal(x.grad._data, np.zeros(3))
    assert gradcheck(f, (f64([1.3, -2.6, 0.42]),))


def test_clamp_with_tensor_bounds_routes_gradients_to_the_bounds() -> None:
    x = f64([-2.0, 0.5, 3.0, 1.0])
    lo = f64([-1.0, -1.0, 0.0, 0.2])
    hi = f64([1.0, 1.0, 2.0, 0.8])
    np.testing.assert_array_equal(tg.clamp(x, lo, hi)._data, np.clip(x._data, lo._data, hi._data))
    assert gradcheck(lambda x, lo, hi: tg.clamp(x, min=lo, max=hi), (x, lo, hi))
    assert gradcheck(lambda x, lo: x.clamp(min=lo), (x, lo))
