"""The tg.* functions that take a dimension accept PyTorch's dim/keepdim (by position or by
name, tuples where PyTorch allows them) and NumPy's axis/keepdims, and agree with the Tensor
method of the same name. One table per kind of function, each row checked against NumPy."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from scipy.special import logsumexp as np_logsumexp

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import gradcheck

A = np.random.default_rng(0).standard_normal((2, 3, 4))
DIMS = [None, 0, 1, -1, (0, 2), [0, -1]]


def _axis(d):
    return tuple(d) if isinstance(d, list) else d


# name -> (NumPy reference f(a, axis, keepdims), the input it reduces)
REDUCTIONS = {
    "sum": (lambda a, d, k: np.sum(a, _axis(d), keepdims=k), A),
    "mean": (lambda a, d, k: np.mean(a, _axis(d), keepdims=k), A),
    "amax": (lambda a, d, k: np.max(a, _axis(d), keepdims=k), A),
    "amin": (lambda a, d, k: np.min(a, _axis(d), keepdims=k), A),
    "logsumexp": (lambda a, d, k: np_logsumexp(a, _axis(d), keepdims=k), A),
    "var": (lambda a, d, k: np.var(a, _axis(d), ddof=1, keepdims=k), A),
    "std": (lambda a, d, k: np.std(a, _axis(d), ddof=1, keepdims=k), A),
    "all": (lambda a, d, k: np.all(a, _axis(d), keepdims=k), A > -1),
    "any": (lambda a, d, k: np.any(a, _axis(d), keepdims=k), A > 1),
}

# how a program may spell (dim, keepdim); var and std take unbiased in the third position
SPELLINGS = {
    "positional": lambda f, x, d, k: f(x, d, keepdim=k) if f.__name__ in ("var", "std")
    else f(x, d, k),
    "dim=, keepdim=": lambda f, x, d, k: f(x, dim=d, keepdim=k),
    "axis=, keepdims=": lambda f, x, d, k: f(x, axis=d, keepdims=k),
}


def _check(out, expected):
    out = out.numpy() if isinstance(out, tg.Tensor) else np.asarray(out)
    expected = np.asarray(expected)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_function_and_method_match_numpy(name, dim, keepdim, spelling):
    reference, a = REDUCTIONS[name]
    x = tg.tensor(a)
    call = SPELLINGS[spelling]
    expected = reference(a, dim, keepdim)
    _check(call(getattr(tg, name), x, dim, keepdim), expected)
    method = getattr(tg.Tensor, name)
    _check(call(method, x, dim, keepdim), expected)


def _max_ref(a, d, k):
    return np.max(a, d, keepdims=k), np.argmax(a, d, keepdims=k)


def _min_ref(a, d, k):
    return np.min(a, d, keepdims=k), np.argmin(a, d, keepdims=k)


@pytest.mark.parametrize("name, reference", [("max", _max_ref), ("min", _min_ref)])
def test_max_min_return_values_and_indices_when_given_a_dim(name, reference):
    f, x = getattr(tg, name), tg.tensor(A)
    for d in (0, 1, -1):
        for k in (False, True):
            values, indices = reference(A, d, k)
            for out in (f(x, d, k), f(x, dim=d, keepdim=k), getattr(x, name)(d, keepdim=k)):
                _check(out.values, values)
                _check(out.indices, indices)
                assert out.indices.dtype == tg.int64 and out[0] is out.values
            _check(f(x, axis=d, keepdims=k), values)  # NumPy's spelling: values only
    np_fn = np.max if name == "max" else np.min
    _check(f(x), np_fn(A))
    _check(f(x, (0, 2)), np_fn(A, (0, 2)))  # several dims: values only
    other = tg.tensor(np.zeros_like(A))
    _check(f(x, other), (np.maximum if name == "max" else np.minimum)(A, 0.0))


@pytest.mark.parametrize("name, np_fn", [("argmax", np.argmax), ("argmin", np.argmin)])
def test_argmax_argmin_with_dim_and_keepdim(name, np_fn):
    f, x = getattr(tg, name), tg.tensor(A)
    for d in (None, 0, 1, -1):
        for k in (False, True):
            expected = np_fn(A, d, keepdims=k)
            for out in (f(x, d, k), f(x, dim=d, keepdim=k), f(x, axis=d, keepdims=k),
                        getattr(x, name)(d, k)):
                _check(out, expected)
                assert out.dtype == tg.int64
    with pytest.raises(TypeError, match=f"{name}: takes a single dim"):
        f(x, (0, 1))


@pytest.mark.parametrize("call, ddof, axis, keepdims", [
    (lambda f, x: f(x), 1, None, False),
    (lambda f, x: f(x, 1), 1, 1, False),
    (lambda f, x: f(x, 1, False), 0, 1, False),  # PyTorch: (dim, unbiased)
    (lambda f, x: f(x, 1, True, True), 1, 1, True),  # (dim, unbiased, keepdim)
    (lambda f, x: f(x, False), 0, None, False),  # (unbiased) alone
    (lambda f, x: f(x, True), 1, None, False),
    (lambda f, x: f(x, dim=(0, 2), correction=0), 0, (0, 2), False),
    (lambda f, x: f(x, dim=1, correction=2, keepdim=True), 2, 1, True),
    (lambda f, x: f(x, unbiased=False, dim=-1), 0, -1, False),
    (lambda f, x: f(x, axis=0, ddof=0, keepdims=True), 0, 0, True),
])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_correction_as_pytorch(name, call, ddof, axis, keepdims):
    expected = getattr(np, name)(A, axis, ddof=ddof, keepdims=keepdims)
    _check(call(getattr(tg, name), tg.tensor(A)), expected)
    _check(call(getattr(tg.Tensor, name), tg.tensor(A)), expected)


def _softmax(a, d):
    e = np.exp(a - a.max(d, keepdims=True))
    return e / e.sum(d, keepdims=True)


@pytest.mark.parametrize("d", [0, 1, -1])
@pytest.mark.parametrize("name, reference", [
    ("softmax", _softmax),
    ("log_softmax", lambda a, d: np.log(_softmax(a, d))),
])
def test_softmax_and_log_softmax_take_dim_axis_and_dtype(name, reference, d):
    f, x = getattr(tg, name), tg.tensor(A)
    for out in (f(x, d), f(x, dim=d), f(x, axis=d), getattr(x, name)(d)):
        _check(out, reference(A, d))
    low = f(tg.tensor(A, dtype=tg.float32), dim=d, dtype=tg.float64)
    assert low.dtype == tg.float64
    np.testing.assert_allclose(low.numpy(), reference(A.astype(np.float32), d), rtol=1e-6)
    _check(f(x), reference(A, -1))  # dim defaults to the last


S = np.arange(6.0).reshape(1, 3, 1, 2)

# name -> list of (tg call, NumPy reference)
SHAPE_CASES = {
    "squeeze": [
        (lambda: tg.squeeze(tg.tensor(S)), np.squeeze(S)),
        (lambda: tg.squeeze(tg.tensor(S), 0), np.squeeze(S, 0)),
        (lambda: tg.squeeze(tg.tensor(S), dim=-2), np.squeeze(S, -2)),
        (lambda: tg.squeeze(tg.tensor(S), dim=(0, 2)), np.squeeze(S, (0, 2))),
        (lambda: tg.squeeze(tg.tensor(S), axis=2), np.squeeze(S, 2)),
        (lambda: tg.squeeze(tg.tensor(S), 1), S),  # a dim of size > 1 stays, as in PyTorch
    ],
    "unsqueeze": [
        (lambda: tg.unsqueeze(tg.tensor(A), 0), np.expand_dims(A, 0)),
        (lambda: tg.unsqueeze(tg.tensor(A), dim=-1), np.expand_dims(A, -1)),
        (lambda: tg.unsqueeze(tg.tensor(A), axis=2), np.expand_dims(A, 2)),
        (lambda: tg.tensor(A).unsqueeze(axis=1), np.expand_dims(A, 1)),
    ],
    "cat": [
        (lambda: tg.cat([tg.tensor(A), tg.tensor(A)], 1), np.concatenate([A, A], 1)),
        (lambda: tg.cat([tg.tensor(A), tg.tensor(A)], dim=-1), np.concatenate([A, A], -1)),
        (lambda: tg.cat([tg.tensor(A), tg.tensor(A)], axis=0), np.concatenate([A, A], 0)),
        (lambda: tg.concatenate([tg.tensor(A), tg.tensor(A)], axis=2), np.concatenate([A, A], 2)),
        (lambda: tg.concat([tg.tensor(A), tg.tensor(A)], dim=2), np.concatenate([A, A], 2)),
    ],
    "stack": [
        (lambda: tg.stack([tg.tensor(A), tg.tensor(A)]), np.stack([A, A])),
        (lambda: tg.stack([tg.tensor(A), tg.tensor(A)], dim=-1), np.stack([A, A], -1)),
        (lambda: tg.stack([tg.tensor(A), tg.tensor(A)], axis=1), np.stack([A, A], 1)),
    ],
    "flatten": [
        (lambda: tg.flatten(tg.tensor(A)), A.ravel()),
        (lambda: tg.flatten(tg.tensor(A), 1), A.reshape(2, 12)),
        (lambda: tg.flatten(tg.tensor(A), start_dim=0, end_dim=1), A.reshape(6, 4)),
        (lambda: tg.flatten(tg.tensor(A), -2, -1), A.reshape(2, 12)),
    ],
    "unflatten": [
        (lambda: tg.unflatten(tg.tensor(A), 2, (2, 2)), A.reshape(2, 3, 2, 2)),
        (lambda: tg.unflatten(tg.tensor(A), dim=-1, sizes=(2, 2)), A.reshape(2, 3, 2, 2)),
    ],
    "transpose": [
        (lambda: tg.transpose(tg.tensor(A), 0, 2), np.swapaxes(A, 0, 2)),
        (lambda: tg.transpose(tg.tensor(A), dim0=-1, dim1=1), np.swapaxes(A, -1, 1)),
    ],
    "swapaxes": [(lambda: tg.swapaxes(tg.tensor(A), axis0=0, axis1=1), np.swapaxes(A, 0, 1))],
    "swapdims": [(lambda: tg.swapdims(tg.tensor(A), dim0=0, dim1=2), np.swapaxes(A, 0, 2))],
    "permute": [(lambda: tg.permute(tg.tensor(A), (2, 0, 1)), np.transpose(A, (2, 0, 1)))],
    "flip": [(lambda: tg.flip(tg.tensor(A), (0, 2)), np.flip(A, (0, 2))),
             (lambda: tg.flip(tg.tensor(A), dims=[-1]), np.flip(A, -1))],
    "split": [
        (lambda: tg.split(tg.tensor(A), 2, 2), np.split(A, [2], 2)),
        (lambda: tg.split(tg.tensor(A), [1, 3], dim=-1), np.split(A, [1], -1)),
        (lambda: tg.split(tg.tensor(A), split_size_or_sections=2, dim=1), np.split(A, [2], 1)),
    ],
    "chunk": [
        (lambda: tg.chunk(tg.tensor(A), 2, 2), np.split(A, [2], 2)),
        (lambda: tg.chunk(tg.tensor(A), 3, dim=-1), np.split(A, [2], -1)),  # ceil(4 / 3) each
    ],
}


@pytest.mark.parametrize("name, i", [(n, i) for n, cases in SHAPE_CASES.items()
                                     for i in range(len(cases))])
def test_shape_functions_match_numpy(name, i):
    call, expected = SHAPE_CASES[name][i]
    out = call()
    if isinstance(expected, list):
        assert isinstance(out, tuple) and len(out) == len(expected)
        for o, e in zip(out, expected):
            _check(o, e)
    else:
        _check(out, expected)


def test_every_exported_function_with_a_dimension_has_cases():
    """A tg.* function taking a dimension (under any of its names) must appear in a table."""
    names = {"dim", "axis", "dims", "dim0", "axis0", "start_dim"}
    covered = set(REDUCTIONS) | set(SHAPE_CASES) | {
        "max", "min", "argmax", "argmin", "softmax", "log_softmax", "concatenate", "concat",
    }
    takes_dim = set()
    for name in dir(tg):
        obj = getattr(tg, name)
        if inspect.isfunction(obj) and names & set(inspect.signature(obj).parameters):
            takes_dim.add(name)
    missing = sorted(takes_dim - covered)
    assert not missing, f"add cases for {missing}"
    assert {"sum", "squeeze", "cat", "max"} <= takes_dim


@pytest.mark.parametrize("fn", [
    lambda x: tg.sum(x, dim=(0, 2), keepdim=True),
    lambda x: tg.mean(x, 1),
    lambda x: tg.std(x, dim=-1, correction=0),
    lambda x: tg.logsumexp(x, dim=[0, 1]),
    lambda x: tg.max(x, 1, keepdim=True).values,
    lambda x: tg.softmax(x, dim=0),
    lambda x: tg.log_softmax(x, dim=1),
    lambda x: tg.unsqueeze(tg.squeeze(x[:1], dim=0), dim=1),
])
def test_dim_functions_are_differentiable(fn):
    x = tg.tensor(A + np.arange(A.size).reshape(A.shape) * 0.1, requires_grad=True)  # no ties
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("call, error, match", [
    (lambda x: tg.sum(x, dim=1, axis=1), TypeError, "sum: pass either dim or axis"),
    (lambda x: tg.unsqueeze(x), TypeError, "unsqueeze: missing the dimension"),
    (lambda x: tg.unsqueeze(x, 1, axis=1), TypeError, "unsqueeze: pass either dim or axis"),
    (lambda x: tg.mean(x, dim=3), IndexError, r"mean: dimension 3 is out of range"),
    (lambda x: tg.squeeze(x, dim=(0, 0)), ValueError, "squeeze: .*repeat"),
    (lambda x: tg.max(x, -4), IndexError, "max: dimension -4 is out of range"),
])
def test_bad_dimensions_name_the_function(call, error, match):
    with pytest.raises(error, match=match):
        call(tg.tensor(A))
