"""In-place safety: in-place operators work; changing a tensor that a record saved for backward
makes that backward raise (naming the op that saved it and the in-place op's source line); a
leaf that requires grad changes only under ``no_grad``.

In-place changes of tensors inside the graph are recorded, as in PyTorch (the tensor becomes
the output of the in-place op's record); their gradients are checked in
``test_inplace_graph.py``, and views in ``test_views.py``. Here: ``relu_``, the first of them.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim


def next_line() -> int:
    """The line number after the caller's: where the in-place op under test is written."""
    return sys._getframe(1).f_lineno + 1


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- in-place operators work -----------------------------------------------------------------
# (name, applies the op to a tensor in place, the NumPy reference on a copy)
INPLACE_CASES = [
    ("+=", lambda t: t.__iadd__(2.0), lambda a: a + 2.0),
    ("-= tensor", lambda t: t.__isub__(tg.ones(3, 4)), lambda a: a - 1.0),
    ("*=", lambda t: t.__imul__(3.0), lambda a: a * 3.0),
    ("/=", lambda t: t.__itruediv__(4.0), lambda a: a / 4.0),
    ("x[idx] = v", lambda t: t.__setitem__((0, slice(1, 3)), 7.0), None),
    ("x[mask] = v", lambda t: t.__setitem__(t > 0, 0.0), lambda a: np.where(a > 0, 0, a)),
    ("zero_", lambda t: t.zero_(), lambda a: np.zeros_like(a)),
    ("fill_", lambda t: t.fill_(5.0), lambda a: np.full_like(a, 5.0)),
    ("clamp_", lambda t: t.clamp_(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    ("copy_", lambda t: t.copy_(tg.ones(3, 4)), lambda a: np.ones_like(a)),
    ("add_ alpha", lambda t: t.add_(tg.ones(3, 4), alpha=2), lambda a: a + 2.0),
    ("mul_", lambda t: t.mul_(2.0), lambda a: a * 2.0),
]


def _setitem_ref(a):
    a = a.copy()
    a[0, 1:3] = 7.0
    return a


@pytest.mark.parametrize("name, op, ref", INPLACE_CASES, ids=[c[0] for c in INPLACE_CASES])
def test_inplace_operators_change_the_tensor_and_its_version(name, op, ref):
    a = arr(3, 4)
    t = tg.tensor(a)
    same = t
    op(t)
    expected = _setitem_ref(a) if ref is None else ref(a)
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)
    assert t is same and t.dtype == tg.float32
    assert t._version == 1


def test_augmented_assignment_keeps_identity_and_buffer():
    t = tg.ones(3)
    buf = t._data
    t += 1
    t *= 3
    t -= 1
    t /= 5
    assert t._data is buf
    np.testing.assert_allclose(t.numpy(), np.full(3, 1.0, np.float32))
    assert t._version == 4


def test_views_share_the_version_counter():
    x = tg.zeros(2, 3)
    v = x.reshape(6)  # a view: writing through it changes x
    v[0] = 1.0
    assert x.numpy()[0, 0] == 1.0
    assert x._version == v._version == 1
    x.T.zero_()
    assert x._version == 2 and x.numpy().sum() == 0


def test_fancy_index_copy_does_not_share_the_version():
    """x[[0, 1]] is a copy in NumPy: changing it must not invalidate a backward that saved x."""
    w = tg.ones(3, requires_grad=True)
    x = tg.tensor([1.0, 2.0, 3.0])
    y = (w * x).sum()
    picked = x[[0, 1]]
    picked += 10  # x itself is unchanged
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0, 3.0])


# -- leaves that require grad ------------------------------------------------------------------
LEAF_OPS = [
    ("+=", lambda t: t.__iadd__(1.0)),
    ("-=", lambda t: t.__isub__(1.0)),
    ("*=", lambda t: t.__imul__(2.0)),
    ("/=", lambda t: t.__itruediv__(2.0)),
    ("x[index] = value", lambda t: t.__setitem__(0, 1.0)),
    ("zero_", lambda t: t.zero_()),
    ("fill_", lambda t: t.fill_(1.0)),
    ("clamp_", lambda t: t.clamp_(0, 1)),
    ("copy_", lambda t: t.copy_(tg.zeros(3))),
]


