"""In-place operations on tensors inside the graph are recorded, as in PyTorch.

``h += b``, ``x /= n``, ``d[range(n), y] -= 1``, ``z[i] = v``, ``masked_fill_``, ``clamp_``,
``copy_``, ... on a non-leaf tensor make it the output of the in-place op's record; through a
view, the change is recorded on the view's base too. Each form's gradients are checked
against central differences (``gradcheck``), and to second order where the function is
smooth (``gradgradcheck``). The rules that stay: a leaf that requires grad changes only under
``no_grad``, and a backward that needs a value changed since raises, naming the op, the
in-place op and its source line.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck


def f64(*shape, seed=0, requires_grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return tg.tensor(a, dtype=tg.float64, requires_grad=requires_grad)


def _h_plus_b(w, b):
    h = w * 2.0
    h += b
    return h * h


def _h_minus_b_times_b(w, b):
    h = w.sin()  # (ops that keep their output, such as exp, would make backward raise)
    h -= b
    h *= b  # Mul's backward reads h's old value: a copy of it is kept
    return h


def _divide_by_n(w, b):
    x = w * b
    x /= 3.0
    x /= b + 3.0  # by a tensor that requires grad: Div keeps its output, x itself
    return x


def _cross_entropy_by_hand(w, b):
    """The classic manual softmax gradient: d = softmax; d[range(n), y] -= 1."""
    d = (w @ b.T).softmax(-1) * 1.0  # (softmax keeps its output for its backward)
    y = np.array([2, 0, 1, 3])
    d[range(4), y] -= 1
    return d * d


def _setitem_value_requires_grad(w, b):
    z = w.sin()
    z[1] = b[0] * 3.0
    z[:, 2] = b[:, 1]  # overwrites part of the row just written
    return z * w


def _setitem_into_a_plain_buffer(w, b):
    z = tg.zeros(4, 3, dtype=tg.float64)  # needs no grad until a value that does arrives
    z[2] = b[0]
    z[0, 1] = w[1, 1]
    return z.exp()


def _masked_fill(w, b):
    h = w * b
    h.masked_fill_(tg.tensor(np.array([True, False, True])), 0.5)
    h.masked_fill_(w > 10.0, b[0, 0])  # a 0-d value that requires grad (nowhere selected)
    h.masked_fill_(tg.tensor(np.eye(4, 3, dtype=bool)), b[1, 1])
    return h * h


def _fill_copy_add_alpha(w, b):
    h = w.sin()
    h[0].fill_(b[0, 0])
    h[1].copy_(b[1] * 2.0)
    h.add_(b, alpha=2.0)
    h.sub_(w, alpha=0.5)
    h.mul_(w)
    return h


def _through_views(w, b):
    h = w * 1.0
    h[:, 0] += 1.0  # getitem, iadd on the view, setitem: PyTorch's CopySlices twice
    h[:, 1] *= b[:, 0]
    row = h[2]
    row.mul_(b[0])  # through a view: h's history is rebased
    h.view(-1)[1:5].add_(b.reshape(12)[:4])  # a view of a view
    h.t()[0].div_(b[:, 2] + 3.0)  # a transpose's row is h's column
    return h * w


def _view_read_after_its_base_changed(w, b):
    h = w * 2.0
    first = h[0]  # made before the change...
    h *= b
    return first * 2.0 + h.sum()  # ...read after it: it shows the new value


def _reshape_view_changed(w, b):
    h = w * 1.0
    flat = h.reshape(12)
    flat *= b.reshape(12)
    return h.cos()


# (name, fn(w, b), smooth: also checked to second order)
FORMS = [
    ("h += b", _h_plus_b, True),
    ("h -= b; h *= b", _h_minus_b_times_b, True),
    ("x /= n", _divide_by_n, True),
    ("d[range(n), y] -= 1", _cross_entropy_by_hand, True),
    ("z[i] = v", _setitem_value_requires_grad, True),
    ("z[i] = v into zeros", _setitem_into_a_plain_buffer, True),
    ("masked_fill_", _masked_fill, True),
    ("fill_ copy_ add_ sub_ mul_", _fill_copy_add_alpha, True),
    ("through views", _through_views, True),
    ("stale view", _view_read_after_its_base_changed, True),
    ("reshape view", _reshape_view_changed, True),
]


@pytest.mark.parametrize("name, fn, smooth", FORMS, ids=[f[0] for f in FORMS])
def test_inplace_form_gradients_match_central_differences(name, fn, smooth):
    w, b = f64(4, 3), f64(4, 3, seed=1)
    assert gradcheck(fn, (w, b))
    if smooth:
        assert gradgradcheck(fn, (w, b))


def test_clamp_and_relu_in_place_first_order_away_from_the_kinks():
    w = tg.tensor(np.array([[-1.5, -0.3, 0.4], [0.9, 1.7, -0.8]]), requires_grad=True)

    def fn(w):
        h = w * 2.0
        h.clamp_(-1.0, 1.0)
        g = w * 1.0
        g.clamp_(max=1.2)
        g.relu_()
        return h * g + h

    assert gradcheck(fn, (w,))
    (g,) = tg.grad(fn(w).sum(), [w])  # closed form: the clamped h has derivative 2 inside
    x = w.detach().numpy()
    h, r = np.clip(2 * x, -1, 1), np.minimum(np.maximum(x, 0), 1.2)
    dh = 2 * (np.abs(2 * x) < 1)
    dr = (x > 0) & (x < 1.2)
    np.testing.assert_allclose(g.numpy(), dh * r + h * dr + dh)


def test_an_inplace_op_makes_the_tensor_its_output_and_keeps_identity():
    w = f64(3)
    h = w * 2.0
    buffer = h._data
    same = h
    h += 1.0
    h[0] = w[1]
    assert h is same and h._data is buffer and h._version == 2
    assert [r.name for r in tg.get_tape()][-3:] == ["Add", "GetItem", "SetItem"]
    listing = tg.get_tape().listing()
    assert "%1 = add_(%1, 1.0)" in listing and "%1 = setitem_(%1, %2, 0)" in listing, listing
    (h * h).sum().backward()  # h = [w1, 2 w1 + 1, 2 w2 + 1]
    x = w.detach().numpy()
    expected = [0.0, 2 * x[1] + 4 * (2 * x[1] + 1), 4 * (2 * x[2] + 1)]
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_change_through_a_view_reaches_the_base_and_its_gradient():
    """PyTorch's repro: v = h[0:2]; v.mul_(3) changes h, and d h.sum()/dw is [3, 3, 1]."""
    w = f64(3)
    h = w * 1.0
    v = h[0:2]
    v.mul_(3.0)
    np.testing.assert_allclose(h.detach().numpy(), w.detach().numpy() * [3, 3, 1])
    (g,) = tg.grad(h.sum(), [w])
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0, 1.0])


