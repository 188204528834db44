"""Higher order: gradgradcheck for the primitives and composites users differentiate twice;
hvp / jacobian / hessian / vjp against finite differences written here in plain NumPy; and a
primitive without a second derivative stops create_graph with an error naming it."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck
from tinygrad_edu.ops.linalg import Linear

ISSUE_OPS = {
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "sqrt",
    "matmul",
    "sum",
    "mean",
    "reshape",
    "transpose",
    "getitem",
    "softmax",
    "log_softmax",
}


def x64(*shape, lo=-1.5, hi=1.5, seed=0):
    rng = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    return tg.tensor(rng.uniform(lo, hi, shape), dtype=tg.float64, requires_grad=True)


POS = {"lo": 0.5, "hi": 2.0}  # a domain where log, sqrt, pow and div are smooth

# (name, fn, inputs): broadcasting pairs, repeated fancy indices and size-1 axes included
CASES = [
    ("add", lambda a, b: a + b, lambda: (x64(3, 4), x64(4))),
    ("sub", lambda a, b: a - b, lambda: (x64(2, 1, 3), x64(4, 1))),
    ("mul", lambda a, b: a * b, lambda: (x64(3, 4), x64(3, 1))),
    ("div", lambda a, b: a / b, lambda: (x64(3, 4), x64(4, **POS))),
    ("pow", lambda a, b: a**b, lambda: (x64(3, 2, **POS), x64(2))),
    ("pow", lambda a: a**3.0, lambda: (x64(5),)),
    ("exp", lambda a: a.exp(), lambda: (x64(2, 3),)),
    ("log", lambda a: a.log(), lambda: (x64(2, 3, **POS),)),
    ("tanh", lambda a: a.tanh(), lambda: (x64(2, 3),)),
    ("sigmoid", lambda a: a.sigmoid(), lambda: (x64(2, 3),)),
    ("sqrt", lambda a: a.sqrt(), lambda: (x64(2, 3, **POS),)),
    ("matmul", lambda a, b: a @ b, lambda: (x64(3, 4), x64(4, 2))),
    ("matmul", lambda a, b: a @ b, lambda: (x64(2, 3, 4), x64(4))),  # batched @ vector
    ("sum", lambda a: a.sum(1), lambda: (x64(3, 4),)),
    ("sum", lambda a: a.sum(), lambda: (x64(3, 4),)),
    ("mean", lambda a: a.mean((0, 2), keepdim=True), lambda: (x64(2, 3, 2),)),
    ("reshape", lambda a: a.reshape(3, 2, 2), lambda: (x64(4, 3),)),
    ("transpose", lambda a: a.transpose(0, 2), lambda: (x64(2, 3, 4),)),
    ("transpose", lambda a: a.T, lambda: (x64(3, 4),)),
    ("getitem", lambda a: a[1:, ::2], lambda: (x64(3, 5),)),
    ("getitem", lambda a: a[np.array([0, 2, 0])], lambda: (x64(3, 2),)),  # a repeated index
    ("softmax", lambda a: a.softmax(-1), lambda: (x64(3, 4),)),
    ("log_softmax", lambda a: a.log_softmax(0), lambda: (x64(3, 4),)),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def test_every_op_the_issue_names_has_a_case():
    assert {name for name, _, _ in CASES} == ISSUE_OPS


@pytest.mark.parametrize("name, fn, make", CASES, ids=IDS)
def test_gradgradcheck(name, fn, make):
    inputs = make()
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name, fn, make", CASES, ids=IDS)
def test_gradgradcheck_of_the_op_squared(name, fn, make):
    """y = op(x)²: its second derivative needs op's recorded backward differentiated with
    respect to op's inputs (for linear ops the plain check above is trivially zero)."""
    assert gradgradcheck(lambda *xs: fn(*xs) * fn(*xs), make())


# -- second-order helpers against finite differences ---------------------------------------------
H = 1e-5


def fd_gradient(f_np, x: np.ndarray, h=H) -> np.ndarray:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f_np(x + e) - f_np(x - e)) / (2 * h)
    return g


def fd_jacobian(f_np, x: np.ndarray, h=H) -> np.ndarray:
    y = np.asarray(f_np(x))
    jac = np.zeros(y.shape + x.shape)
    for j in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[j] = h
        jac[(...,) + j] = (np.asarray(f_np(x + e)) - np.asarray(f_np(x - e))) / (2 * h)
    return jac


