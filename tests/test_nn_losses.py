"""Losses: forward against NumPy formulas written here (PyTorch semantics and reductions),
gradients against central differences in float64, stability at logits of +-1e4, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from scipy.special import log_softmax as np_log_softmax

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.gradcheck import gradcheck

RNG = np.random.default_rng(3)
REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}


def t64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- references -------------------------------------------------------------------------------
def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """PyTorch's definition for class-index targets, written out row by row."""
    logp = np_log_softmax(x, axis=1)
    c = x.shape[1]
    w = np.ones(c) if weight is None else weight
    nll, smooth, wsum = [], [], 0.0
    for row, ti in zip(logp, t):
        if ti == ignore_index:
            nll.append(0.0)
            smooth.append(0.0)
            continue
        nll.append(-w[ti] * row[ti])
        smooth.append(-(w * row).sum())
        wsum += w[ti]
    nll, smooth = np.array(nll), np.array(smooth)
    if reduction == "mean":
        return (1 - smoothing) * nll.sum() / wsum + smoothing / c * smooth.sum() / wsum
    return REDUCE[reduction]((1 - smoothing) * nll + smoothing / c * smooth)


# -- regression losses ------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1(reduction):
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    np.testing.assert_allclose(
        F.mse_loss(t64(x), t64(y), reduction)._data, REDUCE[reduction]((x - y) ** 2)
    )
    np.testing.assert_allclose(
        F.l1_loss(t64(x), t64(y), reduction)._data, REDUCE[reduction](np.abs(x - y))
    )
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction), (t64(x), t64(y)))
    assert gradcheck(lambda a, b: F.l1_loss(a, b, reduction), (t64(x), t64(y)))
    assert nn.MSELoss(reduction=reduction)(t64(x), t64(y)).shape == (
        (3, 4) if reduction == "none" else ()
    )


