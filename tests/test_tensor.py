"""The Tensor API of issue 2: attributes, PyTorch/NumPy spellings, dtype rules, factories."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg


def f64(data, requires_grad=False):
    return tg.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


# -- attributes ------------------------------------------------------------------------------------
def test_attributes() -> None:
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert isinstance(x._data, np.ndarray)
    assert x.grad is None and x.requires_grad and x.is_leaf
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.dtype == tg.float32
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3 and x.numel() == 6
    assert len(x) == 2
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T._data, x._data.T)
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    assert tg.tensor(2.5).item() == 2.5
    assert np.asarray(x.detach()).shape == (2, 3)
    assert tg.tensor([1.0, 2.0]).numpy().dtype == np.float32
    r = repr(x)
    assert r.startswith("tensor(") and "requires_grad=True" in r and "4." in r
    assert "grad_fn" in repr(y)
    assert "float64" in repr(f64([1.0]))


def test_item_and_len_refuse_what_they_cannot_do() -> None:
    with pytest.raises(ValueError, match="one-element"):
        tg.tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))


def test_array_protocol() -> None:
    x = tg.tensor([1.0, 2.0])
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


# -- dtype rules -----------------------------------------------------------------------------------
def test_dtype_rules() -> None:
    assert tg.tensor([1.0, 2.0]).dtype == tg.float32  # Python floats: float32
    assert tg.tensor(1.5).dtype == tg.float32
    assert tg.tensor(np.array([1.0])).dtype == tg.float64  # float64 kept
    assert tg.tensor([1, 2]).dtype == tg.int64
    assert tg.tensor([True, False]).dtype == tg.bool
    assert tg.tensor([1, 2], dtype=tg.float64).dtype == tg.float64
    assert tg.tensor([[1, 2], [3, 4.5]]).dtype == tg.float32


@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5), True])
def test_python_scalars_never_upcast(scalar) -> None:
    x = tg.tensor([1.0, 2.0])
    for y in (x + scalar, scalar + x, x * scalar, x / scalar, x - scalar, scalar - x,
              x**scalar, x.maximum(tg.tensor(float(scalar)))):
        assert y.dtype == tg.float32, (scalar, y)
    assert (f64([1.0]) * scalar).dtype == tg.float64


def test_int_tensor_meets_float() -> None:
    i = tg.tensor([1, 2])
    assert (i * 1.5).dtype == tg.float32
    assert (i + tg.tensor([0.5, 0.5])).dtype == tg.float32
    assert (i + 1).dtype == tg.int64


@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_int_and_bool_tensors_cannot_require_grad(data) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        tg.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        tg.tensor(data).requires_grad_()


def test_comparisons_give_bool_tensors_without_grad() -> None:
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for c in (x == 2.0, x != 2.0, x < 2.0, x <= 2.0, x > 2.0, x >= 2.0, x.eq(2.0), x.lt(x * 2)):
        assert c.dtype == tg.bool and not c.requires_grad
    np.testing.assert_array_equal((x > 1.5)._data, [False, True, True])


def test_conversions() -> None:
    x = tg.tensor([1.7, -2.2], requires_grad=True)
    assert x.double().dtype == tg.float64 and x.double().requires_grad
    assert x.float() is x
    assert x.long().dtype == tg.int64 and not x.long().requires_grad
    np.testing.assert_array_equal(x.long()._data, [1, -2])
    assert x.astype(tg.float64).dtype == tg.float64
    x.double().sum().backward()
    assert x.grad.dtype == tg.float32


# -- grad handling ---------------------------------------------------------------------------------
def test_grad_assignment_detach_requires_grad_zero() -> None:
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    p.grad = tg.tensor([0.5, 0.5])
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad._data, [2.5, 4.5])  # accumulates onto the assigned grad
    p.grad = None
    assert p.grad is None
    with pytest.raises(ValueError, match="shape"):
        p.grad = tg.zeros(3)
    d = (p * 3).detach()
    assert not d.requires_grad and d.is_leaf
    q = tg.tensor([1.0]).requires_grad_()
    assert q.requires_grad and q.requires_grad_(False).requires_grad is False
    z = tg.tensor([1.0, 2.0])
    assert z.zero_() is z
    np.testing.assert_array_equal(z._data, [0.0, 0.0])
    with tg.no_grad():
        p.zero_()
    np.testing.assert_array_equal(p._data, [0.0, 0.0])


# -- PyTorch and NumPy spellings ----------------------------------------------------------------------
def test_dim_axis_keepdim_keepdims_are_interchangeable() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    x = f64(a)
    for name in ("sum", "mean", "amax", "amin", "logsumexp"):
        ref = getattr(x, name)(dim=1, keepdim=True)._data
        for kw in ({"axis": 1, "keepdims": True}, {"dim": 1, "keepdims": True},
                   {"axis": 1, "keepdim": True}):
            np.testing.assert_array_equal(getattr(x, name)(**kw)._data, ref)
        assert ref.shape == (2, 1, 4)
    np.testing.assert_array_equal(x.sum(dim=(0, 2))._data, a.sum((0, 2)))
    np.testing.assert_array_equal(x.mean(axis=-1)._data, a.mean(-1))
    with pytest.raises(TypeError, match="dim or axis"):
        x.sum(dim=0, axis=1)


def test_var_std_default_unbiased_and_corrections() -> None:
    a = np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]])
    x = f64(a)
    np.testing.assert_allclose(x.var()._data, np.var(a, ddof=1))
    np.testing.assert_allclose(x.std(dim=1)._data, np.std(a, 1, ddof=1))
    np.testing.assert_allclose(x.var(1, unbiased=False)._data, np.var(a, 1))
    np.testing.assert_allclose(x.std(correction=0)._data, np.std(a))
    np.testing.assert_allclose(x.var(axis=0, ddof=1, keepdims=True)._data, np.var(a, 0, ddof=1, keepdims=True))
    np.testing.assert_allclose(tg.var(x)._data, np.var(a, ddof=1))
    np.testing.assert_allclose(tg.std(x, 1)._data, np.std(a, 1, ddof=1))


def test_transpose_swaps_two_dims_and_permute() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    x = f64(a)
    np.testing.assert_array_equal(x.transpose(0, 2)._data, np.swapaxes(a, 0, 2))
    np.testing.assert_array_equal(x.transpose(-1, 1)._data, np.swapaxes(a, -1, 1))
    np.testing.assert_array_equal(tg.transpose(x, 0, 1)._data, np.swapaxes(a, 0, 1))
    np.testing.assert_array_equal(x.permute(2, 0, 1)._data, a.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.permute((2, 0, 1))._data, a.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.swapaxes(0, 1)._data, np.swapaxes(a, 0, 1))


def test_view_view_as_flatten_squeeze_unsqueeze() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    x = f64(a, requires_grad=True)
    assert x.view(6, 4).shape == (6, 4) and x.view((4, -1)).shape == (4, 6)
    assert x.view_as(f64(np.zeros((3, 8)))).shape == (3, 8)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4) and tg.flatten(x, 1).shape == (2, 12)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.unsqueeze(0).squeeze(0).shape == (2, 3, 4) and x.reshape(1, 24, 1).squeeze().shape == (24,)
    assert x.expand(5, 2, 3, 4).shape == (5, 2, 3, 4)
    assert x[:, :1].expand(-1, 3, -1).shape == (2, 3, 4)
    x.view(24).sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.ones((2, 3, 4)))


def test_argmax_argmin_and_max_with_dim() -> None:
    a = np.array([[1.0, 5.0, 3.0], [7.0, 0.0, 2.0]])
    x = f64(a, requires_grad=True)
    am = x.argmax(1)
    assert am.dtype == tg.int64 and not am.requires_grad
    np.testing.assert_array_equal(am._data, [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=0)._data, [0, 1, 1])
    assert x.argmax().item() == 3
    assert x.argmax(1, keepdim=True).shape == (2, 1)
    values, indices = x.max(1)  # torch: (values, indices)
    np.testing.assert_array_equal(values._data, [5.0, 7.0])
    np.testing.assert_array_equal(indices._data, [1, 0])
    assert x.max(dim=1).values.requires_grad and x.min(1).indices.dtype == tg.int64
    v = x.max(axis=1)  # NumPy spelling: values only
    assert isinstance(v, tg.Tensor)
    np.testing.assert_array_equal(v._data, [5.0, 7.0])
    assert x.max().item() == 7.0 and x.min().item() == 0.0
    assert tg.max(x, 0).values.shape == (3,)
    np.testing.assert_array_equal(tg.max(x, f64(np.full((2, 3), 4.0)))._data, np.maximum(a, 4.0))


def test_operators_and_reflected_forms() -> None:
    a = np.array([1.0, 2.0, 4.0])
    b = np.array([0.5, -1.0, 2.0])
    x, y = f64(a), f64(b)
    pairs = [
        (x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b), (x**y, a**b),
        (-x, -a), (2.0 + x, 2.0 + a), (2.0 - x, 2.0 - a), (2.0 * x, 2.0 * a), (2.0 / x, 2.0 / a),
        (2.0**x, 2.0**a), (a + y, a + b), (abs(y), abs(b)),
    ]
    for got, want in pairs:
        np.testing.assert_allclose(got._data, want)
    m = f64(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose((m @ x)._data, np.arange(6.0).reshape(2, 3) @ a)
    np.testing.assert_allclose((np.ones((2, 2)) @ m)._data, np.ones((2, 2)) @ m._data)


def test_negative_step_slices_and_integer_indexing() -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = f64(a, requires_grad=True)
    np.testing.assert_array_equal(x[::-1, 1::2]._data, a[::-1, 1::2])
    np.testing.assert_array_equal(x[[2, 0]]._data, a[[2, 0]])
    np.testing.assert_array_equal(x[x > 5.0]._data, a[a > 5.0])
    np.testing.assert_array_equal(x[tg.tensor([1, 1])]._data, a[[1, 1]])
    x[::-1, 1::2].sum().backward()
    assert x.grad._data.sum() == 6.0


def test_module_level_functions_mirror_methods() -> None:
    a = np.array([[0.5, 1.0], [2.0, 3.0]])
    x = f64(a)
    np.testing.assert_allclose(tg.exp(x)._data, np.exp(a))
    np.testing.assert_allclose(tg.cat([x, x], dim=1)._data, np.concatenate([a, a], 1))
    np.testing.assert_allclose(tg.concatenate([x, x], axis=0)._data, np.concatenate([a, a], 0))
    np.testing.assert_allclose(tg.stack([x, x])._data, np.stack([a, a]))
    np.testing.assert_allclose(tg.where(x > 1.0, x, 0.0)._data, np.where(a > 1.0, a, 0.0))
    np.testing.assert_allclose(tg.pad(x, 1)._data, np.pad(a, 1))
    np.testing.assert_allclose(tg.flip(x, (0,))._data, a[::-1])
    np.testing.assert_allclose(tg.clamp(x, 1.0, 2.0)._data, np.clip(a, 1.0, 2.0))
    np.testing.assert_allclose(tg.softmax(x, 1)._data.sum(1), [1.0, 1.0])


# -- factories and the random generator -----------------------------------------------------------------
def test_factories() -> None:
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).dtype == tg.float32
    assert tg.ones(2, dtype=tg.float64).dtype == tg.float64
    np.testing.assert_array_equal(tg.full((2,), 7.0)._data, [7.0, 7.0])
    assert tg.full((2,), 7.0).dtype == tg.float32
    assert tg.empty(3, 1).shape == (3, 1)
    a = tg.arange(5)
    assert a.dtype == tg.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert tg.arange(0, 1, 0.25).dtype == tg.float32 and tg.arange(0, 1, 0.25).numel() == 4
    np.testing.assert_allclose(tg.linspace(0, 1, 5)._data, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(tg.eye(3)._data, np.eye(3))
    assert tg.rand(2, 3).dtype == tg.float32 and tg.randn(4).shape == (4,)
    r = tg.randint(0, 5, (100,))
    assert r.dtype == tg.int64 and 0 <= r._data.min() and r._data.max() < 5
    like = tg.ones(2, 3, dtype=tg.float64)
    for f in (tg.zeros_like, tg.ones_like, tg.rand_like, tg.randn_like, tg.empty_like):
        t = f(like)
        assert t.shape == (2, 3) and t.dtype == tg.float64
    assert tg.full_like(like, 3.0)._data.sum() == 18.0
    assert tg.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        tg.arange(3, requires_grad=True)


def test_manual_seed_makes_draws_reproducible() -> None:
    tg.manual_seed(123)
    first = [tg.rand(3)._data, tg.randn(2, 2)._data, tg.randint(0, 100, (5,))._data]
    tg.manual_seed(123)
    second = [tg.rand(3)._data, tg.randn(2, 2)._data, tg.randint(0, 100, (5,))._data]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(124)
    assert not np.array_equal(tg.rand(3)._data, first[0])
