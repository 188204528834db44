"""Anomaly detection: inside ``tg.detect_anomaly()`` the first forward or backward that makes
NaN or inf raises ``AnomalyError`` naming the op, the pass and the source line that created the
op. Off by default. (Its cost is measured in benchmarks/bench_anomaly.py, never here.)"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import AnomalyError, Function

HERE = __file__


def next_line() -> int:
    return sys._getframe(1).f_lineno + 1


@pytest.fixture(autouse=True)
def quiet_numpy():
    """NumPy's own divide/log warnings are beside the point here."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


class NaNGrad(Function):
    """y = 2x; a deliberately broken backward that returns NaN."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def test_off_by_default_and_nothing_raises_or_is_recorded():
    assert not tg.is_anomaly_enabled()
    x = tg.tensor([-1.0, 4.0], requires_grad=True)
    y = x.log()  # NaN at -1: no error outside the block
    assert np.isnan(y._data[0])
    assert y._record.where is None  # no source line is looked up when off
    y.sum().backward()
    with tg.detect_anomaly():
        assert tg.is_anomaly_enabled()
    assert not tg.is_anomaly_enabled()


# (op name, a forward that makes NaN/inf at that op, the non-finite value)
FORWARD_CASES = [
    ("Log", lambda x: (x - 2.0).log(), "NaN"),
    ("Sqrt", lambda x: (x - 2.0).sqrt(), "NaN"),
    ("Exp", lambda x: (x * 100.0).exp(), "inf"),
    ("Div", lambda x: x / (x - 1.0), "inf"),
    ("Pow", lambda x: (x - 2.0) ** 0.5, "NaN"),
    ("MatMul", lambda x: x.reshape(1, 2) @ tg.tensor([[np.inf], [-np.inf]]), "NaN"),
]


@pytest.mark.parametrize("op, f, bad", FORWARD_CASES, ids=[c[0] for c in FORWARD_CASES])
def test_forward_nan_or_inf_names_op_pass_and_line(op, f, bad):
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(AnomalyError) as e:
        f(x)
    msg = str(e.value)
    assert msg.startswith(f"{op}: the forward produced {bad}"), msg
    assert f"{HERE}:{f.__code__.co_firstlineno}" in msg, msg  # the line of the op: the lambda's


def test_the_first_op_that_makes_nan_is_named_not_a_later_one():
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    with tg.detect_anomaly():
        h = x * 2.0
        with pytest.raises(AnomalyError, match=r"^Log: the forward produced NaN"):
            h = (h - 4.0).log().exp().sum()  # Log makes the NaN; Exp and Sum only carry it


def test_backward_inf_names_the_op_and_where_it_was_created():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.detect_anomaly():
        line = next_line()
        y = x.sqrt()  # finite forward; d sqrt/dx = 1 / (2 sqrt x) is inf at 0
        loss = (y * 3.0).sum()
        with pytest.raises(AnomalyError) as e:
            loss.backward()
    msg = str(e.value)
    assert msg.startswith("Sqrt: the backward produced inf"), msg  # not the Div inside it
    assert f"{HERE}:{line}" in msg, msg
    assert x.grad is None


def test_backward_nan_from_a_custom_function():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        line = next_line()
        y = NaNGrad.apply(x)
        with pytest.raises(AnomalyError) as e:
            (y * y).sum().backward()
    msg = str(e.value)
    assert msg.startswith("NaNGrad: the backward produced NaN"), msg
    assert f"{HERE}:{line}" in msg


def test_backward_check_when_the_forward_ran_outside_the_block():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    loss = x.sqrt().sum()
    with tg.detect_anomaly(), pytest.raises(AnomalyError) as e:
        loss.backward()
    msg = str(e.value)
    assert msg.startswith("Sqrt: the backward produced inf") and "outside detect_anomaly" in msg


def test_without_anomaly_mode_the_same_backward_is_silent():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    x.sqrt().sum().backward()
    assert np.isinf(x.grad._data[0])


def test_finite_runs_are_unchanged_and_gradients_equal():
    w = tg.randn(4, 3, requires_grad=True)
    x = tg.randn(5, 4)
    (w1,) = tg.grad((x @ w).tanh().sum(), w)
    with tg.detect_anomaly():
        (w2,) = tg.grad((x @ w).tanh().sum(), w)
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())


def test_second_order_backward_is_checked_too():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (x * x * x).sum()
        (g,) = tg.grad(y, x, create_graph=True)  # 3x², finite
        z = (g.sqrt()).sum()  # sqrt(3x²): finite forward, inf gradient at 0
        with pytest.raises(AnomalyError, match="^Sqrt: the backward produced inf"):
            z.backward()


def test_decorator_nesting_and_restore_after_an_error():
    @tg.detect_anomaly()
    def f(x):
        assert tg.is_anomaly_enabled()
        with tg.detect_anomaly(check_nan=False):
            assert not tg.is_anomaly_enabled()
            x.log()  # NaN, not checked here
        return x.log()

    with pytest.raises(AnomalyError):
        f(tg.tensor([-1.0], requires_grad=True))
    assert not tg.is_anomaly_enabled()


def test_backward_steps_restores_anomaly_mode_for_the_callers_code():
    a = tg.tensor(2.0, requires_grad=True)
    with tg.detect_anomaly():
        modes = [tg.is_anomaly_enabled() for _ in tg.backward_steps((a * a).exp())]
    assert modes == [True, True]


def test_integer_and_bool_results_are_not_checked():
    with tg.detect_anomaly():
        i = tg.arange(4) // 2
        m = tg.tensor([1.0, np.nan]).isnan()
    assert i.tolist() == [0, 0, 1, 1] and m.tolist() == [False, True]