def test_a_view_made_before_its_base_changed_sees_the_new_history():
    """v = h[0]; h.mul_(2); dv/dw is [2, 0, 0] (PyTorch regenerates v's grad_fn)."""
    w = f64(3)
    h = w * 1.0
    v = h[0]
    h.mul_(2.0)
    (g,) = tg.grad(v, [w])
    np.testing.assert_array_equal(g.numpy(), [2.0, 0.0, 0.0])
    h = w * 1.0
    v = h[0]
    h.mul_(5.0)
    v.backward()  # backward from the view itself
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 0.0, 0.0])


def test_setitem_gives_the_assigned_value_its_gradient_and_the_buffer_requires_grad():
    w = f64(3)
    z = tg.zeros(3, dtype=tg.float64)
    z[1] = w[2]
    assert z.requires_grad and z.grad_fn.name == "SetItem"
    (g,) = tg.grad((z * tg.tensor([1.0, 7.0, 1.0], dtype=tg.float64)).sum(), [w])
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 7.0])


# -- the rules that stay -----------------------------------------------------------------------
def next_line() -> int:
    return sys._getframe(1).f_lineno + 1


@pytest.mark.parametrize(
    "op, what",
    [
        (lambda w: w.__iadd__(1.0), r"\+=: a leaf tensor that requires grad"),
        (lambda w: w.__setitem__(0, 1.0), r"x\[index\] = value: a leaf tensor"),
        (lambda w: w[0].__imul__(2.0), r"\*=: a view \(shape \(\)\) of a leaf tensor"),
        (lambda w: w.reshape(3, 1).zero_(), r"zero_: a view \(shape \(3, 1\)\) of a leaf tensor"),
    ],
)
def test_a_leaf_that_requires_grad_changes_only_under_no_grad(op, what):
    w = f64(3)
    with pytest.raises(RuntimeError, match=what + ".*no_grad"):
        op(w)
    assert w._version == 0 and len(tg.get_tape()) <= 2
    with tg.no_grad():
        op(w)
    assert w._version == 1 and w.is_leaf


