"""Results that would otherwise be silently wrong: gradients at kinks, at infinities and NaNs,
on ties, in ignored rows, and what a backward may read after an in-place change.

Each expected value comes from closed-form math or PyTorch's documented rule, written out
here; gradients away from the special points are checked against central differences.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import log_softmax as np_log_softmax
from scipy.special import softmax as np_softmax

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck

inf, nan = math.inf, math.nan


def t64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def grad_of(f, *values):
    """The gradients of f(*xs).sum() with respect to each x, as arrays."""
    xs = [t64(v) for v in values]
    f(*xs).sum().backward()
    return [x.grad._data for x in xs] if len(xs) > 1 else xs[0].grad._data


# -- no NumPy warning reaches the user; small integer powers -------------------------------------
def test_ops_give_inf_and_nan_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        x = t64([-1.0, 0.0, 4.0])
        assert np.isnan(x.sqrt()._data[0]) and x.log()._data[1] == -inf
        assert (1.0 / x)._data[1] == inf and tg.exp(t64([1000.0]))._data[0] == inf
        assert np.isnan((t64([inf]) - inf)._data[0]) and np.isnan((t64([0.0]) * inf)._data[0])
        y = x.sqrt()
        y.sum().backward()
        assert np.isnan(x.grad._data[0]) and x.grad._data[1] == inf and x.grad._data[2] == 0.25


@pytest.mark.parametrize("b", [2, 3, 4, -2, -3, -4, 3.0, -2.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_integer_powers_equal_numpys(b, dtype):
    a = np.array([-2.5, -1.0, -0.0, 0.0, 0.7, 3.0, inf, -inf, nan], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = np.power(a.astype(np.float64), b)
    got = (tg.tensor(a) ** b)._data
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_small_integer_powers_differentiate_twice_at_negative_bases():
    x = t64([-1.7, -0.4, 0.9])
    for b in (3, -3, 4, -2):
        assert gradcheck(lambda x: x**b, (x,)) and gradgradcheck(lambda x: x**b, (x,))


# -- a mask routes the gradient by selecting, never 0 * inf -----------------------------------
def test_sqrt_of_relu_and_clamp_at_negative_inputs_has_zero_gradient():
    # d sqrt(relu(x)) = [x > 0] / (2 sqrt(x)): 0 where x <= 0, however large sqrt's slope
    assert np.array_equal(grad_of(lambda x: x.relu().sqrt(), [-1.0, 0.0, 4.0]), [0, 0, 0.25])
    assert np.array_equal(grad_of(lambda x: x.clamp(min=0).sqrt(), [-1.0, 4.0]), [0, 0.25])
    # clamp's bounds are inside (PyTorch): sqrt's infinite slope at 0 passes through
    assert grad_of(lambda x: x.clamp(min=0).sqrt(), [0.0])[0] == inf
    assert np.array_equal(grad_of(lambda x: tg.maximum(x, 0.0).sqrt(), [-1.0, 4.0]), [0, 0.25])
    assert np.array_equal(grad_of(lambda x: (-tg.minimum(x, 0.0)).sqrt(), [1.0, -4.0]), [0, -0.25])


def test_a_dead_relu_unit_leaves_the_other_units_gradients_finite():
    layer = nn.Linear(2, 2).double()
    with tg.no_grad():
        layer.weight.copy_(tg.tensor([[1.0, 1.0], [-1.0, -1.0]], dtype=tg.float64))
        layer.bias.zero_()
    x = t64([[1.0, 2.0]], requires_grad=False)
    nn.Sequential(layer, nn.ReLU())(x).sqrt().sum().backward()  # h = [3, -3]: unit 2 is dead
    s = 1 / (2 * math.sqrt(3))  # d sqrt(h) / dh at h = 3
    np.testing.assert_allclose(layer.weight.grad._data, [[s, 2 * s], [0, 0]], rtol=1e-14)
    np.testing.assert_allclose(layer.bias.grad._data, [s, 0], rtol=1e-14)


@pytest.mark.parametrize(
    "reduce",
    [lambda x: x.max(), lambda x: x.amax(1), lambda x: x.max(1).values, lambda x: x.max(1)[0]],
)
def test_max_sends_an_infinite_gradient_only_to_the_maximum(reduce):
    g = grad_of(lambda x: reduce(x).sqrt(), [[0.0, -1.0, -2.0]])
    assert np.array_equal(g, [[inf, 0, 0]])


def test_max_pool_sends_a_nan_gradient_only_to_the_argmax():
    x = t64([[[[-1.0, -2.0], [-3.0, -4.0]]]])
    F.max_pool2d(x, 2).sqrt().sum().backward()  # sqrt(-1): nan, with a nan slope
    g = x.grad._data.ravel()
    assert np.isnan(g[0]) and np.array_equal(g[1:], [0, 0, 0])


def test_second_order_through_selected_masks():
    x = t64([-1.3, 0.4, 2.1])
    for f in (
        lambda x: (x.relu() ** 3).sum(),
        lambda x: (x.clamp(-1.0, 1.0) ** 3).sum(),
        lambda x: (tg.maximum(x, x * 0.5) ** 3).sum(),
        lambda x: (x.max() ** 3),
    ):
        assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))


def test_embedding_padding_row_keeps_its_values_and_gets_no_gradient():
    w = t64([[1.0, 2.0], [3.0, inf]])
    out = F.embedding(tg.tensor([0, 1, 1]), w, padding_idx=1)
    assert np.array_equal(out._data, [[1, 2], [3, inf], [3, inf]])  # weight[idx], as PyTorch
    (out * 2.0).sum().backward()
    assert np.array_equal(w.grad._data, [[2, 2], [0, 0]])


# -- NaN inputs: PyTorch's rules ----------------------------------------------------------------
def test_gradients_at_nan_inputs_follow_pytorchs_rules():
    # relu: zero only where x <= 0 (false for NaN)
    assert np.array_equal(grad_of(lambda x: x.relu(), [nan, 1.0, -1.0]), [1, 1, 0])
    # relu_ in place: its saved output decides the same way
    assert np.array_equal(grad_of(lambda x: (x * 1.0).relu_(), [nan, -1.0]), [1, 0])
    # abs: sign(x), with sign(NaN) = 0
    assert np.array_equal(grad_of(lambda x: x.abs(), [nan, -2.0, 0.0]), [0, -1, 0])
    # clamp: passes inside [lo, hi] only, and NaN is not inside
    assert np.array_equal(grad_of(lambda x: x.clamp(-1, 1), [nan, 0.5, 2.0]), [0, 1, 0])
    # maximum/minimum: zero where the input loses; NaN neither loses nor ties, so both get all
    ga, gb = grad_of(tg.maximum, [nan, 2.0, 1.0], [1.0, nan, 3.0])
    assert np.array_equal(ga, [1, 1, 0]) and np.array_equal(gb, [1, 1, 1])
    ga, gb = grad_of(tg.minimum, [nan, 2.0, 1.0], [1.0, nan, 3.0])
    assert np.array_equal(ga, [1, 1, 1]) and np.array_equal(gb, [1, 1, 0])


def test_a_nan_maximum_takes_the_gradient():
    # the maximum of a tensor holding NaN is NaN: max() shares among the NaNs, max(dim) gives
    # it to the returned index (the first NaN)
    assert np.array_equal(grad_of(lambda x: x.max(), [nan, 1.0, nan]), [0.5, 0, 0.5])
    x = t64([1.0, nan, nan])
    values, index = x.max(0)
    values.backward()
    assert np.isnan(values.item()) and index.item() == 1
    assert np.array_equal(x.grad._data, [0, 1, 0])
    x = t64([[[[1.0, nan], [2.0, 3.0]]]])
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert np.isnan(y.item()) and np.array_equal(x.grad._data.ravel(), [0, 1, 0, 0])


# -- ties -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_dim_sends_the_whole_gradient_to_the_returned_index(op, keepdim):
    data = np.array([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0], [3.0, 1.0, 3.0, 1.0]])
    for dim in (0, 1, -1):
        x = t64(data)
        values, index = getattr(x, op)(dim, keepdim=keepdim)
        arg = np.expand_dims((np.argmax if op == "max" else np.argmin)(data, axis=dim), dim)
        kept = (lambda a: a) if keepdim else (lambda a: np.squeeze(a, dim))
        assert np.array_equal(index._data, kept(arg))
        assert np.array_equal(values._data, kept(np.take_along_axis(data, arg, dim)))
        v = np.arange(1.0, arg.size + 1).reshape(arg.shape)  # a distinct gradient per output
        (values * tg.tensor(kept(v))).sum().backward()
        expected = np.zeros_like(data)
        np.put_along_axis(expected, arg, v, dim)  # all of it at the returned index
        assert np.array_equal(x.grad._data, expected)


def test_full_max_and_amax_share_evenly_among_ties():
    assert np.array_equal(grad_of(lambda x: x.max(), [1.0, 3.0, 3.0]), [0, 0.5, 0.5])
    assert np.array_equal(grad_of(lambda x: x.amax(1), [[1.0, 3.0, 3.0]]), [[0, 0.5, 0.5]])
    assert np.array_equal(grad_of(lambda x: x.amin(), [1.0, 1.0, 3.0]), [0.5, 0.5, 0])
    ga, gb = grad_of(tg.maximum, [1.0, 2.0], [1.0, 3.0])
    assert np.array_equal(ga, [0.5, 0]) and np.array_equal(gb, [0.5, 1])


def test_max_pool_ties_go_to_the_first_maximum_of_each_window():
    x = t64(np.ones((1, 1, 2, 4)))
    F.max_pool2d(x, 2).sum().backward()
    assert np.array_equal(x.grad._data[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


# -- kinks and zero denominators: the derivative's limit ----------------------------------------
def test_power_at_zero_takes_the_limit():
    assert np.array_equal(grad_of(lambda x: x**0, [0.0, 2.0]), [0, 0])  # x**0 is constant 1
    assert np.array_equal(grad_of(lambda x: x**0.0, [0.0]), [0])
    # a tensor exponent: d/da at a = b = 0 is 0; d/db of 0**b is 0 for b >= 0 (0**b is then
    # constant), and y log a = inf * (-inf) = -inf for b < 0
    ga, gb = grad_of(lambda a, b: a**b, [0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.5, -1.0])
    assert np.array_equal(ga[:2], [0, 0]) and ga[2] == inf and ga[3] == -inf
    assert np.array_equal(gb, [0, 0, 0, -inf])
    assert np.array_equal(grad_of(lambda e: 0.0**e, [0.0, 2.0, 0.5, -1.0]), [0, 0, 0, -inf])
    # away from the limits: y log a
    np.testing.assert_allclose(grad_of(lambda e: 2.0**e, [3.0]), [8 * math.log(2)], rtol=1e-14)
    assert np.isnan(grad_of(lambda e: (-2.0) ** e, [2.0])[0])  # log of a negative base


def test_std_of_a_constant_row_has_zero_gradient():
    # std is a cone at a constant row (no derivative); PyTorch's rule takes 0 there
    x = t64([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    s = x.std(1)
    s.sum().backward()
    row = np.array([1.0, 2.0, 4.0])
    sd = row.std(ddof=1)
    assert s._data[0] == 0 and s._data[1] == pytest.approx(sd, rel=1e-14)
    np.testing.assert_allclose(x.grad._data, [[0, 0, 0], (row - row.mean()) / (2 * sd)], rtol=1e-14)
    assert np.array_equal(grad_of(lambda x: x.std(), [5.0, 5.0]), [0, 0])
    x = t64([0.3, -1.2, 2.0])
    assert gradcheck(lambda x: x.std(), (x,)) and gradgradcheck(lambda x: x.std(), (x,))


# -- ignored rows take no part --------------------------------------------------------------------
X_VALID = np.array([1.0, 2.0, 3.0])
X_PAD = np.array([-inf, 0.0, nan])  # a padding row: its logits are anything


def _valid_row_reference(eps: float):
    """Loss and logit gradient of the one valid row (target 0) of 3 classes, with label
    smoothing eps: (1 - eps)·(-logp[0]) + eps/3 · Σ -logp; d/dx = softmax - smoothed one-hot."""
    logp = np_log_softmax(X_VALID)
    loss = (1 - eps) * -logp[0] + eps / 3 * -logp.sum()
    target = np.full(3, eps / 3)
    target[0] += 1 - eps
    return loss, np_softmax(X_VALID) - target


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_skips_ignored_rows_whatever_their_logits(reduction, eps):
    x = t64([X_VALID, X_PAD])
    loss = F.cross_entropy(x, tg.tensor([0, -100]), reduction=reduction, label_smoothing=eps)
    loss.sum().backward()
    expected, grad_row = _valid_row_reference(eps)  # the mean is over the one valid row
    expected = expected if reduction != "none" else [expected, 0]
    np.testing.assert_allclose(loss._data, expected, rtol=1e-13)
    np.testing.assert_allclose(x.grad._data, [grad_row, [0, 0, 0]], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_skips_ignored_rows_whatever_their_values(reduction):
    x = t64([[-1.0, -2.0], [-inf, nan]])
    loss = F.nll_loss(x, tg.tensor([1, -100]), reduction=reduction)
    loss.sum().backward()
    np.testing.assert_array_equal(loss._data, 2.0 if reduction != "none" else [2.0, 0.0])
    np.testing.assert_array_equal(x.grad._data, [[0, -1], [0, 0]])


def test_an_ignored_row_gets_zero_even_from_an_infinite_gradient():
    # loss 'none' then sqrt: sqrt'(0) = inf flows into the ignored row's zero loss
    for loss_fn, x0 in ((F.cross_entropy, [[1.0, 2.0], [3.0, 4.0]]), (F.nll_loss, -np.eye(2))):
        x = t64(x0)
        loss_fn(x, tg.tensor([0, -100]), reduction="none").sqrt().sum().backward()
        assert np.array_equal(x.grad._data[1], [0, 0]) and np.isfinite(x.grad._data).all()


def test_a_row_of_a_zero_weight_class_takes_no_part():
    x = t64([X_VALID, [0.0, -inf, 1.0]])
    w = tg.tensor([1.0, 0.0, 1.0], dtype=tg.float64)
    loss = F.cross_entropy(x, tg.tensor([0, 1]), weight=w, reduction="sum")
    loss.backward()
    expected, grad_row = _valid_row_reference(0.0)
    assert loss.item() == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(x.grad._data, [grad_row, [0, 0, 0]], rtol=1e-13, atol=1e-15)


def test_binary_cross_entropy_of_a_nan_probability_raises():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: .*\[0, 1\].*nan"):
        F.binary_cross_entropy(tg.tensor([nan, 0.5]), tg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: .*1\.5"):
        F.binary_cross_entropy(tg.tensor([1.5, 0.5]), tg.tensor([1.0, 0.0]))


# -- 0-d tensors and empty dims -------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, -1])
def test_dim_0_or_minus_1_of_a_0d_tensor_reduces_nothing(dim):
    for f, expected, slope in [
        (lambda x: x.sum(dim), 2.0, 1.0),
        (lambda x: x.mean(dim), 2.0, 1.0),
        (lambda x: x.amax(dim), 2.0, 1.0),
        (lambda x: x.max(dim).values, 2.0, 1.0),
        (lambda x: x.min(dim).values, 2.0, 1.0),
        (lambda x: x.logsumexp(dim), 2.0, 1.0),  # log(exp(x)) = x
        (lambda x: x.softmax(dim), 1.0, 0.0),  # exp(x) / exp(x) = 1
        (lambda x: x.log_softmax(dim), 0.0, 0.0),
    ]:
        x = t64(2.0)
        y = f(x)
        assert y.shape == () and y.item() == expected
        y.backward()
        assert x.grad.item() == slope
    assert t64(2.0).max(dim).indices.item() == 0 and t64(2.0).argmax(dim).item() == 0


def test_softmax_and_logsumexp_over_an_empty_dim():
    assert tg.softmax(tg.zeros(2, 0), -1).shape == (2, 0)
    assert tg.softmax(tg.zeros(0, 3), -1).shape == (0, 3)
    x = t64(np.zeros((2, 0)))
    lse = x.logsumexp(1)  # log of an empty sum: log 0
    assert np.array_equal(lse._data, [-inf, -inf])
    lse.sum().backward()
    assert x.grad.shape == (2, 0)
    assert tg.zeros(0).logsumexp(0).item() == -inf
    assert tg.zeros(0, 2).logsumexp(1).shape == (0,)


# -- a backward reads only what it saved; a changed saved value still raises ----------------------
def test_changing_an_input_whose_value_no_gradient_reads_is_allowed():
    x = t64([1.0, 2.0])
    y = x * 2.0  # dy/dx = 2 reads only the constant
    with tg.no_grad():
        x.add_(1)
    y.sum().backward()
    assert np.array_equal(x.grad._data, [2, 2])

    c, w = t64([3.0, 4.0], requires_grad=False), t64([1.0, 2.0])
    y = c * w  # dw reads c; nothing reads w
    with tg.no_grad():
        w.mul_(10)
    y.sum().backward()
    assert np.array_equal(w.grad._data, [3, 4])


def test_changing_a_value_a_gradient_reads_raises_naming_the_op():
    c, w = t64([3.0, 4.0], requires_grad=False), t64([1.0, 2.0])
    y = c * w
    c.add_(1)  # dw reads c
    with pytest.raises(RuntimeError, match=r"Mul\.backward: .*its input 0.*add_"):
        y.sum().backward()


def test_linear_and_matmul_save_only_what_their_gradients_read():
    layer = nn.Linear(3, 2).double()
    x = t64(np.arange(6.0).reshape(2, 3), requires_grad=False)
    y = layer(x)  # dW = gradᵀ x and db read x only: the weight is not saved
    with tg.no_grad():
        layer.weight.mul_(2)
    y.sum().backward()
    assert np.array_equal(layer.weight.grad._data, np.tile(x._data.sum(0), (2, 1)))
    x.requires_grad = True
    y = layer(x)  # dx = grad W reads the weight
    with tg.no_grad():
        layer.weight.mul_(2)
    with pytest.raises(RuntimeError, match=r"Linear\.backward"):
        y.sum().backward()

    a, b = t64(np.ones((2, 3))), t64(np.ones((3, 2)), requires_grad=False)
    y = a @ b  # da = grad bᵀ reads b only
    with tg.no_grad():
        a.mul_(5)
    y.sum().backward()
    assert np.array_equal(a.grad._data, np.full((2, 3), 2.0))
    y = a @ b
    b.add_(1)
    with pytest.raises(RuntimeError, match=r"MatMul\.backward: .*its input 1"):
        y.sum().backward()
