"""Backward semantics of issue 2: gradient argument, accumulation, retain_graph, tg.grad,
grad modes, what gets recorded, and second derivatives with create_graph."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import numerical_grad


def f64(data, requires_grad=True):
    return tg.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


def test_lecture_example_local_derivatives() -> None:
    # out = 3 (a + b c): d/da = 3, d/db = 3c, d/dc = 3b
    a, b, c = f64(1.0), f64(2.0), f64(-4.0)
    out = 3 * (a + b * c)
    out.backward()
    assert (a.grad.item(), b.grad.item(), c.grad.item()) == (3.0, -12.0, 6.0)


def test_gradient_argument_is_the_vector_of_a_vjp() -> None:
    x = f64([1.0, 2.0, 3.0])
    y = x * x
    v = np.array([1.0, 0.0, -2.0])
    y.backward(tg.tensor(v))
    np.testing.assert_array_equal(x.grad._data, 2 * x._data * v)
    z = f64([1.0, 2.0])
    (z * 3).backward([1.0, 1.0])  # array-likes are accepted too
    np.testing.assert_array_equal(z.grad._data, [3.0, 3.0])


def test_leaf_grads_accumulate_across_calls_until_zeroed() -> None:
    x = f64([1.0, 2.0])
    for k in range(1, 4):
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad._data, k * 2 * x._data)
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [5.0, 5.0])
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])


def test_a_tensor_used_twice_accumulates_within_one_backward() -> None:
    x = f64([3.0])
    (x * x + x).sum().backward()  # 2x + 1
    assert x.grad.item() == 7.0


def test_second_backward_needs_retain_graph() -> None:
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad._data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad._data, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_records_are_released_after_backward() -> None:
    x = f64([1.0, 2.0])
    y = (x * 2).sum()
    assert len(tg.get_tape()) == 2
    y.backward()
    assert len(tg.get_tape()) == 0


def test_tg_grad_returns_gradients_without_touching_grad() -> None:
    x, w = f64([1.0, 2.0]), f64([3.0, -1.0])
    y = (x * w).sum()
    gx, gw = tg.grad(y, [x, w])
    np.testing.assert_array_equal(gx._data, w._data)
    np.testing.assert_array_equal(gw._data, x._data)
    assert x.grad is None and w.grad is None
    (g,) = tg.grad((x * x), x, grad_outputs=tg.tensor([1.0, 1.0], dtype=tg.float64))
    np.testing.assert_array_equal(g._data, 2 * x._data)
    assert not g.requires_grad


def test_tg_grad_of_an_intermediate_and_unused_inputs() -> None:
    x, u = f64([2.0]), f64([5.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = tg.grad(y, h, retain_graph=True)
    assert gh.item() == 12.0  # dy/dh = 2h, h = 6
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad(y, [x, u], retain_graph=True)
    gx, gu = tg.grad(y, [x, u], allow_unused=True)
    assert gx.item() == 36.0 and gu is None


def test_no_grad_enable_grad_set_grad_enabled_as_context_managers() -> None:
    x = f64([1.0])
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            z = x * 2
        with tg.set_grad_enabled(True):
            w = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and w.requires_grad
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tg.is_grad_enabled()
    del z, w


def test_grad_modes_as_decorators() -> None:
    x = f64([1.0])

    @tg.no_grad()
    def evaluate(t):
        return t * 2

    @tg.enable_grad()
    def train(t):
        return t * 2

    @tg.set_grad_enabled(False)
    def off(t):
        return t * 2

    assert not evaluate(x).requires_grad and not off(x).requires_grad
    with tg.no_grad():
        assert train(x).requires_grad
    assert tg.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()


def test_nothing_is_recorded_under_no_grad_or_without_inputs_needing_grad() -> None:
    x = f64([1.0, 2.0])
    c = f64([1.0, 2.0], requires_grad=False)
    tape = tg.get_tape()
    with tg.no_grad():
        y = (x * x).exp().sum()
    assert len(tape) == 0 and not y.requires_grad and y.grad_fn is None
    z = (c * c).exp().sum()
    assert len(tape) == 0 and not z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.backward()


def test_create_graph_second_derivatives() -> None:
    x = f64([0.3, -1.2, 2.0])
    y = (x**3 + x.sin()).sum()
    (g,) = tg.grad(y, x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g._data, 3 * x._data**2 + np.cos(x._data))
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h._data, 6 * x._data - np.sin(x._data))
    (num,) = numerical_grad(lambda t: (3 * t**2 + t.cos()).sum(), (x.detach(),))
    np.testing.assert_allclose(h._data, num, rtol=1e-6)


def test_backward_create_graph_leaves_a_differentiable_grad() -> None:
    x = f64([1.5, 2.0])
    (x.exp() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad
    x.grad = None
    gx.sum().backward()  # d/dx (e^x (1 + x)) = e^x (2 + x)
    np.testing.assert_allclose(x.grad._data, np.exp(x._data) * (2 + x._data))


def test_third_derivative() -> None:
    x = f64(0.7)
    (g1,) = tg.grad(x.tanh(), x, create_graph=True)
    (g2,) = tg.grad(g1, x, create_graph=True)
    (g3,) = tg.grad(g2, x)
    t = np.tanh(0.7)
    np.testing.assert_allclose(g3.item(), -2 * (1 - t * t) * (1 - 3 * t * t), rtol=1e-12)


@pytest.mark.parametrize("saves", ["x, s", "s, x", "x, s, c", "x"])
def test_saved_tensors_give_back_what_forward_saved(saves) -> None:
    """Whatever forward saved comes back in its order: an input as that very tensor (so a
    second derivative can flow through it), a Python scalar as given, an array argument as a
    tensor. ("x, s" saves every argument in order: the case the engine keeps as the inputs
    themselves; the others take the general path.)"""
    names = saves.split(", ")
    got = {}

    class ScaleShift(tg.Function):
        @staticmethod
        def forward(ctx, x, s, *c):
            named = {"x": x, "s": s, "c": c[0] if c else None}
            ctx.save_for_backward(*[named[k] for k in names])
            return x * s + (c[0] if c else 0.0)

        @staticmethod
        def backward(ctx, grad):
            got["saved"] = ctx.saved_tensors
            return (grad * 2.5, None) + ((None,) if len(ctx.inputs) == 3 else ())

    x, c = f64([1.0, -2.0]), np.array([0.5, 0.25])
    y = ScaleShift.apply(x, 2.5, c) if "c" in names else ScaleShift.apply(x, 2.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.5, 2.5])
    saved = got["saved"]
    assert isinstance(saved, tuple) and len(saved) == len(names)
    for name, value in zip(names, saved):
        if name == "x":
            assert value is x
        elif name == "s":
            assert value == 2.5 and type(value) is float
        else:
            assert isinstance(value, tg.Tensor) and value._data is c


def test_custom_function_records_like_a_builtin() -> None:
    class Cube(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = f64([2.0, -1.0])
    y = Cube.apply(x)
    assert y.grad_fn is not None and len(tg.get_tape()) == 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [12.0, 3.0])
    (g,) = tg.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_array_equal(h._data, [12.0, -6.0])


def test_broadcast_gradients_are_reduced_to_each_input_shape() -> None:
    a = f64(np.ones((3, 1)))
    b = f64(np.arange(4.0))
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad._data, np.full((3, 1), 6.0))
    np.testing.assert_array_equal(b.grad._data, np.full(4, 3.0))




def test_leaves_given_one_gradient_buffer_accumulate_separately() -> None:
    """Add's backward hands the same gradient to both inputs; each leaf's .grad must be its
    own buffer, so a later backward into one of them leaves the other (and the seed) alone."""
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0])
    seed = tg.tensor(np.array([1.0, 1.0]))
    (a + b).backward(seed)
    (a * 2.0).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [3.0, 3.0])  # 1 + 2
    np.testing.assert_array_equal(b.grad._data, [1.0, 1.0])
    np.testing.assert_array_equal(seed._data, [1.0, 1.0])
