"""A tape you can read: len(tape), the program listing with honest 'saved' bytes, and the
backward stepped through node by node (the lecture's example out = 3 * (a + b*c))."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import tinygrad_edu as tg

LINE = re.compile(
    r"^(%\d+) += (\w+)\((.*)\) +(\([\d, ]*\)) (\w+) +saved (\d+ B|\d+ KB|\d+\.\d MB)$"
)
LEAF = re.compile(r"^(%\d+) += (parameter|leaf, requires_grad|constant) +(\([\d, ]*\)) (\w+)$")


def kb(nbytes: int) -> str:
    """The listing's byte format, written out independently."""
    if nbytes < 1000:
        return f"{nbytes} B"
    if nbytes < 1_000_000:
        return f"{round(nbytes / 1000)} KB"
    return f"{nbytes / 1e6:.1f} MB"


def parse(listing: str):
    lines = listing.splitlines()
    footer = lines.pop()
    ops, leaves = [], []
    for line in lines:
        if m := LINE.match(line):
            ops.append(m.groups())
        elif m := LEAF.match(line):
            leaves.append(m.groups())
        else:
            raise AssertionError(f"unreadable listing line: {line!r}")
    return ops, leaves, footer


def test_len_counts_records_and_backward_empties_the_tape():
    tape = tg.get_tape()
    assert len(tape) == 0 and str(tape) == "(empty tape)"
    w = tg.randn(3, requires_grad=True)
    y = (w * 2).exp().sum()
    assert len(tape) == 3
    assert repr(tape) == "<Tape of 3 record(s) in thread MainThread>"
    assert [r.name for r in tape] == ["Mul", "Exp", "Sum"]  # append order is topological
    y.backward()
    assert len(tape) == 0
    assert tape is tg.get_tape()


def test_no_grad_and_constants_record_nothing():
    w = tg.randn(3, requires_grad=True)
    with tg.no_grad():
        _ = w * 2
    _ = tg.randn(3) * 2  # nothing requires grad
    assert len(tg.get_tape()) == 0


def test_listing_format_names_and_honest_saved_bytes():
    W = tg.randn(256, 128, requires_grad=True)
    x = tg.randn(128, 128)
    h = x @ W.T  # MatMul saves both operands: x and (a view of) W
    z = (h + tg.zeros(256)).relu()  # Relu saves its input
    e = z.exp()  # Exp saves its output
    listing = str(tg.get_tape())
    ops, leaves, footer = parse(listing)
    # the format, one line per op
    assert [o[1] for o in ops] == ["permute", "matmul", "add", "relu", "exp"]
    assert re.search(
        r"^%\d+ = matmul\(%\d+, %\d+\) +\(128, 256\) float32 +saved 197 KB$", listing, re.MULTILINE
    )
    by_op = {o[1]: o for o in ops}
    assert by_op["matmul"][5] == kb(x.nbytes + W.nbytes)  # W.T is a view: W's buffer counts
    assert by_op["permute"][5] == "0 B" and by_op["add"][5] == "0 B"  # they save nothing
    assert by_op["relu"][5] == kb(128 * 256 * 4)
    assert by_op["exp"][5] == kb(e.nbytes)
    # names: every argument was defined on an earlier line
    defined = []
    for line in listing.splitlines()[:-1]:
        name = line.split(" ")[0]
        args = re.findall(r"%\d+", line.split("=", 1)[1])
        assert all(a in defined for a in args), line
        defined.append(name)
    assert {lf[1] for lf in leaves} == {"leaf, requires_grad", "constant"}
    total = x.nbytes + W.nbytes + h.nbytes + e.nbytes  # relu's input is h + 0: one more buffer
    assert footer == f"# 5 record(s); {kb(total)} held for backward in 4 distinct buffer(s)"
    del h, z, e


def test_listing_marks_parameters_and_abbreviates_index_arrays():
    from tinygrad_edu import nn

    p = nn.Parameter(tg.randn(10, 3))
    y = p[np.arange(10), np.zeros(10, dtype=np.int64)]
    listing = tg.get_tape().listing()
    assert re.search(r"^%0 += parameter +\(10, 3\) float32$", listing, re.MULTILINE)
    assert "getitem(%0, (<int64 array (10,)>, <int64 array (10,)>))" in listing
    z = p[1:4, ::2]
    assert "getitem(%0, (1:4, ::2))" in tg.get_tape().listing()
    del y, z


def test_show_and_print_give_the_listing():
    w = tg.ones(2, requires_grad=True)
    y = w * 3
    buf = io.StringIO()
    tg.get_tape().show(file=buf)
    assert buf.getvalue() == tg.get_tape().listing() + "\n"
    assert "mul(%0, 3)" in buf.getvalue()
    del y