def fd_hessian(f_np, x: np.ndarray, h=1e-4) -> np.ndarray:
    """Second differences of f itself (no gradient code involved)."""
    hess = np.zeros(x.shape + x.shape)
    for i in np.ndindex(x.shape):
        for j in np.ndindex(x.shape):
            ei = np.zeros_like(x)
            ej = np.zeros_like(x)
            ei[i] = h
            ej[j] = h
            hess[i + j] = (
                f_np(x + ei + ej) - f_np(x + ei - ej) - f_np(x - ei + ej) + f_np(x - ei - ej)
            ) / (4 * h * h)
    return hess


A = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])


def f_tg(x):  # R^3 -> R: a smooth function mixing several primitives
    return ((x * x).sum() + (tg.tensor(A) @ x).tanh().sum() * x.exp().sum()).log()


def f_np(x):
    return np.log((x * x).sum() + np.tanh(A @ x).sum() * np.exp(x).sum())


def test_hessian_matches_second_differences():
    x = np.array([0.3, -0.8, 1.1])
    hess = tg.hessian(f_tg, tg.tensor(x)).numpy()
    assert hess.shape == (3, 3)
    np.testing.assert_allclose(hess, fd_hessian(f_np, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_matrix_input_has_shape_x_by_x():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3))

    def g_tg(w):
        return (w.tanh() @ tg.tensor(A.T)).sigmoid().sum()

    def g_np(w):
        return (1 / (1 + np.exp(-(np.tanh(w) @ A.T)))).sum()

    hess = tg.hessian(g_tg, tg.tensor(x)).numpy()
    assert hess.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(hess, fd_hessian(g_np, x), rtol=1e-5, atol=1e-6)


def test_hvp_matches_differences_of_the_gradient_and_the_hessian():
    x = np.array([0.3, -0.8, 1.1])
    v = np.array([1.0, -2.0, 0.5])
    y, hv = tg.hvp(f_tg, tg.tensor(x), tg.tensor(v))
    assert y.item() == pytest.approx(f_np(x), rel=1e-12)
    # H v = d/dt grad f(x + t v) at t = 0, by differences of a finite-difference gradient
    t = 1e-4
    fd = (fd_gradient(f_np, x + t * v) - fd_gradient(f_np, x - t * v)) / (2 * t)
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(hv.numpy(), fd_hessian(f_np, x) @ v, rtol=1e-5, atol=1e-6)
    assert not hv.requires_grad


def test_jacobian_matches_differences():
    x = np.array([0.2, -0.4, 0.9])

    def h_tg(z):
        return (tg.tensor(A) @ z.exp()).tanh() * z[0]

    def h_np(z):
        return np.tanh(A @ np.exp(z)) * z[0]

    jac = tg.jacobian(h_tg, tg.tensor(x)).numpy()
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac, fd_jacobian(h_np, x), rtol=1e-6, atol=1e-8)


def test_vjp_matches_differences():
    x = np.array([0.2, -0.4, 0.9])
    v = np.array([2.0, -1.0])
    y, g = tg.vjp(lambda z: (tg.tensor(A) @ z).sin(), tg.tensor(x), tg.tensor(v))
    np.testing.assert_allclose(y.numpy(), np.sin(A @ x))
    np.testing.assert_allclose(
        g.numpy(), v @ fd_jacobian(lambda z: np.sin(A @ z), x), rtol=1e-6, atol=1e-8
    )


def test_helpers_leave_the_callers_tensor_alone():
    x = tg.tensor([0.3, -0.8, 1.1], dtype=tg.float64)
    before = x._data.copy()
    tg.hessian(f_tg, x)
    tg.hvp(f_tg, x, tg.ones(3, dtype=tg.float64))
    assert np.array_equal(x._data, before) and not x.requires_grad and x.grad is None


# -- a primitive without a second derivative ---------------------------------------------------
class FirstOrderCube(Function):
    """y = x³;  dx = grad * 3x² computed in raw NumPy (so it cannot be differentiated again)"""

    twice_differentiable = False

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = (t._data for t in ctx.saved_tensors)
        return tg.Tensor._wrap(grad._data * 3 * x**2)


def test_first_order_through_it_works():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    FirstOrderCube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert gradcheck(FirstOrderCube.apply, (x,))


def test_create_graph_reaching_it_raises_naming_it():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = FirstOrderCube.apply(x * 2).sum()
    with pytest.raises(NotImplementedError, match=r"^FirstOrderCube: has no second derivative"):
        tg.grad(y, x, create_graph=True)
    with pytest.raises(NotImplementedError, match="FirstOrderCube"):
        tg.hessian(lambda z: FirstOrderCube.apply(z).sum(), x)
    with pytest.raises(NotImplementedError, match="FirstOrderCube"):
        tg.hvp(lambda z: FirstOrderCube.apply(z).sum(), x, tg.ones(2, dtype=tg.float64))


