"""The checker is checked: gradcheck / gradgradcheck must catch a derivative that is 0.1% off.

Tolerances. An element passes when |analytic - numeric| <= atol + rtol * |numeric|. A
derivative that is 0.1% wrong differs by exactly 1e-3 * |numeric|, so with PyTorch's
default rtol=1e-3 the error sits *on* the boundary (plus atol=1e-5 of slack): it passes, and
nothing is learned. In float64 the central difference with eps=1e-6 is good to about 1e-9
relative (rounding ~1e-16/1e-6 plus truncation eps² ~ 1e-12), so rtol=1e-5 and atol=1e-8
still pass every correct op with four orders of margin while a 0.1% error fails by a factor
of 100. The tests below use those tight tolerances to fail, and show the defaults pass.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import ops
from tinygrad_edu.gradcheck import GradcheckError, gradcheck, gradgradcheck, main, numerical_grad

TIGHT = dict(atol=1e-8, rtol=1e-5)


def x64(*shape, seed=0, lo=-1.5, hi=1.5, requires_grad=True):
    rng = np.random.default_rng(seed)
    return tg.tensor(rng.uniform(lo, hi, shape), dtype=tg.float64, requires_grad=requires_grad)


class ExpWrongFirst(tg.Function):
    """exp with a first derivative 0.1% too large."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * 1.001


class ExpWrongSecond(tg.Function):
    """exp with an exact first derivative whose own derivative is 0.1% too large: the
    backward is written with ExpWrongFirst, so only create_graph sees the error."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ExpWrongFirst.apply(x)


class Cube(tg.Function):
    """y = x**3;  dx = grad * 3 x**2 (correct, to both orders)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


# -- numerical_grad ---------------------------------------------------------------------------------
def test_numerical_grad_is_a_central_difference_divided_by_2e() -> None:
    # for x**3 at x = 1: (f(1+e) - f(1-e)) / 2e = 3 + e² exactly; a forward difference would give
    # 3 + 3e + e², and dividing by e (the lecture's eq. 9 erratum) would give 6 + 2e²
    x = tg.tensor([1.0], dtype=tg.float64)
    (g,) = numerical_grad(lambda x: (x**3).sum(), (x,), eps=1e-3)
    assert abs(g[0] - (3.0 + 1e-6)) < 1e-9


def test_numerical_grad_one_array_per_input_and_none_for_non_float() -> None:
    a, b = x64(2, 3), x64(3, seed=1)
    idx = tg.tensor([0, 2])
    before = a._data.copy()
    ga, gb, gi = numerical_grad(lambda a, b, i: (a * b)[:, i].sum(), (a, b, idx))
    np.testing.assert_allclose(ga, np.tile(np.where(np.isin(range(3), [0, 2]), b._data, 0), (2, 1)),
                               atol=1e-8)
    np.testing.assert_allclose(gb, np.where(np.isin(range(3), [0, 2]), a._data.sum(0), 0), atol=1e-8)
    assert gi is None
    np.testing.assert_array_equal(a._data, before)  # inputs are never modified


def test_numerical_grad_with_grad_output_and_the_non_scalar_error() -> None:
    x = x64(3)
    w = np.array([1.0, -2.0, 0.5])
    (g,) = numerical_grad(lambda x: x * x, (x,), grad_output=w)
    np.testing.assert_allclose(g, 2 * x._data * w, atol=1e-8)
    with pytest.raises(ValueError, match="one-element"):
        numerical_grad(lambda x: x * x, (x,))


# -- first order ------------------------------------------------------------------------------------
def test_correct_ops_pass_at_tight_tolerances() -> None:
    a, b = x64(3, 4), x64(4, 2, seed=1)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (a, b), **TIGHT)
    assert gradcheck(Cube.apply, (x64(5),), **TIGHT)
    assert gradcheck(lambda x: x.softmax(-1), (x64(2, 5),), **TIGHT)


def test_a_first_derivative_0_1_percent_off_fails_at_tight_tolerances() -> None:
    x = x64(4)
    with pytest.raises(GradcheckError):
        gradcheck(ExpWrongFirst.apply, (x,), **TIGHT)
    assert gradcheck(ExpWrongFirst.apply, (x,), **TIGHT, raise_exception=False) is False
    # ... and at PyTorch's defaults (rtol=1e-3) the same error is on the boundary: it passes
    assert gradcheck(ExpWrongFirst.apply, (x,))


def test_fast_mode_passes_correct_and_catches_wrong() -> None:
    a, b = x64(30, 20), x64(20, 10, seed=1)
    assert gradcheck(lambda a, b: a @ b, (a, b), fast=True, **TIGHT)
    with pytest.raises(GradcheckError, match="projection"):
        gradcheck(ExpWrongFirst.apply, (x64(50),), fast=True, **TIGHT)


