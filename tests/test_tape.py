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
    np.testing.assert_array_equal(mulbc.grad_inputs[0].numpy(), 3 * c.data)  # d/db = 3c
    np.testing.assert_array_equal(mulbc.grad_inputs[1].numpy(), 3 * b.data)  # d/dc = 3b
    # and the leaves end up with exactly what backward() gives
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(), 3 * c.data)
    np.testing.assert_array_equal(c.grad.numpy(), 3 * b.data)
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