@pytest.mark.parametrize("name, op", LEAF_OPS, ids=[c[0] for c in LEAF_OPS])
def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad(name, op):
    w = tg.tensor([0.5, 1.5, 2.5], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*no_grad") as e:
        op(w)
    assert name in str(e.value)
    np.testing.assert_array_equal(w._data, [0.5, 1.5, 2.5])  # untouched
    assert w._version == 0


@pytest.mark.parametrize("name, op", LEAF_OPS, ids=[c[0] for c in LEAF_OPS])
def test_inplace_on_leaf_requiring_grad_works_under_no_grad(name, op):
    w = tg.tensor([0.5, 1.5, 2.5], requires_grad=True)
    plain = tg.tensor([0.5, 1.5, 2.5])
    with tg.no_grad():
        op(w)
    op(plain)  # the same op on a tensor without grad: the reference
    assert w._version == 1 and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w._data, plain._data)
    assert not np.array_equal(w._data, [0.5, 1.5, 2.5])


# -- a saved tensor changed before backward -----------------------------------------------------
def _check_message(err, op: str, what: str, line: int, inplace: str) -> None:
    msg = str(err)
    assert msg.startswith(f"{op}.backward:"), msg
    assert f"{op} saved" in msg and what in msg, msg
    assert f"{__file__}:{line}" in msg, msg  # the in-place op's source line
    assert inplace in msg, msg


def test_mul_saved_constant_input_changed():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])  # no grad: changing it in place is allowed...
    loss = (w * x).sum()
    line = next_line()
    x += 1
    with pytest.raises(RuntimeError) as e:  # ...but Mul's backward needed the old x
        loss.backward()
    _check_message(e.value, "Mul", "input 1", line, "`+=`")
    assert w.grad is None  # no wrong gradient was written


def test_matmul_saved_input_changed_through_setitem():
    w = tg.tensor(arr(4, 2), requires_grad=True)
    x = tg.tensor(arr(3, 4))
    loss = (x @ w).sum()
    line = next_line()
    x[0, 0] = 100.0
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, "MatMul", "input 0", line, "x[index] = value")


def test_exp_saved_output_changed_under_no_grad():
    w = tg.tensor([0.0, 1.0], requires_grad=True)
    y = w.exp()
    loss = y.sum()  # (y * 2 would save y too, and Mul's backward runs first)
    with tg.no_grad():
        line = next_line()
        y *= 0
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, "Exp", "its output", line, "`*=`")


# ops whose backward reads their output (Div's and Pow's d/db, MaxPool2d's routing): it is
# saved, so changing it before backward raises (read unchecked, it would give a wrong d/db)
_OUTPUT_READERS = {
    "Div": lambda a, b: a / b,
    "Pow": lambda a, b: a**b,
    "MaxPool2d": lambda a, b: tg.nn.functional.max_pool2d((a + b).reshape(1, 1, 2, 2), 2),
}


@pytest.mark.parametrize("op", sorted(_OUTPUT_READERS))
def test_an_output_read_by_its_backward_changed_under_no_grad(op):
    a = tg.tensor([1.0, 2.0, 0.5, 3.0], requires_grad=True)
    b = tg.tensor([3.0, 2.0, 1.5, 0.5], requires_grad=True)
    y = _OUTPUT_READERS[op](a, b)
    loss = (y + 1.0).sum()  # (Add saves nothing: only the op itself needs y)
    with tg.no_grad():
        line = next_line()
        y.fill_(5.0)
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, op, "its output", line, "`fill_`")
    assert a.grad is None and b.grad is None  # no wrong gradient was written


def test_div_by_a_constant_does_not_keep_its_output_so_changing_it_is_fine():
    """y = a / 2 needs no y for its gradient (d/da = 1/2): nothing to check, nothing kept."""
    a = tg.tensor([1.0, 4.0], requires_grad=True)
    y = a / tg.tensor([2.0, 8.0])
    (div,) = [r for r in tg.get_tape() if r.name == "Div"]
    assert div.saved_bytes() == 8  # b's two float32 only, not y's
    loss = (y + 1.0).sum()
    with tg.no_grad():
        y.fill_(5.0)
    loss.backward()
    np.testing.assert_array_equal(a.grad._data, [0.5, 0.125])


def test_leaf_parameter_changed_by_an_update_before_backward():
    """The classic bug: an optimizer step between a forward and its backward."""
    w = tg.tensor([0.5, 2.0], requires_grad=True)
    loss = w.log().sum()
    with tg.no_grad():
        line = next_line()
        w -= 0.1
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, "Log", "input 0", line, "`-=`")


def test_change_through_a_view_or_detach_is_caught():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([[3.0, 4.0]])
    loss = (w * x).sum()
    flat = x.reshape(2)
    line = next_line()
    flat.zero_()
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, "Mul", "input 1", line, "`zero_`")

    loss = (w * w).sum()
    line = next_line()
    w.detach().fill_(0.0)
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, "Mul", "input 0", line, "`fill_`")