def test_create_graph_that_does_not_reach_it_is_fine():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    c = tg.tensor([0.5, 0.5], dtype=tg.float64, requires_grad=True)
    other = FirstOrderCube.apply(c).sum()  # recorded on the same tape, but not behind y
    y = (x * x * x).sum()
    (gx,) = tg.grad(y, x, create_graph=True)
    (ggx,) = tg.grad(gx.sum(), x)
    np.testing.assert_allclose(ggx.numpy(), 6 * x._data)
    other.backward()  # and it still works to first order
    np.testing.assert_allclose(c.grad.numpy(), [0.75, 0.75])


def test_no_builtin_primitive_lacks_a_second_derivative():
    """Every primitive's backward is written in Tensor ops (DESIGN): none opts out."""
    from tinygrad_edu.ops import PRIMITIVES

    assert [n for n, cls in PRIMITIVES.items() if not cls.twice_differentiable] == []


def test_tg_grad_only_replays_what_reaches_the_inputs():
    """create_graph "reaches" an op only on a path to the wanted inputs: a branch that feeds
    only other leaves is not replayed (so it neither raises nor costs anything)."""
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    c = tg.tensor([0.5, 0.5], dtype=tg.float64, requires_grad=True)
    y = (x * x * x).sum() + FirstOrderCube.apply(c).sum()
    (gx,) = tg.grad(y, x, create_graph=True)
    (ggx,) = tg.grad(gx.sum(), x)
    np.testing.assert_allclose(ggx.numpy(), 6 * x._data)
    with pytest.raises(NotImplementedError, match="FirstOrderCube"):
        tg.grad(y, [x, c], create_graph=True)  # now c is wanted: the path goes through it


# -- a tensor and its detached alias: two inputs on one array -------------------------------------
_ALIAS_OPS = {  # (x lies in [0.5, 1.5]: no division by zero, no log of a negative)
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "rdiv": lambda a, b: b / a,
    "pow": lambda a, b: a**b,
    "rpow": lambda a, b: b**a,
    "matmul": lambda a, b: a @ b,
    "rmatmul": lambda a, b: b @ a,
    "linear": lambda a, b: tg.nn.functional.linear(a, b, b[0]),
    "where": lambda a, b: tg.where(a > 1, a, b) * b,
    # three inputs, the alias first: b @ aᵀ + a[0] (the alias must not be matched as a)
    "linear_alias_first": lambda a, b: Linear.apply(b, a, a[0]),
}


@pytest.mark.parametrize("op", sorted(_ALIAS_OPS))
def test_a_detached_alias_is_a_constant_to_second_order(op):
    """f(x, x.detach()): the second argument is the same array as the first, but a constant.
    Its first and second derivatives must equal those of f(x, c) with c an independent copy:
    the engine once matched a saved array to the first input holding it, so the alias was
    differentiated as x (for x * x.detach(), d2/dx2 = 1 instead of 0), quietly."""
    f = _ALIAS_OPS[op]

    def derivatives(second):
        x = x64(3, 3, lo=0.5, hi=1.5)
        b = x.detach() if second == "alias" else tg.tensor(x._data.copy())
        (g,) = tg.grad(f(x, b).sum(), x, create_graph=True)
        if not g.requires_grad:  # nothing of g depends on x: the second derivative is 0
            return g._data, np.zeros_like(x._data)
        (h,) = tg.grad((g * g).sum(), x, allow_unused=True)
        return g._data, np.zeros_like(x._data) if h is None else h._data

    (g_alias, h_alias), (g_copy, h_copy) = derivatives("alias"), derivatives("copy")
    np.testing.assert_allclose(g_alias, g_copy, rtol=1e-12)
    np.testing.assert_allclose(h_alias, h_copy, rtol=1e-12, atol=1e-12)


def test_a_detached_alias_changed_in_place_still_stops_backward():
    """The alias reaches forward as a view of the shared array, but what Mul saved for it is
    still version-checked: changing the detached tensor in place before backward raises."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    d = h.detach()
    y = (h * d).sum()
    d.add_(1.0)  # d is not recorded (it needs no grad), but it shares h's memory and version
    with pytest.raises(RuntimeError, match=r"Mul\.backward: .* was modified by `add_`"):
        y.backward()