def test_clear_releases_everything():
    w = tg.ones(2, requires_grad=True)
    y = (w * 3).sum()
    tg.get_tape().clear()
    assert len(tg.get_tape()) == 0
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# -- the backward, step by step ------------------------------------------------------------------
def test_backward_steps_lecture_example():
    """out = 3 * (a + b*c): the steps reproduce d/da = 3, d/db = 3c, d/dc = 3b."""
    a = tg.tensor([1.0, -2.0], requires_grad=True)
    b = tg.tensor([3.0, 0.5], requires_grad=True)
    c = tg.tensor([-4.0, 5.0], requires_grad=True)
    bc = b * c
    s = a + bc
    out = 3 * s
    steps = list(tg.backward_steps(out, gradient=tg.ones(2)))
    assert [st.op for st in steps] == ["Mul", "Add", "Mul"]
    assert [st.index for st in steps] == [0, 1, 2]
    mul3, add, mulbc = steps
    # out = 3 * s: the gradient arriving is 1, s receives 3
    np.testing.assert_array_equal(mul3.grad_output.numpy(), [1.0, 1.0])
    assert mul3.inputs[0] == 3 and mul3.inputs[1] is s and mul3.grad_inputs[0] is None
    np.testing.assert_array_equal(mul3.grad_inputs[1].numpy(), [3.0, 3.0])
    # s = a + bc: passes 3 to both
    assert add.inputs[0] is a and add.inputs[1] is bc
    np.testing.assert_array_equal(add.grad_output.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(add.grad_inputs[0].numpy(), [3.0, 3.0])  # d/da = 3
    np.testing.assert_array_equal(add.grad_inputs[1].numpy(), [3.0, 3.0])
    # bc = b * c: local derivatives c and b, times 3
    assert mulbc.inputs == (b, c)
    np.testing.assert_array_equal(mulbc.grad_inputs[0].numpy(), 3 * c._data)  # d/db = 3c
    np.testing.assert_array_equal(mulbc.grad_inputs[1].numpy(), 3 * b._data)  # d/dc = 3b
    # and the leaves end up with exactly what backward() gives
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(), 3 * c._data)
    np.testing.assert_array_equal(c.grad.numpy(), 3 * b._data)
    assert len(tg.get_tape()) == 0
    assert "step 2: Mul: grad_out=[3. 3.] -> grad_inputs=(" in str(mulbc)


def test_backward_steps_scalar_and_grad_mode_inside_the_loop():
    a, b, c = (tg.tensor(v, requires_grad=True) for v in (2.0, 5.0, -1.0))
    modes = []
    for _step in tg.backward_steps(3 * (a + b * c)):
        modes.append(tg.is_grad_enabled())
        _ = a * 2  # the caller's code records as usual while the backward is paused
        assert len(tg.get_tape()) >= 1
    assert modes == [True, True, True]
    assert (a.grad.item(), b.grad.item(), c.grad.item()) == (3.0, -3.0, 15.0)


def test_backward_steps_stopped_early_leaves_nothing_behind():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    out = ((w * 2).exp()).sum()
    gen = tg.backward_steps(out)
    first = next(gen)
    assert first.op == "Sum"
    gen.close()
    assert tg.is_grad_enabled() and w.grad is None
    del gen, first, out
    assert len(tg.get_tape()) == 0


# -- gradients that several inputs, tg.grad or a debugger see are never overwritten ------------
def _relu_case(seed=0):
    rng = np.random.default_rng(seed)
    x = tg.tensor(rng.normal(size=(5, 4)))
    w = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    c = rng.normal(size=(5, 3))
    return x, w, c


def _relu_reference(x, w, c):
    """d/dW of sum(c * relu(x @ Wᵀ)) and d/dr, d/dh in NumPy."""
    h = x._data @ w._data.T
    g_h = c * (h > 0)
    return g_h.T @ x._data, c, g_h


def test_relu_after_a_matmul():
    x, w, c = _relu_case()
    (tg.relu(x @ w.T) @ tg.tensor(np.eye(3)) * tg.tensor(c)).sum().backward()
    np.testing.assert_allclose(w.grad._data, _relu_reference(x, w, c)[0], rtol=1e-12)


def test_gradients_others_can_see_are_never_overwritten():
    x, w, c = _relu_case(1)
    want_w, want_r, want_h = _relu_reference(x, w, c)
    # 1. tg.grad returns the ReLU's incoming gradient: it must stay unmasked
    h = x @ w.T
    r = tg.relu(h)
    g_r, g_h, g_w = tg.grad((r * tg.tensor(c)).sum(), [r, h, w])
    np.testing.assert_allclose(g_r._data, want_r, rtol=1e-12)
    np.testing.assert_allclose(g_h._data, want_h, rtol=1e-12)
    np.testing.assert_allclose(g_w._data, want_w, rtol=1e-12)
    # 2. a read-only broadcast gradient (from sum) is never written
    tg.relu(x @ w.T).sum().backward()
    np.testing.assert_allclose(w.grad._data, (x._data @ w._data.T > 0).T @ x._data, rtol=1e-12)
    # 3. backward_steps hands every gradient to the caller: none is overwritten
    w.grad = None
    steps = list(tg.backward_steps((tg.relu(x @ w.T) @ tg.tensor(np.eye(3)) * tg.tensor(c)).sum()))
    relu_step = next(s for s in steps if s.op == "Relu")
    g_in_before = relu_step.grad_output._data.copy()
    assert not np.array_equal(relu_step.grad_output._data * (h._data > 0), g_in_before)  # (a mask)
    np.testing.assert_array_equal(relu_step.grad_output._data, g_in_before)
    np.testing.assert_allclose(w.grad._data, want_w, rtol=1e-12)
    # 4. create_graph: the gradient is part of a graph
    x2 = tg.tensor(x._data, requires_grad=True)
    loss = (tg.relu(x2 @ w.T) @ tg.tensor(np.eye(3)) * tg.tensor(c)).sum()
    (g_x,) = tg.grad(loss, [x2], create_graph=True)
    np.testing.assert_allclose(g_x._data, want_h @ w._data, rtol=1e-12)


