"""Gradients of intermediates: ``retain_grad``, ``register_hook``, and the Module hooks.

Every gradient is checked against numerical differentiation or a closed form: an intermediate
``y = inner(x)`` of ``loss = outer(y)`` must get ``.grad == d outer / dy`` at ``y``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.gradcheck import numerical_grad

RNG = np.random.default_rng(0)
W = RNG.normal(size=(3, 4))
TARGET = np.array([1, 0, 3, 2, 1])


def f64(data, requires_grad=True):
    return tg.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


# name -> (x, inner: x -> y, outer: y -> scalar loss)
INTERMEDIATES = {
    "affine then tanh": (RNG.normal(size=(2, 3)), lambda x: x * 2 + 1, lambda y: y.tanh().sum()),
    "used twice": (RNG.normal(size=4), lambda x: x.exp(), lambda y: (y * y + y.sin()).sum()),
    "broadcast into outer": (
        RNG.normal(size=3), lambda x: x * x, lambda y: (y * f64(W.T, False)).sum() ** 2
    ),
    "logits of a linear layer": (
        RNG.normal(size=(5, 3)),
        lambda x: x @ f64(W, False),
        lambda y: nn.functional.cross_entropy(y, tg.tensor(TARGET)),
    ),
    "reduction": (RNG.normal(size=(3, 2)), lambda x: x.sum(1), lambda y: (y * y * y).mean()),
    "scalar": (RNG.normal(size=()), lambda x: x * 3, lambda y: (y - 1) ** 2),
}


@pytest.mark.parametrize("name", INTERMEDIATES)
def test_retain_grad_gives_the_gradient_of_the_loss_at_the_intermediate(name) -> None:
    x0, inner, outer = INTERMEDIATES[name]
    x = f64(x0)
    y = inner(x)
    y.retain_grad()
    outer(y).backward()
    assert y.retains_grad and not y.is_leaf
    (want_y,) = numerical_grad(outer, (y.detach(),))
    (want_x,) = numerical_grad(lambda x: outer(inner(x)), (x.detach(),))
    np.testing.assert_allclose(y.grad.numpy(), want_y, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(x.grad.numpy(), want_x, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", INTERMEDIATES)
def test_a_hook_sees_the_finished_gradient_and_can_replace_it(name) -> None:
    x0, inner, outer = INTERMEDIATES[name]
    x = f64(x0)
    y = inner(x)
    seen = []
    y.register_hook(seen.append)  # returns None: the gradient flows on unchanged
    y.register_hook(lambda g: g * 2)
    outer(y).backward()
    (want_y,) = numerical_grad(outer, (y.detach(),))
    (want_x,) = numerical_grad(lambda x: outer(inner(x)), (x.detach(),))
    assert len(seen) == 1  # once, with the total over every use of y
    np.testing.assert_allclose(seen[0].numpy(), want_y, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(x.grad.numpy(), 2 * want_x, rtol=1e-6, atol=1e-8)


def test_hooks_run_in_order_each_on_the_previous_result_and_retain_grad_runs_last() -> None:
    x = f64([1.0, 2.0])
    y = x * 3
    y.retain_grad()  # registered first, still sees what the hooks made
    y.register_hook(lambda g: g + 1)
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [(1 + 1) * 2] * 2)
    np.testing.assert_array_equal(x.grad.numpy(), [3 * 4] * 2)


def test_a_leaf_hook_runs_before_accumulation_into_grad() -> None:
    x = f64([1.0, -2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * x).sum().backward()  # d/dx = 2x
    (x * x).sum().backward()
    np.testing.assert_array_equal(seen, [[2.0, -4.0], [2.0, -4.0]])  # never the running sum
    np.testing.assert_array_equal(x.grad.numpy(), 2 * 10 * np.array([2.0, -4.0]))


@pytest.mark.parametrize("leaf", [True, False])
def test_a_gradient_a_hook_kept_is_not_changed_by_later_backwards(leaf) -> None:
    x = f64([1.0, 2.0])
    y = x if leaf else x + 1  # Add passes its gradient on as it is
    kept = []
    y.register_hook(kept.append)
    y.register_hook(lambda g: kept[0])  # and a returned tensor is not adopted either
    (y * 3).sum().backward(retain_graph=True)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_a_hook_on_the_root_changes_the_seed() -> None:
    x = f64(2.0)
    loss = x * x
    loss.register_hook(lambda g: g * 5)
    loss.retain_grad()
    loss.backward()
    assert loss.grad.item() == 5.0 and x.grad.item() == 5.0 * 2 * 2.0


def test_removed_hooks_do_not_run_and_removing_twice_is_harmless() -> None:
    x = f64([1.0, 2.0])
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    handle.remove()
    with x.register_hook(lambda g: g * 0):  # a context manager removes on exit
        pass
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_retained_gradients_add_up_across_backwards_like_a_leafs() -> None:
    x = f64([1.0, 2.0])
    y = x * x
    y.retain_grad()
    loss = (y * y).sum()  # d/dy = 2y
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(y.grad.numpy(), 2 * 2 * y.detach().numpy())


def test_retain_grad_on_a_leaf_does_nothing() -> None:
    x = f64([1.0])
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_reading_grad_of_a_non_leaf_without_retain_grad_warns_and_gives_none() -> None:
    x = f64([1.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # leaves never warn
        assert tg.tensor([1.0]).grad is None


def test_tg_grad_runs_hooks_and_fills_retained_grads_as_pytorch_does() -> None:
    x = f64([1.0, 2.0])
    x.register_hook(lambda g: g * 2)
    y = x * 3
    y.retain_grad()
    (gx,) = tg.grad(y.sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    assert x.grad is None


def test_hooks_and_retained_grads_under_create_graph_are_differentiable() -> None:
    # y = x², hook: g -> 3 g, loss = y²:  g = dloss/dx = 3 (2y)(2x) = 12 x y. Differentiating g
    # passes y's hook again: dg/dx = 12 y + 3 (12 x)(2x) = 84 x², and y.grad adds 3 (12 x).
    x = f64(1.5)
    y = x ** 2
    y.register_hook(lambda g: g * 3)
    y.retain_grad()
    (g,) = tg.grad(y ** 2, x, create_graph=True)
    assert g.item() == pytest.approx(12 * 1.5**3)
    assert y.grad.requires_grad and y.grad.item() == pytest.approx(3 * 2 * 1.5**2)
    (gg,) = tg.grad(g, x)
    assert gg.item() == pytest.approx(84 * 1.5**2)
    assert y.grad.item() == pytest.approx(3 * 2 * 1.5**2 + 3 * 12 * 1.5)


def test_hooks_without_create_graph_record_nothing() -> None:
    x = f64([1.0, 2.0])
    w = f64([3.0, 4.0])
    y = x * 2
    y.register_hook(lambda g: g * w)  # w requires grad, but backward records nothing
    y.sum().backward()
    assert not x.grad.requires_grad and len(tg.get_tape()) == 0
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 8.0])


def test_in_place_ops_hooks_see_their_own_value_and_retain_grad_the_latest() -> None:
    # y = 2x, then relu_ in place, loss = sum(c * y): a hook registered before relu_ gets the
    # gradient at the pre-relu value (c masked), one registered after and .grad get c
    x = f64([-1.0, 2.0, 3.0])
    c = np.array([1.0, 10.0, 100.0])
    y = x * 2
    y.retain_grad()
    before, after = [], []
    y.register_hook(before.append)
    y.relu_()
    y.register_hook(after.append)
    (y * f64(c, False)).sum().backward()
    np.testing.assert_array_equal(after[0].numpy(), c)
    np.testing.assert_array_equal(before[0].numpy(), c * [0, 1, 1])
    np.testing.assert_array_equal(y.grad.numpy(), c)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * c * [0, 1, 1])


@pytest.mark.parametrize(
    "hook, error, match",
    [
        (lambda g: 5, TypeError, "returned int"),
        (lambda g: g.sum(), RuntimeError, r"shape \(2,\).*to shape \(\)"),
        (lambda g: g.float(), RuntimeError, "float64 to shape"),
    ],
    ids=["not a tensor", "shape", "dtype"],
)
def test_a_hook_that_returns_a_bad_gradient_is_named(hook, error, match) -> None:
    x = f64([1.0, 2.0])
    y = x * 3
    y.register_hook(hook)
    with pytest.raises(error, match=match):
        y.sum().backward()
    tg.get_tape().clear()


@pytest.mark.parametrize("method", ["retain_grad", "register_hook"])
def test_tensors_without_gradients_refuse_hooks(method) -> None:
    args = () if method == "retain_grad" else (lambda g: g,)
    with pytest.raises(RuntimeError, match=f"{method}.*requires_grad|{method}.*require grad"):
        getattr(tg.tensor([1.0]), method)(*args)


def test_hand_written_backprop_matches_every_retained_gradient() -> None:
    # a 2-layer MLP with cross-entropy, backpropagated by hand in NumPy (closed forms)
    rng = np.random.default_rng(1)
    n, d, h, k = 6, 4, 5, 3
    xs, ys = rng.normal(size=(n, d)), rng.integers(0, k, n)
    w1, b1, w2 = f64(rng.normal(size=(d, h))), f64(rng.normal(size=h)), f64(rng.normal(size=(h, k)))
    hpre = f64(xs, False) @ w1 + b1
    hact = hpre.tanh()
    logits = hact @ w2
    loss = nn.functional.cross_entropy(logits, tg.tensor(ys))
    for t in (hpre, hact, logits):
        t.retain_grad()
    loss.backward()

    p = np.exp(logits.detach().numpy())
    p /= p.sum(1, keepdims=True)
    dlogits = (p - np.eye(k)[ys]) / n
    dhact = dlogits @ w2.detach().numpy().T
    dhpre = dhact * (1 - hact.detach().numpy() ** 2)
    for t, want in [(logits, dlogits), (hact, dhact), (hpre, dhpre)]:
        np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w2.grad.numpy(), hact.detach().numpy().T @ dlogits, rtol=1e-10)
    np.testing.assert_allclose(w1.grad.numpy(), xs.T @ dhpre, rtol=1e-10)
    np.testing.assert_allclose(b1.grad.numpy(), dhpre.sum(0), rtol=1e-10)


# -- Module hooks ---------------------------------------------------------------------------
def _linear64(n_in=3, n_out=2):
    layer = nn.Linear(n_in, n_out, dtype=tg.float64)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    return layer, (lambda x: x @ w.T + b), w


class Two(nn.Module):
    def forward(self, a, b, scale=1.0):
        return a * b * scale


def test_forward_pre_hooks_replace_the_arguments() -> None:
    layer, ref, _ = _linear64()
    x = RNG.normal(size=(4, 3))
    layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    layer.register_forward_pre_hook(lambda m, args: args[0] + 1)  # a single value is wrapped
    np.testing.assert_allclose(layer(f64(x, False)).detach().numpy(), ref(x * 2 + 1))


def test_forward_hooks_see_args_and_output_and_may_replace_it() -> None:
    layer, ref, _ = _linear64()
    x = f64(RNG.normal(size=(4, 3)), False)
    seen = []
    layer.register_forward_hook(lambda m, a, out: seen.append((m, a[0], out.detach().numpy())))
    layer.register_forward_hook(lambda m, args, out: out * 0 + 7)
    out = layer(x)
    assert seen[0][0] is layer and seen[0][1] is x
    np.testing.assert_allclose(seen[0][2], ref(x.numpy()))
    np.testing.assert_array_equal(out.detach().numpy(), np.full((4, 2), 7.0))


def test_hooks_with_kwargs_prepend_and_removal() -> None:
    m = Two()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    first = m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: (args, {**kwargs, "scale": 10.0}), with_kwargs=True
    )
    m.register_forward_hook(
        lambda mod, args, kwargs, out: order.append(kwargs["scale"]), with_kwargs=True
    )
    assert m(f64(2.0, False), f64(3.0, False)).item() == 60.0
    first.remove()
    m(f64(2.0, False), f64(3.0, False))
    assert order == ["first", "second", 10.0, "second", 10.0]


def test_a_pre_hook_with_kwargs_must_return_args_and_kwargs() -> None:
    m = Two()
    m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        m(f64(2.0, False), f64(3.0, False))


def test_always_call_hooks_run_when_forward_raises() -> None:
    m = Two()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("not always"))
    with pytest.raises(TypeError):
        m(f64(2.0, False))  # b is missing
    assert seen == [None]


def test_forward_hooks_collect_every_layers_activation() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    acts = {}
    for name, layer in model.named_children():
        layer.register_forward_hook(lambda m, args, out, name=name: acts.update({name: out}))
    x = f64(RNG.normal(size=(5, 3)), False)
    out = model(x)
    h = x
    for name, layer in model.named_children():
        with tg.no_grad():
            h = layer.forward(h)  # forward itself never runs hooks
        np.testing.assert_array_equal(acts[name].detach().numpy(), h.numpy())
    assert acts["2"] is out


def test_full_backward_hook_gets_input_and_output_gradients() -> None:
    layer, ref, w = _linear64()
    x = f64(RNG.normal(size=(4, 3)))
    c = RNG.normal(size=(4, 2))
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((m, gin, gout)))
    (layer(x) * f64(c, False)).sum().backward()
    (m, (gin,), (gout,)) = seen[0]
    assert m is layer and len(seen) == 1
    np.testing.assert_allclose(gout.numpy(), c)  # d loss / d output
    np.testing.assert_allclose(gin.numpy(), c @ w)  # d loss / d input
    np.testing.assert_allclose(x.grad.numpy(), c @ w)
    assert len(tg.get_tape()) == 0


def test_full_backward_hook_can_replace_the_input_gradient() -> None:
    layer, _, w = _linear64()
    x = f64(RNG.normal(size=(4, 3)))
    layer.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 10,))
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 10 * np.ones((4, 2)) @ w)


def test_full_backward_hook_with_several_and_non_tensor_inputs() -> None:
    a, b = f64([2.0]), f64([3.0])
    seen = []
    m = Two()
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    (m(a, b) * 5).sum().backward()
    (m(a, 4.0) * 5).sum().backward()
    (gin1, gout1), (gin2, gout2) = seen
    assert [g.item() for g in gin1] == [15.0, 10.0] and gout1[0].item() == 5.0
    assert gin2[0].item() == 20.0 and gin2[1] is None
    m.register_full_backward_hook(lambda mod, gin, gout: gin)
    with pytest.raises(NotImplementedError, match="one input that requires grad"):
        m(a, b).sum().backward()
    tg.get_tape().clear()


def test_full_backward_hook_without_input_gradients_runs_with_the_output_gradient() -> None:
    layer, _, _ = _linear64()
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
    layer(f64(np.ones((1, 3)), False)).sum().backward()
    assert seen[0][0] == (None,) and seen[0][1][0].numpy().tolist() == [[1.0, 1.0]]