def test_bad_reduction_names_the_choices():
    with pytest.raises(
        ValueError, match=r"mse_loss: reduction must be one of \('mean', 'sum', 'none'\)"
    ):
        F.mse_loss(tg.zeros(2), tg.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


def test_broadcasting_regression_target_warns():
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(tg.zeros(3, 1), tg.zeros(3))


# -- cross-entropy and nll ------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_reference(reduction, weighted, smoothing, ignore):
    x = RNG.standard_normal((5, 4))
    t = np.array([0, 3, 1, 1, 2])
    if ignore:
        t[2] = -100
    w = RNG.uniform(0.5, 2.0, 4) if weighted else None
    got = F.cross_entropy(
        t64(x),
        tg.tensor(t),
        None if w is None else tg.tensor(w),
        reduction=reduction,
        label_smoothing=smoothing,
    )
    np.testing.assert_allclose(
        got._data, np_cross_entropy(x, t, w, -100, reduction, smoothing), rtol=1e-12
    )
    fn = lambda x: F.cross_entropy(
        x,
        tg.tensor(t),
        None if w is None else tg.tensor(w),
        reduction=reduction,
        label_smoothing=smoothing,
    )
    assert gradcheck(fn, (t64(x),))


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = RNG.standard_normal((4, 3))
    t = np.array([2, 0, 1, 1])
    xt = t64(x)
    F.cross_entropy(xt, tg.tensor(t)).backward()
    expected = (np.exp(np_log_softmax(x, axis=1)) - np.eye(3)[t]) / 4
    np.testing.assert_allclose(xt.grad._data, expected, rtol=1e-12)


def test_cross_entropy_with_extra_dims_and_unbatched():
    x = RNG.standard_normal((2, 3, 4))  # (N, C, d1)
    t = RNG.integers(0, 3, (2, 4))
    ref = np_cross_entropy(
        x.transpose(0, 2, 1).reshape(-1, 3), t.reshape(-1), reduction="none"
    ).reshape(2, 4)
    np.testing.assert_allclose(F.cross_entropy(t64(x), tg.tensor(t), reduction="none")._data, ref)
    assert gradcheck(lambda x: F.cross_entropy(x, tg.tensor(t)), (t64(x),))
    one = F.cross_entropy(t64(x[0, :, 0]), tg.tensor(np.int64(t[0, 0])))
    np.testing.assert_allclose(one._data, ref[0, 0])


def test_cross_entropy_with_probability_targets():
    x = RNG.standard_normal((3, 4))
    p = RNG.dirichlet(np.ones(4), 3)
    ref = -(p * np_log_softmax(x, axis=1)).sum(1).mean()
    np.testing.assert_allclose(F.cross_entropy(t64(x), tg.tensor(p))._data, ref)
    assert gradcheck(lambda x: F.cross_entropy(x, tg.tensor(p)), (t64(x),))


def test_cross_entropy_finite_at_extreme_logits():
    for dtype in (tg.float32, tg.float64):
        x = tg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
        loss = F.cross_entropy(x, tg.tensor([1, 0]))
        loss.backward()
        assert np.isfinite(loss.item()) and np.isfinite(x.grad._data).all()
        np.testing.assert_allclose(loss.item(), (2e4 + 2e4 + np.log(2)) / 2, rtol=1e-6)


def test_nll_loss_matches_reference_and_picks_by_index():
    logp = np_log_softmax(RNG.standard_normal((4, 5)), axis=1)
    t = np.array([4, 0, 2, 2])
    np.testing.assert_allclose(
        F.nll_loss(t64(logp), tg.tensor(t))._data, -logp[np.arange(4), t].mean()
    )
    assert gradcheck(lambda lp: F.nll_loss(lp, tg.tensor(t), reduction="sum"), (t64(logp),))
    assert nn.NLLLoss()(t64(logp), tg.tensor(t)).shape == ()


@pytest.mark.parametrize(
    "loss_fn, records",
    [
        (F.cross_entropy, ["CrossEntropy"]),
        (lambda x, t: F.nll_loss(F.log_softmax(x, 1), t), ["LogSoftmax", "NllLoss"]),
    ],
    ids=["cross_entropy", "nll_loss(log_softmax)"],
)
def test_cross_entropy_records_no_one_hot(loss_fn, records):
    """cross_entropy is one fused record, nll_loss(log_softmax) two (primitives, as in
    PyTorch): no one-hot matmul, and the gradient is softmax - onehot over N (NumPy here)."""
    x = tg.randn(8, 10, requires_grad=True)
    t = np.random.default_rng(0).integers(0, 10, 8)
    with tg.enable_grad():
        before = {r.seq for r in tg.get_tape()}
        loss = loss_fn(x, tg.tensor(t))
        names = [r.name for r in tg.get_tape() if r.seq not in before]
    assert names == records
    loss.backward()
    z = x._data.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(8), t] -= 1
    np.testing.assert_allclose(x.grad._data, p / 8, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bad", [10, -1])
def test_target_out_of_range_names_the_class_count(bad):
    with pytest.raises(
        IndexError, match=rf"cross_entropy|nll_loss: target {bad} is out of bounds for 10 classes"
    ):
        F.cross_entropy(tg.zeros(2, 10), tg.tensor([0, bad]))


@pytest.mark.parametrize(
    "dtype, bad",
    [(d, b) for d in (np.int8, np.int32, np.int64, np.uint8, np.uint64) for b in (None, -1, 10)
     if not (b == -1 and np.dtype(d).kind == "u")],  # (an unsigned dtype holds no -1)
)
def test_class_index_dtypes_range_checked_in_one_pass(dtype, bad):
    """cross_entropy checks (N,) class indices of any integer dtype with one reduction (as
    unsigned, a negative index is huge): valid ones give NumPy's loss, and a negative or too
    large one (where the dtype can hold it) still raises, naming it."""
    x = np.random.default_rng(1).normal(size=(4, 10))
    t = np.array([3, 0, 9, 5])
    if bad is not None:
        t[1] = bad
        with pytest.raises(IndexError, match=rf"target {bad} is out of bounds for 10 classes"):
            F.cross_entropy(tg.tensor(x), tg.tensor(t.astype(dtype)))
        return
    want = np.mean(np.log(np.exp(x).sum(1)) - x[np.arange(4), t])
    got = F.cross_entropy(tg.tensor(x), tg.tensor(t.astype(dtype)))
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)