def test_a_gradient_summed_from_two_uses():
    """r = relu(h) is used twice: its gradient is the sum of two."""
    x, w, c = _relu_case(2)
    h = x @ w.T
    r = tg.relu(h)
    ((r @ tg.tensor(np.eye(3))) * (r @ tg.tensor(np.eye(3))) * tg.tensor(c)).sum().backward()
    hd = x._data @ w._data.T
    g_h = 2 * c * np.maximum(hd, 0) * (hd > 0)
    np.testing.assert_allclose(w.grad._data, g_h.T @ x._data, rtol=1e-12)


class _AddSharing(tg.Function):
    """a + b whose backward returns ONE new gradient tensor for both inputs (allowed: a later
    accumulation into one input's gradient must not change the other's)."""


    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        g = grad * 1.0  # new
        return g, g


def _identity_with_grad(make_grad):
    """An identity op whose backward returns ``make_grad(incoming gradient array)``."""

    class _Identity(tg.Function):

        @staticmethod
        def forward(ctx, a):
            return a.copy()

        @staticmethod
        def backward(ctx, grad):
            return tg.Tensor._wrap(make_grad(grad._data))

    return _Identity


# a new but read-only (broadcast) gradient
_ReadOnlyGrad = _identity_with_grad(lambda g: np.broadcast_to(g.copy(), g.shape))


def test_gradients_shared_by_two_inputs_or_read_only_are_not_written():
    x, w, c = _relu_case(3)
    h1, h2 = x @ w.T, x @ (w.T * -1.0)  # opposite signs: opposite ReLU masks
    _AddSharing.apply(tg.relu(h1), tg.relu(h2)).mul(tg.tensor(c)).sum().backward()
    hd1, hd2 = x._data @ w._data.T, -(x._data @ w._data.T)
    g_w = (c * (hd1 > 0)).T @ x._data - (c * (hd2 > 0)).T @ x._data
    np.testing.assert_allclose(w.grad._data, g_w, rtol=1e-12)
    w.grad = None
    (_ReadOnlyGrad.apply(tg.relu(x @ w.T)) * tg.tensor(c)).sum().backward()  # must not write
    np.testing.assert_allclose(w.grad._data, (c * (hd1 > 0)).T @ x._data, rtol=1e-12)


# a view of a new array
_ViewOfNewGrad = _identity_with_grad(lambda g: g.copy()[:])
# the buffer its incoming gradient views
_ReturnsIncomingBase = _identity_with_grad(lambda g: g.base)


def test_the_buffer_behind_an_incoming_gradient_is_not_written():
    """A gradient that is the base array of the incoming one (a new array to look at) is the
    replay's only if the incoming gradient was: here tg.grad answers with the incoming one, so
    the ReLU below must not mask that buffer in place."""
    x = tg.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]], requires_grad=True)
    c = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = _ReturnsIncomingBase.apply(tg.relu(x))
    g_y, g_x = tg.grad((_ViewOfNewGrad.apply(y) * tg.tensor(c)).sum(), [y, x])
    np.testing.assert_array_equal(g_y._data, c)  # unmasked: nobody wrote into it
    np.testing.assert_array_equal(g_x._data, c * (x._data > 0))


class _Add3Sharing(tg.Function):
    """a + b + c whose backward returns one new gradient tensor for a and b (and another for
    c): a later accumulation into one of them must not change the other."""


    @staticmethod
    def forward(ctx, a, b, c):
        return a + b + c

    @staticmethod
    def backward(ctx, grad):
        g = grad * 1.0  # new
        return g, g, grad * 1.0


def test_a_gradient_shared_by_two_of_three_inputs():
    x, w, c = _relu_case(4)
    h1, h2 = x @ w.T, x @ (w.T * -1.0)  # opposite signs: opposite ReLU masks
    _Add3Sharing.apply(tg.relu(h1), tg.relu(h2), x @ w.T).mul(tg.tensor(c)).sum().backward()
    hd = x._data @ w._data.T
    g_w = (c * (hd > 0)).T @ x._data - (c * (-hd > 0)).T @ x._data + c.T @ x._data
    np.testing.assert_allclose(w.grad._data, g_w, rtol=1e-12)