def test_a_view_made_under_no_grad_cannot_be_changed_while_recording():
    w = f64(3)
    h = w * 1.0
    with tg.no_grad():
        v = h[0:2]
    with pytest.raises(RuntimeError, match=r"mul_: this view \(shape \(2,\)\) was created in no_gr"):
        v.mul_(2.0)
    with tg.no_grad():
        v.mul_(2.0)  # both inside no_grad: not recorded, as in PyTorch
    plain = tg.zeros(3)
    with tg.no_grad():
        p = plain[1:]
    p.mul_(2.0)  # nothing requires grad: nothing is recorded, nothing refused


def test_the_version_error_names_the_op_the_inplace_op_and_its_line():
    w = f64(3)
    h = w * 1.0
    m = h * h  # Mul saves h
    line = next_line()
    h += 1.0
    with pytest.raises(RuntimeError) as e:
        m.sum().backward()
    msg = str(e.value)
    assert msg.startswith("Mul.backward:") and "`+=`" in msg and f"{__file__}:{line}" in msg, msg


def test_changing_a_tensor_through_its_own_product_raises_as_in_pytorch():
    w = f64(3)
    h = w * 1.0
    h.mul_(h)  # Mul saved h (its other input), which the write changes
    with pytest.raises(RuntimeError, match="Mul.backward: .*modified by `mul_`"):
        h.sum().backward()


def test_bad_inplace_results_raise_naming_the_op():
    h = f64(3) * 1.0
    with pytest.raises(RuntimeError, match=r"\+=: the result has shape \(2, 3\)"):
        h += tg.ones(2, 3, dtype=tg.float64)
    with pytest.raises(RuntimeError, match=r"\*=: the result has shape \(2, 3\)"):
        h *= tg.ones(2, 3, dtype=tg.float64)
    n = tg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="/=: result type float32 can't be cast to the desired output type int64"):
        n /= 2
    assert n._version == 0
    with pytest.raises(RuntimeError, match="zero_: this tensor .* is read-only: it is an expand"):
        tg.zeros(3).expand(2, 3).zero_()


def test_inplace_on_a_tensor_without_grad_records_nothing():
    x = tg.ones(3)
    x += 1.0
    x[0] = 5.0
    x.clamp_(0.0, 4.0)
    assert len(tg.get_tape()) == 0 and not x.requires_grad
    np.testing.assert_array_equal(x.numpy(), [4.0, 2.0, 2.0])


def test_a_forward_with_inplace_ops_and_no_backward_is_freed():
    """An in-place record on x whose operands were computed from x (d[i] -= 1, through a
    view, a kept old value) makes the graph a reference cycle; the tape holds records only
    weakly, so the cycle goes with its tensors."""
    w, b = f64(4, 3), f64(4, 3, seed=1)
    for _, fn, _ in FORMS:
        out = fn(w, b)
        del out
    gc.collect()
    assert len(tg.get_tape()) == 0


def test_detach_in_place_keeps_the_path_of_earlier_readers():
    """z read y before y.detach_(): z's backward still reaches x (the tape keeps y's record)."""
    x = f64(2)
    y = x * 2.0
    z = y * 3.0
    y.detach_()
    assert y.is_leaf and not y.requires_grad
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    assert y.grad is None