def test_error_names_input_element_and_both_values() -> None:
    class DoubleWrong(tg.Function):
        """y = a * b, with b's derivative doubled."""

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a * 2.0

    a = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([[0.5, 0.25, 2.0], [1.0, 3.0, 0.1]], dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(DoubleWrong.apply, (a, b))
    msg = str(info.value)
    assert "input 1" in msg and "(2, 3)" in msg
    # the worst element: b[1, 2] with d/db = a = 6 (analytic says 12)
    assert "element (1, 2)" in msg and "output 0 element (1, 2)" in msg
    assert "analytic 12.0" in msg and "numeric 6.0" in msg


def test_only_inputs_that_require_grad_are_checked() -> None:
    class WrongForB(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad * 7.0

    a, b = x64(3), x64(3, requires_grad=False)
    assert gradcheck(WrongForB.apply, (a, b), **TIGHT)
    b.requires_grad_()
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(WrongForB.apply, (a, b), **TIGHT)


def test_several_outputs_are_all_checked() -> None:
    x = x64(2, 3)
    assert gradcheck(lambda x: (x.exp(), x.sum(0)), (x,), **TIGHT)
    with pytest.raises(GradcheckError, match="output 1"):
        gradcheck(lambda x: (x.exp(), ExpWrongFirst.apply(x)), (x,), **TIGHT)


def test_float32_inputs_and_nothing_to_check_are_refused() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(tg.exp, (tg.tensor([1.0], requires_grad=True),))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(tg.exp, (x64(2, requires_grad=False),))


# -- second order -----------------------------------------------------------------------------------
def test_gradgradcheck_passes_correct_second_derivatives() -> None:
    a, b = x64(2, 3), x64(3, seed=1)
    assert gradgradcheck(lambda a, b: (a @ b).sigmoid(), (a, b), **TIGHT)
    assert gradgradcheck(Cube.apply, (x64(4),), **TIGHT)
    assert gradgradcheck(lambda x: x.log_softmax(-1), (x64(2, 4),), **TIGHT)
    assert gradgradcheck(lambda x: x.sqrt(), (x64(3, lo=0.5, hi=2.0),), fast=True, **TIGHT)


def test_a_second_derivative_0_1_percent_off_fails_at_tight_tolerances() -> None:
    x = x64(4)
    assert gradcheck(ExpWrongSecond.apply, (x,), **TIGHT)  # first order is exact
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(ExpWrongSecond.apply, (x,), **TIGHT)
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(ExpWrongSecond.apply, (x,), fast=True, **TIGHT)
    assert gradgradcheck(ExpWrongSecond.apply, (x,), raise_exception=False, **TIGHT) is False


def test_gradgradcheck_with_given_grad_outputs() -> None:
    x = x64(3)
    w = tg.tensor([1.0, 0.0, -2.0], dtype=tg.float64)
    assert gradgradcheck(lambda x: x * x * x, (x,), grad_outputs=w, **TIGHT)
    with pytest.raises(ValueError, match="grad_outputs"):
        gradgradcheck(lambda x: x * x, (x,), grad_outputs=tg.ones(2, dtype=tg.float64))


def test_gradgradcheck_names_a_primitive_without_a_second_derivative() -> None:
    class FirstOnly(tg.Function):
        twice_differentiable = False

        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    with pytest.raises(NotImplementedError, match="FirstOnly"):
        gradgradcheck(FirstOnly.apply, (x64(2),))


# -- python -m tinygrad_edu gradcheck ----------------------------------------------------------------
def test_cli_table_covers_every_primitive(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["op", "shapes", "max", "err", "2nd", "order", "pass"]
    for name in ops.PRIMITIVES:
        assert any(line.split()[:1] == [name] and line.rstrip().endswith("ok")
                   for line in out.splitlines()), name
    assert f"{len(ops.PRIMITIVES)}/{len(ops.PRIMITIVES)} primitives pass" in out


def test_cli_fails_on_a_wrong_primitive(capsys, monkeypatch) -> None:
    class BadExp(ExpWrongFirst):  # 10% off: clearly beyond the CLI's rtol=1e-3
        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y * 1.1

        @staticmethod
        def gradcheck_sample():
            return BadExp.apply, [np.linspace(1.0, 2.0, 4)]

    class NoSample(ExpWrongFirst):
        pass

    monkeypatch.setitem(ops.PRIMITIVES, "BadExp", BadExp)
    monkeypatch.setitem(ops.PRIMITIVES, "NoSample", NoSample)
    assert main([]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("BadExp") and line.rstrip().endswith("FAIL") for line in out.splitlines())
    assert "NoSample" in out and "no sample input" in out


def test_cli_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "gradcheck"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MatMul" in done.stdout and "primitives pass" in done.stdout