def test_target_shape_and_dtype_errors():
    with pytest.raises(ValueError, match=r"needs a target of shape \(3,\), got \(2,\)"):
        F.cross_entropy(tg.zeros(3, 4), tg.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(tg.zeros(3, 4), tg.tensor([0.0, 1.0, 2.0]))


# -- binary cross-entropy ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(reduction):
    p, y = RNG.uniform(0.05, 0.95, (3, 2)), RNG.uniform(0, 1, (3, 2))
    w = RNG.uniform(0.5, 1.5, (3, 2))
    ref = REDUCE[reduction](-w * (y * np.log(p) + (1 - y) * np.log(1 - p)))
    np.testing.assert_allclose(
        F.binary_cross_entropy(t64(p), t64(y), t64(w, False), reduction)._data, ref
    )
    assert gradcheck(
        lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction), (t64(p), t64(y))
    )


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    p = t64([0.0, 1.0])
    loss = F.binary_cross_entropy(p, t64([1.0, 0.0], False), reduction="none")
    np.testing.assert_allclose(loss._data, [100.0, 100.0])
    loss.sum().backward()
    assert np.isfinite(p.grad._data).all()
    with pytest.raises(
        ValueError, match=r"probabilities in \[0, 1\].*binary_cross_entropy_with_logits"
    ):
        F.binary_cross_entropy(tg.tensor([1.5]), tg.tensor([1.0]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, [2.0, 0.5]])
def test_bce_with_logits(reduction, pos_weight):
    x, y = RNG.standard_normal((3, 2)) * 3, RNG.uniform(0, 1, (3, 2))
    pw = np.ones(2) if pos_weight is None else np.array(pos_weight)
    s = expit(x)
    ref = REDUCE[reduction](-(pw * y * np.log(s) + (1 - y) * np.log(1 - s)))
    pwt = None if pos_weight is None else t64(pw, False)
    got = F.binary_cross_entropy_with_logits(t64(x), t64(y), reduction=reduction, pos_weight=pwt)
    np.testing.assert_allclose(got._data, ref, rtol=1e-10)
    assert gradcheck(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pwt),
        (t64(x), t64(y)),
    )


def test_bce_with_logits_derivative_at_zero_is_sigmoid_minus_target():
    x = t64([0.0, 0.0])
    F.binary_cross_entropy_with_logits(x, t64([1.0, 0.0], False), reduction="sum").backward()
    np.testing.assert_allclose(x.grad._data, [-0.5, 0.5])


def test_bce_with_logits_is_finite_at_extreme_logits():
    x = tg.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    loss = nn.BCEWithLogitsLoss(reduction="none")(x, tg.tensor([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_allclose(loss._data, [0, 0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad._data, [0, 0, 1, -1])


def test_loss_modules_register_weight_as_buffer():
    w = tg.tensor([1.0, 2.0])
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


@pytest.mark.parametrize("ignore_index", [-100, 0])
def test_cross_entropy_snapshots_the_targets(ignore_index):
    """Changing the target array after the forward must not reroute the gradient."""
    logits = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    expected = tg.tensor(logits, requires_grad=True)
    F.cross_entropy(expected, tg.tensor(y.copy()), ignore_index=ignore_index).backward()
    z = tg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(z, y, ignore_index=ignore_index)
    y[:] = 1  # the caller reuses its buffer before backward
    loss.backward()
    np.testing.assert_array_equal(z.grad._data, expected.grad._data)
