"""The op-testing kit: hypothesis strategies for shapes and arrays, and ``check_op``.

The project's own op tests use exactly this, so a custom Function is tested the way the
built-ins are. ``check_op`` draws shapes (0-d, size-0 and broadcast pairs included) and
float64 values in a domain, and checks, per example: forward == the NumPy reference;
backward == central differences (``gradcheck``); second order (``gradgradcheck``) for smooth
ops; each gradient's shape and dtype equal its input's; a zero incoming gradient gives zero
gradients; ``f(x, x)`` accumulates both uses of ``x``; the inputs are never modified.

Example — a user's op, tested like a built-in (run it with pytest)::

    import numpy as np
    import tinygrad_edu as tg
    from tinygrad_edu.testing import check_op

    class Cube(tg.Function):
        '''y = x**3;  dx = grad * 3 x**2'''

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    def test_cube():
        check_op(Cube.apply, lambda x: x**3, domain=(-2, 2))

    def test_hypot():  # two inputs: shapes are drawn mutually broadcastable
        check_op(lambda a, b: (a * a + b * b).sqrt(), np.hypot, domain=(0.5, 2), nargs=2)

Ops with kinks pass ``smooth=False`` (no second-order check) and keep values away from the
kink with ``avoid=(0.0,)``; ops that pick among values (max, maximum) pass ``distinct=True``
so no two values tie. Ops with extra arguments (an axis, an index) draw them with
``params=lambda shapes: <strategy of a dict>``; the dict is passed as keyword arguments to
both the op and the reference. ``check_op`` runs its own ``@given``: call it from a plain
test, not from inside another ``@given``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from .autograd import grad as _grad
from .gradcheck import gradcheck, gradgradcheck, numerical_grad
from .tensor import Tensor

__all__ = [
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "distinct_arrays",
    "axes",
    "check_op",
    "check_op_on",
    "Drawn",
]

Domain = tuple  # (lo, hi)


class Drawn(NamedTuple):
    """What a ``shapes`` strategy may yield when an op's arguments and its input shapes must
    be drawn together (e.g. im2col: the column shape follows from the image and the kernel)."""

    shapes: tuple
    params: dict


# -- strategies -----------------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3):
    """Array shapes, including 0-d ``()`` and size-0 ones (a side of 0) by default.

    >>> from tinygrad_edu.testing import shapes
    >>> s = shapes(min_dims=1)   # e.g. (2, 0, 3)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3
):
    """Tuples of ``num_shapes`` mutually broadcastable shapes, e.g. ``((3, 1), (2, 1, 4))``."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    ).map(lambda r: r.input_shapes)


def _far(avoid: Sequence[float], margin: float) -> Callable[[float], bool]:
    return lambda v: all(abs(v - k) >= margin for k in avoid)


def arrays(shape, domain: Domain = (-2.0, 2.0), avoid: Sequence[float] = (), margin: float = 0.05):
    """float64 arrays of ``shape`` with values in ``[lo, hi]``, at least ``margin`` from each
    point in ``avoid`` (an op's kinks). Values may repeat."""
    lo, hi = domain
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if avoid:
        elements = elements.filter(_far(avoid, margin))
    return hnp.arrays(np.float64, shape, elements=elements)


def distinct_arrays(
    shape_list, domains: Sequence[Domain], avoid: Sequence[float] = (), margin: float = 0.05
):
    """A tuple of float64 arrays, one per shape, in which no two values (within or across the
    arrays) are closer than about (hi - lo) / (200 · n): no ties for max, maximum, std ...

    Input ``i`` of ``n`` takes values from its own grid ``lo + (hi - lo)(k·n + i + 1/2)/(N·n)``.
    """
    shape_list = list(shape_list)
    n = max(len(shape_list), 1)
    biggest = max([int(np.prod(s)) for s in shape_list] + [1])
    grid = max(100, 2 * biggest)

    def one(i, shape, domain):
        lo, hi = domain

        def value(k):
            return lo + (hi - lo) * (k * n + i + 0.5) / (grid * n)

        ints = st.integers(0, grid - 1)
        if avoid:
            ints = ints.filter(lambda k: _far(avoid, margin)(value(k)))
        return hnp.arrays(np.int64, shape, elements=ints, unique=True).map(
            lambda a: value(a.astype(np.float64))
        )

    return st.tuples(*(one(i, s, d) for i, (s, d) in enumerate(zip(shape_list, domains))))


def axes(ndim: int, allow_none: bool = True):
    """An ``axis`` argument for a reduction over ``ndim`` dimensions: None, an int (possibly
    negative) or a tuple of distinct ints."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        options.append(
            st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple)
        )
    return st.one_of(*options) if options else st.none()


# -- the per-op contract ----------------------------------------------------------------------------
def _fail(name: str, arrays_in, check: str, detail: str) -> None:
    shapes_in = ", ".join(str(a.shape) for a in arrays_in)
    raise AssertionError(f"check_op[{name}] on shapes ({shapes_in}): {check}: {detail}")


def _name(op) -> str:
    return getattr(op, "__qualname__", None) or getattr(op, "__name__", None) or repr(op)


def check_op_on(
    op: Callable,
    reference: Callable,
    arrays_in: Sequence[np.ndarray],
    params: dict | None = None,
    *,
    smooth: bool = True,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    forward_rtol: float = 1e-7,
    forward_atol: float = 1e-10,
    name: str | None = None,
) -> None:
    """Run every per-op check on these concrete float64 input arrays (no hypothesis).

    ``op(*tensors, **params)`` is ours, ``reference(*arrays, **params)`` is NumPy's. Raises
    AssertionError naming the op, the input shapes and the check that failed.
    """
    name = name or _name(op)
    params = dict(params or {})
    arrays_in = [np.array(a, dtype=np.float64) for a in arrays_in]
    originals = [a.copy() for a in arrays_in]
    xs = [Tensor._wrap(a, requires_grad=True) for a in arrays_in]

    def f(*t):
        return op(*t, **params)

    # 1. forward == reference
    expected = np.asarray(reference(*originals, **params))
    out = f(*xs)
    if not isinstance(out, Tensor):
        _fail(name, arrays_in, "forward", f"returned {type(out).__name__}, not a Tensor")
    if out._data.shape != expected.shape:
        _fail(name, arrays_in, "forward", f"shape {out._data.shape}, reference {expected.shape}")
    if out._data.dtype != np.float64:
        _fail(name, arrays_in, "forward", f"float64 inputs gave dtype {out._data.dtype}")
    if not np.allclose(out._data, expected, rtol=forward_rtol, atol=forward_atol, equal_nan=True):
        worst = np.max(np.abs(out._data - expected))
        _fail(name, arrays_in, "forward", f"differs from the reference by up to {worst:.3g}")
    if not out.requires_grad:
        _fail(name, arrays_in, "forward", "the output does not require grad")
    _check_unchanged(name, xs, arrays_in, originals, "forward")

    # 2. gradient shape and dtype, by tg.grad and by backward()
    rng = np.random.default_rng(0)
    v = Tensor._wrap(rng.standard_normal(out._data.shape))
    grads = _grad(out, xs, v, retain_graph=True, allow_unused=True)
    for i, (x, g) in enumerate(zip(xs, grads)):
        if g is None:
            continue
        if g._data.shape != x._data.shape or g._data.dtype != x._data.dtype:
            _fail(name, arrays_in, "grad shape/dtype",
                  f"input {i} is {x._data.shape} {x._data.dtype}, its gradient "
                  f"{g._data.shape} {g._data.dtype}")
    out.backward(v)
    for i, (x, g) in enumerate(zip(xs, grads)):
        if g is not None and (x.grad is None or not np.allclose(x.grad._data, g._data, 1e-12, 1e-12)):
            _fail(name, arrays_in, "backward()", f"input {i}: .grad differs from tg.grad")
        if x.grad is not None and (x.grad.shape != x.shape or x.grad.dtype != x.dtype):
            _fail(name, arrays_in, "backward()", f"input {i}: .grad is {x.grad.shape} {x.grad.dtype}")
        x.grad = None
    del out, grads

    # 3. a zero incoming gradient gives zero gradients
    out = f(*xs)
    zeros = _grad(out, xs, Tensor._wrap(np.zeros(out._data.shape)), allow_unused=True)
    for i, g in enumerate(zeros):
        if g is not None and np.any(g._data != 0):
            _fail(name, arrays_in, "zero gradient", f"input {i} got a non-zero gradient")
    del out, zeros

    # 4. first and second order against central differences
    try:
        gradcheck(f, xs, eps=eps, atol=atol, rtol=rtol)
        if smooth:
            gradgradcheck(f, xs, eps=eps, atol=atol, rtol=rtol)
    except AssertionError as e:
        _fail(name, arrays_in, "gradient", str(e))

    # 5. f(x, x): the two uses of x accumulate into one gradient
    if len(xs) >= 2:
        same = [originals[0]] * len(xs)
        try:
            expected_same = np.asarray(reference(*same, **params))
        except (ValueError, IndexError):
            expected_same = None  # these shapes cannot be fed to both positions
        if expected_same is not None:
            x = Tensor._wrap(originals[0].copy(), requires_grad=True)
            w = rng.standard_normal(expected_same.shape)
            out = f(*([x] * len(xs)))
            (g,) = _grad(out, x, Tensor._wrap(w), allow_unused=True)
            del out
            g = np.zeros(x._data.shape) if g is None else g._data
            (num,) = numerical_grad(lambda t: f(*([t] * len(xs))), (x,), eps, grad_output=w)
            if not np.allclose(g, num, rtol=rtol, atol=atol):
                _fail(name, arrays_in, "f(x, x)",
                      f"gradient {g.ravel()[:6]} but central differences give {num.ravel()[:6]}")

    # 6. inputs never modified, by anything above (backward and second order included)
    _check_unchanged(name, xs, arrays_in, originals, "the checks")


def _check_unchanged(name, xs, arrays_in, originals, when: str) -> None:
    """Neither the input arrays nor what the tensors hold may have changed."""
    for i, (x, a, orig) in enumerate(zip(xs, arrays_in, originals)):
        if x._data is not a or not np.array_equal(a, orig, equal_nan=True):
            _fail(name, originals, "mutation", f"input {i} was modified by {when}")


def _per_input(domain, nargs: int) -> list[Domain]:
    if isinstance(domain[0], (tuple, list)):
        if len(domain) != nargs:
            raise ValueError(f"check_op: {len(domain)} domains for {nargs} inputs")
        return [tuple(d) for d in domain]
    return [tuple(domain)] * nargs


def check_op(
    op: Callable,
    reference: Callable,
    domain=(-2.0, 2.0),
    *,
    nargs: int = 1,
    shapes=None,
    params=None,
    smooth: bool = True,
    distinct: bool = False,
    avoid: Sequence[float] = (),
    margin: float = 0.05,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    forward_rtol: float = 1e-7,
    forward_atol: float = 1e-10,
    max_examples: int | None = None,
) -> None:
    """Property-test ``op`` against ``reference`` on hypothesis-drawn float64 inputs.

    ``domain``: ``(lo, hi)`` for every input, or a list with one ``(lo, hi)`` per input.
    ``shapes``: a strategy of tuples of ``nargs`` shapes; by default one shape from
    ``shapes()`` (one input) or mutually broadcastable ones (several inputs), 0-d and size-0
    included. ``params``: a dict, or ``lambda shapes: strategy of a dict``, of keyword
    arguments for both ``op`` and ``reference`` (or let ``shapes`` yield ``Drawn(shapes,
    params)`` to draw both at once). ``smooth=False`` skips gradgradcheck;
    ``avoid``/``margin`` keep values away from kinks; ``distinct=True`` forbids ties.
    The number of examples comes from the active hypothesis profile unless ``max_examples``.
    See the module docstring for the checks and an example.
    """
    domains = _per_input(domain, nargs)
    if shapes is None:
        shapes = (
            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3).map(lambda s: (s,))
            if nargs == 1
            else broadcastable_shapes(nargs)
        )
    name = _name(op)

    def draw_case(data):
        shape_list = data.draw(shapes, label="shapes")
        if isinstance(shape_list, Drawn):  # shapes and arguments drawn together
            shape_list, kw = shape_list
        elif callable(params):
            kw = data.draw(params(shape_list), label="params")
        else:
            kw = dict(params or {})
        if distinct:
            values = data.draw(distinct_arrays(shape_list, domains, avoid, margin), label="inputs")
        else:
            values = tuple(
                data.draw(arrays(s, d, avoid, margin), label=f"input {i}")
                for i, (s, d) in enumerate(zip(shape_list, domains))
            )
        return values, kw

    overrides = {"deadline": None}  # never time a test (gradgradcheck is slow on purpose)
    if max_examples is not None:
        overrides["max_examples"] = max_examples

    @settings(**overrides)
    @given(data=st.data())
    def run(data):
        values, kw = draw_case(data)
        check_op_on(
            op, reference, values, kw, smooth=smooth, eps=eps, atol=atol, rtol=rtol,
            forward_rtol=forward_rtol, forward_atol=forward_atol, name=name,
        )

    run()