def test_tensor_subclass_inputs_are_version_checked():
    class Param(tg.Tensor):  # like nn.Parameter
        __slots__ = ()

    p = Param(np.array([1.0, 2.0], np.float32), requires_grad=True)
    loss = (p * p).sum()
    with tg.no_grad():
        p *= 2
    with pytest.raises(RuntimeError, match="Mul.backward"):
        loss.backward()


def test_nn_parameter_changed_by_optimizer_step_before_backward():
    from tinygrad_edu import nn

    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = tg.tensor(arr(4, 3), requires_grad=True)  # so x's gradient reads the weight
    loss1 = layer(x).pow(2).sum()
    loss2 = layer(x).sum()
    loss1.backward()
    line = next_line()
    opt.step()  # changes the weight that loss2's graph saved
    with pytest.raises(RuntimeError) as e:
        loss2.backward()
    msg = str(e.value)
    assert "Linear.backward" in msg and f"{__file__}:{line}" in msg, msg


def test_anomaly_mode_names_where_the_saving_op_was_created():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])
    with tg.detect_anomaly():
        created = next_line()
        loss = (w * x).sum()
        x += 1
        with pytest.raises(RuntimeError) as e:
            loss.backward()
    assert f"Mul was created at {__file__}:{created}" in str(e.value)


def test_no_false_alarm_when_the_change_comes_after_backward_or_on_a_clone():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])
    loss = (w * x).sum()
    c = x.clone()
    c += 1  # a copy: x is untouched
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])
    x += 1  # after backward: nobody needs the old value any more
    w.grad = None
    (w * x).sum().backward()  # a new forward saves the new version
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 5.0])


