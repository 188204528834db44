"""Random programs, differentiated twice, against central differences in float64.

Hypothesis draws a small program: a few ops over two (2, 3) inputs, each op reading any
earlier value (so values fan out), with views (transpose, reshape, slices, flips),
reductions broadcast back, a matmul, a ``detach``, an in-place change under ``no_grad`` on a
detached copy, and in-place ops recorded on graph tensors. The loss is a fixed random
weighting of every value the program made.

The reference is numerical: central differences of the loss for the first derivative, and
central differences of the tape's own first derivative (in the direction ``v``) for the
second. A detached value is a constant to autograd, so the reference freezes it at the value
it had at the unperturbed point: the program runs once to record those values, and the
numerical evaluations reuse them.

The ``ci`` profile draws many programs; ``dev`` a few.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg

SHAPE = (2, 3)


# Each op: (name, number of operands, function). Operands are (2, 3) tensors; results too.
def _smooth_div(a, b):
    return a / (b * b + 1.0)


def _rowsum_times(a, b):
    return a.sum(1, keepdim=True) * b


def _matmul(a, b):
    return (a @ b.t()) @ a * 0.3  # (2,2) @ (2,3)


def _transpose_mul(a, b):
    return (a.t() * b.t()).t()


def _reshape_chain(a):
    return a.reshape(3, 2).reshape(6)[::-1].reshape(2, 3) * 0.5 + a


def _slices(a, b):
    return tg.cat([a[:1] * b[1:], a[1:] + b[:1]], dim=0)


def _flip(a):
    return a.flip(1) * a


def _unsqueeze(a):
    return a.unsqueeze(0).squeeze(0).tanh()


def _inplace_add(a, b):
    z = a * 1.0
    z += b
    return z


def _inplace_setitem(a, b):
    z = a * 2.0
    z[0] = b[1] * b[0]
    return z


def _inplace_view(a, b):
    z = a + 0.0
    z[:, 1] *= b[:, 2]
    return z


OPS = [
    ("tanh", 1, lambda a: a.tanh()),
    ("sin", 1, lambda a: a.sin()),
    ("exp", 1, lambda a: (a * 0.5).exp()),
    ("square", 1, lambda a: a * a),
    ("sigmoid", 1, lambda a: a.sigmoid()),
    ("sqrt", 1, lambda a: (a * a + 1.0).sqrt()),
    ("reshape", 1, _reshape_chain),
    ("flip", 1, _flip),
    ("unsqueeze", 1, _unsqueeze),
    ("add", 2, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b),
    ("mul", 2, lambda a, b: a * b),
    ("div", 2, _smooth_div),
    ("rowsum", 2, _rowsum_times),
    ("matmul", 2, _matmul),
    ("transpose", 2, _transpose_mul),
    ("slices", 2, _slices),
    ("inplace_add", 2, _inplace_add),
    ("inplace_setitem", 2, _inplace_setitem),
    ("inplace_view", 2, _inplace_view),
    # the two below touch autograd's bookkeeping: their values are frozen for the reference
    ("detach", 2, None),
    ("nograd_inplace", 2, None),
]


def _run(program, inputs, frozen):
    """Run ``program`` on ``inputs``; return the loss and every value made.

    ``frozen`` maps a step to the constant a detach made there. Empty, the run records them.
    """
    values = list(inputs)
    for step, (op, picks) in enumerate(program):
        name, arity, fn = OPS[op % len(OPS)]
        args = [values[p % len(values)] for p in picks[:arity]]
        if name in ("detach", "nograd_inplace"):
            if step not in frozen:
                const = args[0].detach()
                if name == "nograd_inplace":
                    const = const.clone()
                    with tg.no_grad():
                        const.mul_(1.5).add_(0.25)
                frozen[step] = const.numpy().copy()
            out = tg.tensor(frozen[step], dtype=tg.float64) * args[1]
        else:
            out = fn(*args)
        values.append(out)
    weights = np.random.default_rng(len(program)).normal(size=(len(values), *SHAPE))
    loss = sum((v * tg.tensor(w)).sum() for v, w in zip(values, weights))
    return loss


def _loss_value(program, arrays, frozen):
    with tg.no_grad():
        inputs = [tg.tensor(a, dtype=tg.float64) for a in arrays]
        return float(_run(program, inputs, frozen).item())


def _first_derivative(program, arrays, frozen, create_graph=False):
    inputs = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in arrays]
    loss = _run(program, inputs, frozen)
    grads = tg.grad(loss, inputs, create_graph=create_graph, allow_unused=True)
    return inputs, grads


def _central(f, arrays, eps=1e-6):
    """Central differences of a scalar function f(list of arrays) w.r.t. every element."""
    out = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for j in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[i][j] += eps
            minus[i][j] -= eps
            g[j] = (f(plus) - f(minus)) / (2 * eps)
        out.append(g)
    return out


programs = st.lists(
    st.tuples(
        st.integers(0, len(OPS) - 1),
        st.tuples(st.integers(0, 50), st.integers(0, 50)),
    ),
    min_size=2,
    max_size=6,
)
inputs = st.integers(0, 2**32 - 1).map(
    lambda seed: [np.random.default_rng(seed).uniform(-1.5, 1.5, SHAPE) for _ in range(2)]
)


def _as_array(g):
    return np.zeros(SHAPE) if g is None else g.numpy()


@given(programs, inputs)
def test_first_order_matches_central_differences(program, arrays):
    frozen: dict = {}
    _, grads = _first_derivative(program, arrays, frozen)
    numeric = _central(lambda xs: _loss_value(program, xs, frozen), arrays)
    for g, n in zip(grads, numeric):
        np.testing.assert_allclose(_as_array(g), n, rtol=1e-5, atol=1e-6)


@given(programs, inputs)
def test_second_order_matches_central_differences(program, arrays):
    """d/dx (v . dL/dx), the Hessian-vector product the tape records, against differences."""
    frozen: dict = {}
    rng = np.random.default_rng(0)
    v = [rng.normal(size=SHAPE) for _ in arrays]
    xs, grads = _first_derivative(program, arrays, frozen, create_graph=True)
    used = [g for g in grads if g is not None and g.requires_grad]
    if not used:  # the program is linear in its inputs: the second derivative is zero
        hvp = [None, None]
    else:
        directional = sum(
            (g * tg.tensor(w)).sum()
            for g, w in zip(grads, v)
            if g is not None and g.requires_grad
        )
        hvp = tg.grad(directional, xs, allow_unused=True)

    def directional_value(arrs):
        _, gs = _first_derivative(program, arrs, frozen)
        return sum(float((_as_array(g) * w).sum()) for g, w in zip(gs, v))

    numeric = _central(directional_value, arrays)
    for h, n in zip(hvp, numeric):
        np.testing.assert_allclose(_as_array(h), n, rtol=1e-4, atol=1e-5)


def test_the_reference_sees_a_wrong_derivative():
    """The harness must be able to fail: a program whose tape derivative is deliberately
    wrong (a detach the reference does not know about) disagrees with central differences."""
    arrays = [np.full(SHAPE, 0.5), np.full(SHAPE, -0.25)]
    xs = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in arrays]
    loss = (xs[0].detach() * xs[0]).sum()  # tape: d/dx = x; truth: 2x
    (g,) = tg.grad(loss, [xs[0]])
    numeric = _central(lambda a: float((a[0] * a[0]).sum()), arrays)[0]
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-5, atol=1e-6)