def test_without_the_check_the_gradient_would_be_silently_wrong():
    """What the error prevents: the gradient of the changed value is not the true one."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])
    loss = (w * x).sum()
    x._data += 1  # ._data bypasses the version counter, as in PyTorch: the user's own risk
    loss.backward()
    assert not np.array_equal(w.grad.numpy(), [3.0, 4.0])  # d loss/dw was x = [3, 4]


# -- optimizer updates ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=0.01),
    ],
    ids=["sgd", "sgd-nesterov", "adam"],
)
def test_optimizer_updates_are_in_place_and_bump_versions(make):
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    buf = w._data
    opt = make([w])
    for step in range(1, 4):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        assert w._version == step and w._data is buf
    assert np.abs(w._data).sum() < 3.0


def test_where_mask_changed_before_backward_is_caught():
    """Where keeps its mask for backward: a mask changed in place must not misroute gradients."""
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = tg.tensor([True, False, True])
    loss = tg.where(mask, w * 2, w * 0).sum()
    line = next_line()
    mask[1] = True
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    _check_message(e.value, "Where", "input 0", line, "x[index] = value")


def test_index_tensor_changed_before_backward_does_not_reroute_the_gradient():
    """getitem keeps a snapshot of its index: backward scatters where the forward gathered."""
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    idx = tg.tensor([0, 2])
    raw = np.array([2, 2])
    loss = (x[idx] * tg.tensor([10.0, 20.0])).sum() + x[raw].sum()
    idx[0] = 1
    raw[:] = 0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 0.0, 22.0])


# -- relu_: the recorded in-place op ---------------------------------------------------------------
def _leaf(*shape, seed=0):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_relu_inplace_returns_the_same_tensor_and_matches_relu():
    x, w = _leaf(4, 3), _leaf(2, 3, seed=1)
    h = x @ w.T
    buffer = h._data
    out = tg.relu_(h)
    assert out is h and h._data is buffer and h._version == 1
    np.testing.assert_array_equal(h._data, np.maximum(x._data @ w._data.T, 0))
    assert [r.name for r in tg.get_tape()][-1] == "Relu" and "relu_(" in tg.get_tape().listing()
    h.sum().backward()
    np.testing.assert_allclose(w.grad._data, ((x._data @ w._data.T) > 0).T @ x._data, rtol=1e-12)


def test_relu_inplace_gradients_match_numerical_differentiation():
    """Consumers of the old value (before relu_) and of the new one: the replay sends each
    its own gradient (the new value's through relu's mask first)."""
    w0 = np.random.default_rng(2).standard_normal((3, 4))
    x = np.random.default_rng(3).standard_normal((5, 4))
    c, d = np.random.default_rng(4).standard_normal((2, 5, 3))

    def f(w):
        h = tg.tensor(x) @ w.T
        before = h + 1.0  # Add saves nothing: reading the old value is fine
        tg.relu_(h)
        return (h * tg.tensor(c)).sum() + (before * tg.tensor(d)).sum()

    assert tg.gradcheck.gradcheck(f, (tg.tensor(w0, requires_grad=True),))
    w = tg.tensor(w0, requires_grad=True)
    f(w).backward()
    h = x @ w0.T
    np.testing.assert_allclose(w.grad._data, (c * (h > 0) + d).T @ x, rtol=1e-12)


def test_relu_inplace_module_and_functional_forms():
    layer = tg.nn.ReLU(inplace=True)
    assert repr(layer) == "ReLU(inplace=True)" and repr(tg.nn.ReLU()) == "ReLU()"
    x, w = _leaf(4, 3), _leaf(2, 3, seed=1)
    for fn in (layer, lambda t: tg.nn.functional.relu(t, inplace=True), tg.nn.functional.relu_,
               lambda t: t.relu_()):
        h = x @ w.T
        assert fn(h) is h
        np.testing.assert_array_equal(h._data, np.maximum(x._data @ w._data.T, 0))
        h.sum().backward()
    with tg.no_grad():  # not recorded, just overwritten
        h = x @ w.T
        assert tg.relu_(h) is h and h._version == 1 and len(tg.get_tape()) == 0


def test_relu_inplace_on_a_leaf_that_requires_grad_is_refused_as_in_pytorch():
    x = _leaf(4, 3)
    with pytest.raises(RuntimeError, match="relu_: a leaf tensor that requires grad"):
        tg.relu_(x)
    with pytest.raises(RuntimeError, match=r"relu_: a view \(shape \(3,\)\) of a leaf tensor"):
        tg.relu_(x[0])
    with pytest.raises(RuntimeError, match="relu_: a leaf tensor"):
        tg.nn.ReLU(inplace=True)(x)
    assert x._version == 0


def test_relu_inplace_after_an_op_that_saved_the_old_value_makes_backward_raise():
    x, w = _leaf(4, 3), _leaf(2, 3, seed=1)
    h = x @ w.T
    sq = h * h  # Mul saves h
    line = next_line()
    tg.relu_(h)
    with pytest.raises(RuntimeError, match=rf"modified by `relu_` at .*:{line} "):
        (sq.sum() + h.sum()).backward()
    tg.get_tape().clear()


def test_tg_grad_of_a_tensor_changed_in_place_is_for_its_newest_value():
    x, w = _leaf(4, 3), _leaf(2, 3, seed=1)
    c = np.random.default_rng(5).standard_normal((4, 2))
    h = x @ w.T
    tg.relu_(h)
    (g_h,) = tg.grad((h * tg.tensor(c)).sum(), [h])
    np.testing.assert_allclose(g_h._data, c, rtol=1e-12)  # d/d(new h), not masked


def test_viz_draws_both_values_of_a_tensor_changed_in_place():
    x, w = _leaf(4, 3), _leaf(2, 3, seed=1)
    h = tg.relu_(x @ w.T)
    dot = tg.viz.to_dot(h.sum())
    assert "MatMul" in dot and "Relu (in place)" in dot  # the history before relu_ is kept
    edges = [line.strip().split(" [")[0].split(" -> ") for line in dot.splitlines() if "->" in line]
    assert all(a != b for a, b in edges)  # no self-loop
    relu_in = [a for a, b in edges if b == "op2"]  # Permute, MatMul, Relu, Sum: op0..op3
    relu_out = [b for a, b in edges if a == "op2"]
    assert len(relu_in) == len(relu_out) == 1 and relu_in != relu_out  # two values of h
    # w, wᵀ, x, x @ wᵀ before relu_, after it, the sum: six tensor nodes
    assert len({n for e in edges for n in e if n.startswith("t")}) == 6
    tg.get_tape().clear()


def test_relu_inplace_after_a_convolution_changes_its_output_as_in_pytorch():
    conv = tg.nn.Conv2d(1, 2, 3, padding=1)
    x = tg.randn(2, 1, 5, 5)
    y = conv(x)
    before = y.detach().numpy().copy()
    out = tg.nn.ReLU(inplace=True)(y)
    assert out is y
    np.testing.assert_array_equal(y.detach().numpy(), np.maximum(before, 0))
    y.sum().backward()  # d/d bias_c: how many outputs of channel c were positive
    np.testing.assert_array_equal(conv.bias.grad.numpy(), (before > 0).sum((0, 2, 3)))


def test_a_forward_with_relu_inplace_and_no_backward_leaves_nothing_on_the_tape():
    x, w = _leaf(4, 3), _leaf(2, 3, seed=1)
    h = tg.relu_(x @ w.T)
    assert len(tg.get_tape()) == 3  # permute, matmul, relu_
    del h
    assert len(tg.get_tape()) == 0  # the in-place record does not keep its tensor alive
