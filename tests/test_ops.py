"""Every primitive (and the core composites) against NumPy, by one table of op cases.

Each case: a name, our op (on tensors), a NumPy/SciPy reference, the input domain (away from
kinks), whether it is smooth, and, where the op needs them, a shape strategy and extra
arguments drawn from the shapes. ``test_op`` runs ``tinygrad_edu.testing.check_op`` on each
(forward, backward vs central differences, second order for smooth ops, grad shape/dtype,
zero gradient, ``f(x, x)``, no mutation) in float64, with hypothesis drawing 0-d, size-0 and
broadcast shapes. ``test_every_primitive_has_a_case`` fails when a primitive in
``ops.PRIMITIVES`` has no case; each case must actually record the primitive it claims.

After the table: fixed cases for kinks and ties, and the stability of the composites.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import scipy.special
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import functional, ops
from tinygrad_edu.ops import conv, elementwise as ew, linalg, loss, shape as sh
from tinygrad_edu.testing import Drawn, axes, check_op, check_op_on, shapes


# -- shape and argument strategies used by the table ----------------------------------------------
def one(**kw):
    """A 1-tuple of shapes (for unary ops)."""
    return shapes(**kw).map(lambda s: (s,))


def reduce_args(allow_empty_tuple=True):
    def params(shape_list):
        (s,) = shape_list
        axis = axes(len(s))
        if not allow_empty_tuple:
            axis = axis.filter(lambda a: a != ())
        return st.fixed_dictionaries({"axis": axis, "keepdims": st.booleans()})

    return params


def one_dim(shape_list):
    """A single (possibly negative) dim of a tensor with at least one dimension."""
    (s,) = shape_list
    return st.fixed_dictionaries({"dim": st.integers(-len(s), len(s) - 1)})


@st.composite
def sum_to_args(draw, shape_list):
    """A target shape that ``s`` broadcasts from: a suffix of ``s`` with some dims set to 1."""
    (s,) = shape_list
    keep = draw(st.integers(0, len(s)))
    tail = s[len(s) - keep :]
    return {"shape": tuple(1 if draw(st.booleans()) else n for n in tail)}


@st.composite
def index_add_args(draw, shape_list):
    """An integer index (repeats allowed) and a target shape with ``zeros(shape)[index]``
    of the gradient's shape."""
    (g,) = shape_list
    m = draw(st.integers(1, 3))
    if len(g) == 0:
        return {"index": draw(st.integers(-m, m - 1)), "shape": (m,)}
    index = draw(hnp.arrays(np.int64, (g[0],), elements=st.integers(0, m - 1)))
    return {"index": index, "shape": (m,) + tuple(g[1:])}


@st.composite
def array_index_args(draw, shape_list):
    """Integer-array indexing (repeated and negative indices) on one axis, or a bool mask."""
    (s,) = shape_list
    kind = draw(st.sampled_from(["array", "pair", "mask"]))
    if kind == "mask":
        return {"index": draw(hnp.arrays(np.bool_, s))}
    ax = draw(st.integers(0, len(s) - 1))
    n = s[ax]
    ints = st.integers(-n, n - 1)
    index_shape = draw(shapes(max_dims=2))
    idx = draw(hnp.arrays(np.int64, index_shape, elements=ints))
    if kind == "pair" and len(s) >= 2 and ax + 1 < len(s):
        ints2 = st.integers(-s[ax + 1], s[ax + 1] - 1)
        idx2 = draw(hnp.arrays(np.int64, index_shape, elements=ints2))
        return {"index": (slice(None),) * ax + (idx, idx2)}
    return {"index": (slice(None),) * ax + (idx,)}


@st.composite
def setitem_shapes(draw):
    """x's shape and v's: x without its first axis (v broadcasts over the rows written)."""
    s = draw(shapes(min_dims=1, min_side=1))
    return s, s[1:]


@st.composite
def setitem_args(draw, shape_list):
    """The rows x[index] = v writes: one, a slice, distinct ones (an array) or a row mask."""
    n = shape_list[0][0]
    kind = draw(st.sampled_from(["int", "slice", "array", "mask"]))
    if kind == "int":
        return {"index": draw(st.integers(-n, n - 1))}
    if kind == "slice":
        start = draw(st.integers(0, n))
        return {"index": slice(start, draw(st.integers(start, n)))}
    if kind == "array":
        rows = draw(st.permutations(range(n)))[: draw(st.integers(0, n))]
        return {"index": np.array(rows, dtype=np.int64)}
    return {"index": draw(hnp.arrays(np.bool_, (n,)))}


def np_setitem(x, v, index):
    y = x.copy()
    y[index] = v
    return y


def basic_index_args(shape_list):
    (s,) = shape_list
    return st.fixed_dictionaries(
        {"index": hnp.basic_indices(s, min_dims=0, allow_newaxis=True, allow_ellipsis=True)}
    )


@st.composite
def cat_shapes(draw):
    base = list(draw(shapes(min_dims=1)))
    ax = draw(st.integers(0, len(base) - 1))
    other = list(base)
    other[ax] = draw(st.integers(0, 3))
    return tuple(base), tuple(other)


def cat_args(shape_list):
    a, b = shape_list
    dims = [d for d in range(len(a)) if all(a[i] == b[i] for i in range(len(a)) if i != d)]
    return st.fixed_dictionaries({"dim": st.sampled_from(dims + [d - len(a) for d in dims])})


def stack_args(shape_list):
    n = len(shape_list[0])
    return st.fixed_dictionaries({"dim": st.integers(-n - 1, n)})


def pad_args(shape_list):
    (s,) = shape_list
    width = st.tuples(st.integers(0, 2), st.integers(0, 2))
    return st.fixed_dictionaries(
        {"pad_width": st.tuples(*[width] * len(s)), "value": st.sampled_from([0.0, -1.5])}
    )


def flip_args(shape_list):
    (s,) = shape_list
    dims = st.lists(st.integers(-len(s), len(s) - 1), min_size=1, max_size=len(s), unique_by=lambda d: d % len(s))
    return st.fixed_dictionaries({"dims": st.one_of(st.none(), dims.map(tuple))})


def permute_args(shape_list):
    (s,) = shape_list
    perms = st.permutations(range(len(s))).filter(lambda p: list(p) != sorted(p))
    return st.fixed_dictionaries({"dims": perms.map(tuple)})


def transpose_args(shape_list):
    (s,) = shape_list
    d = st.integers(-len(s), len(s) - 1)
    return st.tuples(d, d).filter(lambda p: p[0] % len(s) != p[1] % len(s)).map(
        lambda p: {"dim0": p[0], "dim1": p[1]}
    )


@st.composite
def broadcast_to_args(draw, shape_list):
    (s,) = shape_list
    lead = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=2)))
    return {"shape": lead + tuple(draw(st.integers(0, 3)) if n == 1 else n for n in s)}


@st.composite
def reshape_args(draw, shape_list):
    """A different shape with the same elements: flattened, or with a 1 inserted."""
    (s,) = shape_list
    kind = draw(st.sampled_from(["insert", "flat", "row"]))
    if kind == "insert" or len(s) == 1:
        at = draw(st.integers(0, len(s)))
        return {"shape": s[:at] + (1,) + s[at:]}
    return {"shape": (-1,) if kind == "flat" else (1, -1)}


@st.composite
def where_args(draw, shape_list):
    """A bool condition that broadcasts against both operands."""
    out = np.broadcast_shapes(*shape_list)
    keep = draw(st.integers(0, len(out)))
    cond_shape = tuple(1 if draw(st.booleans()) else n for n in out[len(out) - keep :])
    return {"cond": draw(hnp.arrays(np.bool_, cond_shape))}


def matmul_shapes(kind):
    k, m, n = (st.integers(0, 3) for _ in range(3))
    if kind == "1d@1d":
        return k.map(lambda k: ((k,), (k,)))
    if kind == "2d@2d":
        return st.tuples(m, k, n).map(lambda t: ((t[0], t[1]), (t[1], t[2])))
    if kind == "1d@nd":
        return st.tuples(k, n, shapes(max_dims=2)).map(lambda t: ((t[0],), t[2] + (t[0], t[1])))
    if kind == "nd@1d":
        return st.tuples(m, k, shapes(max_dims=2)).map(lambda t: (t[2] + (t[0], t[1]), (t[1],)))
    # batched, with the batch dimensions mutually broadcastable (NumPy's gufunc signature)
    return hnp.mutually_broadcastable_shapes(
        signature="(m,k),(k,n)->(m,n)", max_dims=2, min_side=0, max_side=3
    ).map(lambda r: r.input_shapes)


@st.composite
def linear_case(draw, bias=True):
    """x (..., in) with up to two batch dimensions, W (out, in) and, with a bias, b (out,)."""
    lead = draw(shapes(max_dims=2))
    k, n = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    return (lead + (k,), (n, k)) + (((n,),) if bias else ())


def np_linear(x, w, b=None):
    if w.ndim != 2 or (b is not None and b.shape != w.shape[:1]):
        raise ValueError("Linear takes W (out, in) and b (out,)")  # (the kit skips f(x, x))
    return x @ w.T if b is None else x @ w.T + b


@st.composite
def window_case(draw, kind):
    """An image shape (N, C, H, W) and a Window (kernel, stride, padding, dilation) with at
    least one output position; for im2col / col2im / max_pool2d."""
    n, c, h, w = draw(st.tuples(*(st.integers(lo, 3) for lo in (0, 1, 1, 1))))
    kh, kw = draw(st.integers(1, min(3, h + 1))), draw(st.integers(1, min(3, w + 1)))
    big = kind != "max_pool2d"  # pooling pads at most half a kernel, as in PyTorch
    ph = draw(st.integers(0, 1 if big else kh // 2))
    pw = draw(st.integers(0, 1 if big else kw // 2))
    g = conv.Window(kh, kw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), ph, pw,
                    draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    ho = (h + 2 * g.ph - g.dh * (g.kh - 1) - 1) // g.sh + 1
    wo = (w + 2 * g.pw - g.dw * (g.kw - 1) - 1) // g.sw + 1
    assume(ho >= 1 and wo >= 1)
    if kind == "max_pool2d":  # every window must see at least one real pixel
        assume(np.isfinite(np_max_pool2d(np.zeros((1, 1, h, w)), g)).all())
    if kind == "col2im":
        return Drawn(((n * ho * wo, kh * kw * c),), {"in_shape": (n, c, h, w), "geometry": g})
    return Drawn(((n, c, h, w),), {"geometry": g})


@st.composite
def nll_args(draw, shape_list):
    """Class indices for each row of (N, C) log-probabilities, optional row weights (away
    from a zero total) and a reduction."""
    (s,) = shape_list
    target = draw(hnp.arrays(np.int64, (s[0],), elements=st.integers(0, s[1] - 1)))
    weight = draw(st.none() | hnp.arrays(np.float64, (s[0],), elements=st.floats(0.25, 2.0)))
    return {"target": target, "weight": weight,
            "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def np_nll(x, target, weight, reduction):
    w = np.ones(len(target)) if weight is None else weight
    picked = np.array([x[i, t] for i, t in enumerate(target)]) * w
    if reduction == "none":
        return -picked
    return -picked.sum() / (w.sum() if reduction == "mean" else 1.0)


def np_cross_entropy(x, target, weight, reduction):
    """Row by row: log(sum(exp(x[i]))) - x[i, t_i], weighted and reduced as np_nll."""
    w = np.ones(len(target)) if weight is None else weight
    per_row = np.array(
        [np.log(np.sum(np.exp(row - row.max()))) + row.max() - row[t] for row, t in zip(x, target)]
    ) * w
    if reduction == "none":
        return per_row
    return per_row.sum() / (w.sum() if reduction == "mean" else 1.0)


# -- independent references for ops NumPy has no one-liner for ------------------------------------
def np_sum_to(x, shape):
    """Brute force: add each element of x into the position it was broadcast from."""
    out = np.zeros(shape)
    lead = x.ndim - len(shape)
    for idx in np.ndindex(x.shape):
        out[tuple(0 if n == 1 else i for i, n in zip(idx[lead:], shape))] += x[idx]
    return out


def np_index_add(g, index, shape):
    out = np.zeros(shape)
    if np.ndim(index) == 0:
        out[index] += g
    else:
        for k, i in enumerate(index):
            out[i] += g[k]
    return out


def _window_positions(in_shape, g):
    """Yield (ho, wo, i, j, y, x): output position, kernel offset, and the padded-away
    coordinates it reads (possibly outside the image), by the textbook formula."""
    ho, wo = _out_hw(in_shape, g)
    for a in range(ho):
        for b in range(wo):
            for i in range(g.kh):
                for j in range(g.kw):
                    yield a, b, i, j, a * g.sh + i * g.dh - g.ph, b * g.sw + j * g.dw - g.pw


def _out_hw(in_shape, g):
    _, _, h, w = in_shape
    return ((h + 2 * g.ph - g.dh * (g.kh - 1) - 1) // g.sh + 1,
            (w + 2 * g.pw - g.dw * (g.kw - 1) - 1) // g.sw + 1)


def np_im2col(x, geometry):
    g, (n, c, h, w) = geometry, x.shape
    ho, wo = _out_hw(x.shape, g)
    cols = np.zeros((n, ho, wo, g.kh, g.kw, c))
    for a, b, i, j, y, xx in _window_positions(x.shape, g):
        if 0 <= y < h and 0 <= xx < w:
            cols[:, a, b, i, j, :] = x[:, :, y, xx]
    return cols.reshape(n * ho * wo, g.kh * g.kw * c)


def np_col2im(cols, in_shape, geometry):
    g, (n, c, h, w) = geometry, in_shape
    ho, wo = _out_hw(in_shape, g)
    c6 = cols.reshape(n, ho, wo, g.kh, g.kw, c)
    x = np.zeros(in_shape)
    for a, b, i, j, y, xx in _window_positions(in_shape, g):
        if 0 <= y < h and 0 <= xx < w:
            x[:, :, y, xx] += c6[:, a, b, i, j, :]
    return x


def np_max_pool2d(x, geometry):
    g, (n, c, h, w) = geometry, x.shape
    out = np.full((n, c) + _out_hw(x.shape, g), -np.inf)
    for a, b, i, j, y, xx in _window_positions(x.shape, g):
        if 0 <= y < h and 0 <= xx < w:
            out[:, :, a, b] = np.maximum(out[:, :, a, b], x[:, :, y, xx])
    return out


def np_logsumexp(x, axis, keepdims):
    # scipy's keepdims turns a 0-d input into shape (1,); NumPy's (and our) rule keeps ()
    shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    return np.reshape(scipy.special.logsumexp(x, axis=axis), shape)


def np_var(x, axis, keepdims):
    return np.var(x, axis=axis, ddof=1, keepdims=keepdims)


def np_std(x, axis, keepdims):
    return np.std(x, axis=axis, ddof=1, keepdims=keepdims)


# -- the table ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    primitive: str | None  # the entry of ops.PRIMITIVES this case covers (None: composite only)
    op: Callable
    reference: Callable
    domain: Any = (-2.0, 2.0)
    nargs: int = 1
    smooth: bool = True
    distinct: bool = False  # no ties (max, maximum, std, ...)
    avoid: tuple = ()  # kinks to keep away from
    shapes: Any = None
    params: Any = None


BINARY = dict(nargs=2)  # shapes default to mutually broadcastable pairs
NONEMPTY = shapes(min_side=1).map(lambda s: (s,))
MIN2 = shapes(min_dims=1, min_side=2).map(lambda s: (s,))

CASES = [
    # elementwise, two operands (broadcast pairs)
    Case("add", "Add", lambda a, b: a + b, np.add, **BINARY),
    Case("sub", "Sub", lambda a, b: a - b, np.subtract, **BINARY),
    Case("mul", "Mul", lambda a, b: a * b, np.multiply, **BINARY),
    Case("div", "Div", lambda a, b: a / b, np.divide, avoid=(0.0,), **BINARY),
    Case("pow", "Pow", lambda a, b: a**b, np.power, domain=[(0.3, 2.0), (-2.0, 2.0)], **BINARY),
    Case("maximum", "Maximum", tg.maximum, np.maximum, smooth=False, distinct=True, **BINARY),
    Case("minimum", "Minimum", tg.minimum, np.minimum, smooth=False, distinct=True, **BINARY),
    Case(
        "where", "Where", lambda a, b, cond: tg.where(cond, a, b),
        lambda a, b, cond: np.where(cond, a, b), params=where_args, **BINARY,
    ),
    # elementwise, one operand (scalar operands included)
    Case("neg", "Neg", lambda x: -x, np.negative),
    Case("pow x**3", "Pow", lambda x: x**3, lambda x: x**3),
    Case("pow x**2", "Pow", lambda x: x**2, np.square),
    Case("pow x**-1.5", "Pow", lambda x: x**-1.5, lambda x: x**-1.5, domain=(0.3, 3.0)),
    Case("pow 2**x", "Pow", lambda x: 2.0**x, lambda x: 2.0**x),
    Case("rdiv 1/x", "Div", lambda x: 1.0 / x, lambda x: 1.0 / x, avoid=(0.0,), domain=(-2, 2)),
    Case("exp", "Exp", tg.exp, np.exp),
    Case("log", "Log", tg.log, np.log, domain=(0.2, 3.0)),
    Case("sqrt", "Sqrt", tg.sqrt, np.sqrt, domain=(0.2, 3.0)),
    Case("sin", "Sin", tg.sin, np.sin, domain=(-4.0, 4.0)),
    Case("cos", "Cos", tg.cos, np.cos, domain=(-4.0, 4.0)),
    Case("tanh", "Tanh", tg.tanh, np.tanh, domain=(-3.0, 3.0)),
    Case("sigmoid", "Sigmoid", tg.sigmoid, scipy.special.expit, domain=(-4.0, 4.0)),
    Case("erf", "Erf", tg.erf, scipy.special.erf),
    Case("relu", "Relu", tg.relu, lambda x: np.maximum(x, 0.0), smooth=False, avoid=(0.0,)),
    Case("abs", "Abs", tg.abs, np.abs, smooth=False, avoid=(0.0,)),
    Case(
        "clip", "Clip", lambda x: tg.clip(x, -1.0, 1.0), lambda x: np.clip(x, -1.0, 1.0),
        smooth=False, avoid=(-1.0, 1.0),
    ),
    Case(
        "clamp min only", "Clip", lambda x: x.clamp(min=-0.5), lambda x: np.maximum(x, -0.5),
        smooth=False, avoid=(-0.5,),
    ),
    Case("cast", "Cast", lambda x: ew.Cast.apply(x, np.float64), lambda x: x.copy()),
    # remainder and the step functions: jumps where a / b or x is a whole number, kept away
    Case("remainder", "Remainder", lambda a, b: a % b, np.mod, domain=[(-2, 2), (2.5, 3)],
         avoid=(0.0,), **BINARY),
    Case("rmod 7 % x", "Remainder", lambda x: 7.0 % x, lambda x: 7.0 % x, domain=(2.5, 3.0)),
    Case("floor_divide", "PiecewiseConstant", lambda a, b: a // b, np.floor_divide,
         domain=[(-2, 2), (2.5, 3)], avoid=(0.0,), **BINARY),
    *[
        Case(name, "PiecewiseConstant", getattr(tg, name), getattr(np, name), avoid=kinks)
        for name, kinks in [
            ("floor", (-2, -1, 0, 1, 2)), ("ceil", (-2, -1, 0, 1, 2)),
            ("trunc", (-2, -1, 0, 1, 2)), ("round", (-1.5, -0.5, 0.5, 1.5)), ("sign", (0,)),
        ]
    ],
    Case("clone", "Clone", lambda x: x.clone(), lambda x: x.copy()),
    # reductions
    Case(
        "sum", "Sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), params=reduce_args(),
    ),
    Case(
        "mean", "Mean", lambda x, axis, keepdims: x.mean(dim=axis, keepdim=keepdims),
        lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
        shapes=NONEMPTY, params=reduce_args(),
    ),
    Case(
        "max", "Max", lambda x, axis, keepdims: x.amax(axis, keepdims),
        lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
        smooth=False, distinct=True, shapes=NONEMPTY, params=reduce_args(),
    ),
    Case(
        "min", "Min", lambda x, axis, keepdims: x.amin(axis, keepdims),
        lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
        smooth=False, distinct=True, shapes=NONEMPTY, params=reduce_args(),
    ),
    Case(
        "nll_loss", "NllLoss",
        lambda x, target, weight, reduction: loss.NllLoss.apply(
            x, target=target, weight=None if weight is None else weight.astype(x.dtype),
            reduction=reduction),
        np_nll, shapes=one(min_dims=2, max_dims=2, min_side=1), params=nll_args,
    ),
    Case(
        "cross_entropy", "CrossEntropy",
        lambda x, target, weight, reduction: loss.CrossEntropy.apply(
            x, target=target, weight=None if weight is None else weight.astype(x.dtype),
            reduction=reduction),
        np_cross_entropy, shapes=one(min_dims=2, max_dims=2, min_side=1), params=nll_args,
    ),
    Case("sum_to", "SumTo", lambda x, shape: functional.sum_to(x, shape), np_sum_to, params=sum_to_args),
    # shape
    Case("reshape", "Reshape", lambda x, shape: x.reshape(shape), np.reshape, params=reshape_args),
    Case(
        "permute", "Permute", lambda x, dims: x.permute(dims), lambda x, dims: np.transpose(x, dims),
        shapes=one(min_dims=2), params=permute_args,
    ),
    Case(
        "transpose(d0, d1)", "Permute", lambda x, dim0, dim1: x.transpose(dim0, dim1),
        lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
        shapes=one(min_dims=2), params=transpose_args,
    ),
    Case(
        "broadcast_to", "BroadcastTo", lambda x, shape: x.broadcast_to(shape), np.broadcast_to,
        params=broadcast_to_args,
    ),
    Case(
        "getitem basic", "GetItem", lambda x, index: x[index], lambda x, index: x[index],
        params=basic_index_args,
    ),
    Case(
        "getitem array", "GetItem", lambda x, index: x[index], lambda x, index: x[index],
        shapes=one(min_dims=1, min_side=1), params=array_index_args,
    ),
    Case(
        "setitem", "SetItem", lambda x, v, index: sh.SetItem.apply(x, v, index), np_setitem,
        nargs=2, shapes=setitem_shapes(), params=setitem_args,
    ),
    Case(
        "index_add", "IndexAdd", lambda g, index, shape: sh.IndexAdd.apply(g, index, shape),
        np_index_add, shapes=one(max_dims=2), params=index_add_args,
    ),
    Case(
        "cat", "Concatenate", lambda a, b, dim: tg.cat([a, b], dim),
        lambda a, b, dim: np.concatenate([a, b], axis=dim), nargs=2, shapes=cat_shapes(),
        params=cat_args,
    ),
    Case(
        "pad", "Pad", lambda x, pad_width, value: tg.pad(x, pad_width, value),
        lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value),
        shapes=one(min_dims=1), params=pad_args,
    ),
    Case(
        "flip", "Flip", lambda x, dims: tg.flip(x, dims), lambda x, dims: np.flip(x, dims),
        shapes=one(min_dims=1), params=flip_args,
    ),
    # matmul
    *[
        Case(f"matmul {kind}", "MatMul", lambda a, b: a @ b, np.matmul, nargs=2,
             shapes=matmul_shapes(kind))
        for kind in ("1d@1d", "2d@2d", "1d@nd", "nd@1d", "batched")
    ],
    Case(
        "linear (bias)", "Linear", lambda x, w, b: linalg.Linear.apply(x, w, b), np_linear,
        nargs=3, shapes=linear_case(),
    ),
    Case(
        "linear (no bias)", "Linear", lambda x, w: linalg.Linear.apply(x, w, None), np_linear,
        nargs=2, shapes=linear_case(bias=False),
    ),
    # convolution and pooling windows (registered by ops/conv.py)
    Case("im2col", "Im2Col", conv.im2col, np_im2col, shapes=window_case("im2col")),
    Case("col2im", "Col2Im", conv.col2im, np_col2im, shapes=window_case("col2im")),
    Case(
        "max_pool2d", "MaxPool2d", conv.max_pool2d, np_max_pool2d, smooth=False, distinct=True,
        shapes=window_case("max_pool2d"),
    ),
    # composites (no backward of their own): checked the same way
    Case(
        "var", None, lambda x, axis, keepdims: x.var(axis, keepdim=keepdims), np_var,
        shapes=MIN2, params=reduce_args(allow_empty_tuple=False),
    ),
    Case(
        "std", None, lambda x, axis, keepdims: x.std(axis, keepdim=keepdims), np_std,
        distinct=True, shapes=MIN2, params=reduce_args(allow_empty_tuple=False),
    ),
    Case(
        "logsumexp", None, lambda x, axis, keepdims: x.logsumexp(axis, keepdims),
        np_logsumexp,
        shapes=NONEMPTY, params=reduce_args(allow_empty_tuple=False),
    ),
    Case(
        "softmax", None, lambda x, dim: x.softmax(dim),
        lambda x, dim: scipy.special.softmax(x, axis=dim), shapes=one(min_dims=1, min_side=1),
        params=one_dim,
    ),
    Case(
        "log_softmax", "LogSoftmax", lambda x, dim: x.log_softmax(dim),
        lambda x, dim: scipy.special.log_softmax(x, axis=dim),
        shapes=one(min_dims=1, min_side=1), params=one_dim,
    ),
    Case(
        "stack", None, lambda a, b, dim: tg.stack([a, b], dim),
        lambda a, b, dim: np.stack([a, b], axis=dim), nargs=2,
        shapes=shapes().map(lambda s: (s, s)), params=stack_args,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case: Case) -> None:
    seen: set[str] = set()

    def spy(*args, **kw):  # the op, noting which primitives it records
        tape = tg.get_tape()
        last = max((r.seq for r in tape), default=-1)
        out = case.op(*args, **kw)
        seen.update(r.name for r in tape if r.seq > last)
        return out

    spy.__qualname__ = case.name
    check_op(
        spy, case.reference, case.domain, nargs=case.nargs, shapes=case.shapes,
        params=case.params, smooth=case.smooth, distinct=case.distinct, avoid=case.avoid,
    )
    if case.primitive is not None:
        assert case.primitive in seen, f"{case.name} never recorded {case.primitive}: {seen}"


def test_every_primitive_has_a_case() -> None:
    covered = {c.primitive for c in CASES}
    missing = sorted(set(ops.PRIMITIVES) - covered)
    assert not missing, f"primitives without a case in tests/test_ops.py: {missing}"
    unknown = sorted(covered - set(ops.PRIMITIVES) - {None})
    assert not unknown, f"cases name primitives that are not registered: {unknown}"


# -- kinks and ties ---------------------------------------------------------------------------------
def _grad_of(f, *values):
    xs = [tg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    f(*xs).sum().backward()
    return [x.grad._data for x in xs]


def test_relu_derivative_at_zero_is_zero() -> None:
    (g,) = _grad_of(tg.relu, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_abs_derivative_at_zero_is_zero() -> None:
    (g,) = _grad_of(tg.abs, [-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_clip_derivative_at_the_bounds_passes_the_gradient() -> None:
    (g,) = _grad_of(lambda x: x.clip(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_min_ties_share_the_gradient_evenly(reduce) -> None:
    v = [[3.0, 1.0, 3.0, 3.0], [2.0, 2.0, 0.0, 5.0]] if reduce == "max" else \
        [[1.0, 3.0, 1.0, 1.0], [2.0, 2.0, 4.0, 0.0]]
    x = tg.tensor(v, dtype=tg.float64, requires_grad=True)
    out = x.amax(1) if reduce == "max" else x.amin(1)
    out.backward(tg.tensor([6.0, 4.0], dtype=tg.float64))
    expect = [[2.0, 0.0, 2.0, 2.0], [0.0, 0.0, 0.0, 4.0]] if reduce == "max" else \
        [[2.0, 0.0, 2.0, 2.0], [0.0, 0.0, 0.0, 4.0]]
    np.testing.assert_allclose(x.grad._data, expect)
    np.testing.assert_allclose(x.grad._data.sum(1), [6.0, 4.0])  # shares sum to the gradient


def test_max_over_everything_with_ties() -> None:
    (g,) = _grad_of(lambda x: x.max(), [[1.0, 7.0], [7.0, 7.0]])
    np.testing.assert_allclose(g, [[0.0, 1 / 3], [1 / 3, 1 / 3]])


def test_maximum_of_a_tensor_with_itself() -> None:
    # maximum(a, a) = a: each side gets half, and the halves accumulate to 1
    (g,) = _grad_of(lambda a: tg.maximum(a, a), [1.0, -2.0, 0.0])
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])
    (g,) = _grad_of(lambda a: tg.minimum(a, a) * 3.0, [1.0, -2.0])
    np.testing.assert_array_equal(g, [3.0, 3.0])


def test_maximum_ties_between_two_tensors_split_evenly() -> None:
    ga, gb = _grad_of(tg.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])


def test_max_of_a_size0_tensor_over_a_nonempty_dim() -> None:
    x = tg.zeros(0, 3, dtype=tg.float64, requires_grad=True)
    out = x.amax(1)
    assert out.shape == (0,)
    out.sum().backward()
    assert x.grad.shape == (0, 3)


def test_getitem_repeated_indices_accumulate() -> None:
    (g,) = _grad_of(lambda x: x[[0, 2, 0, 0]], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])


def test_cast_backward_returns_the_input_dtype() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = x.double() * tg.tensor([3.0, 4.0], dtype=tg.float64)
    assert y.dtype == tg.float64
    y.sum().backward()
    assert x.grad.dtype == tg.float32
    np.testing.assert_array_equal(x.grad._data, [3.0, 4.0])


# -- composites: values, and stability at extreme logits --------------------------------------------
@pytest.mark.parametrize("kw, ddof", [({}, 1), ({"unbiased": False}, 0), ({"correction": 0}, 0),
                                      ({"correction": 2}, 2), ({"unbiased": True}, 1)])
def test_var_std_corrections(kw, ddof) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    x = tg.tensor(a)
    np.testing.assert_allclose(x.var(**kw).numpy(), np.var(a, ddof=ddof))
    np.testing.assert_allclose(x.std(1, **kw).numpy(), np.std(a, 1, ddof=ddof))
    np.testing.assert_allclose(x.var(dim=0, keepdim=True, **kw).numpy(),
                               np.var(a, 0, ddof=ddof, keepdims=True))


EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1.0, 3.0]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_composites_are_stable_at_extreme_logits(name) -> None:
    x = tg.tensor(EXTREME, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warning either
        out = getattr(x, name)(1)
        w = np.random.default_rng(0).standard_normal(out.shape)
        out.backward(tg.tensor(w))
    expected = {
        "softmax": scipy.special.softmax,
        "log_softmax": scipy.special.log_softmax,
        "logsumexp": scipy.special.logsumexp,
    }[name](EXTREME, axis=1)
    assert np.isfinite(out._data).all() and np.isfinite(x.grad._data).all()
    np.testing.assert_allclose(out._data, expected, rtol=1e-12, atol=1e-12)
    if name == "softmax":
        np.testing.assert_allclose(out._data.sum(1), 1.0)


def test_composite_gradients_at_extreme_logits_match_central_differences() -> None:
    # shifted rows: the derivative is shift-invariant, so compare at +1e4 with the same
    # logits near 0 where central differences are accurate
    near = EXTREME - EXTREME.max(1, keepdims=True)
    for name in ("softmax", "log_softmax", "logsumexp"):
        w = np.random.default_rng(1).standard_normal(3 if name == "logsumexp" else (3, 3))
        grads = []
        for logits in (EXTREME, near):
            x = tg.tensor(logits, requires_grad=True)
            getattr(x, name)(1).backward(tg.tensor(w))
            grads.append(x.grad._data)
        np.testing.assert_allclose(grads[0], grads[1], atol=1e-12)
        check_op_on(lambda x: getattr(x, name)(1), lambda a: {
            "softmax": scipy.special.softmax, "log_softmax": scipy.special.log_softmax,
            "logsumexp": scipy.special.logsumexp}[name](a, axis=1), [near], name=name)


@pytest.mark.parametrize("fn, ref", [(tg.sigmoid, scipy.special.expit), (tg.tanh, np.tanh)])
def test_sigmoid_tanh_saturate_quietly(fn, ref) -> None:
    for dtype in (tg.float32, tg.float64):
        x = tg.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = fn(x)
            y.sum().backward()
        assert not np.isnan(y._data).any() and not np.isnan(x.grad._data).any()
        np.testing.assert_allclose(y._data, ref(x._data), rtol=1e-6)
        assert x.grad._data[0] == 0.0 and x.grad._data[-1] == 0.0


# -- the kit itself -----------------------------------------------------------------------------------
def test_the_testing_kit_docstring_example_runs() -> None:
    import tinygrad_edu.testing as kit

    code = kit.__doc__.split("::\n", 1)[1].split("\nOps with kinks", 1)[0]
    namespace: dict = {}
    exec(compile(__import__("textwrap").dedent(code), "testing-docstring", "exec"), namespace)
    namespace["test_cube"]()
    namespace["test_hypot"]()


def test_check_op_catches_a_wrong_custom_function() -> None:
    class SloppyCube(tg.Function):
        """y = x**3 with the derivative of x**3 taken as 3x**2 + 0.01 (a typo'd constant)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (3 * x * x + 0.01)

    with pytest.raises(AssertionError, match="gradient"):
        check_op(SloppyCube.apply, lambda x: x**3, max_examples=20)

    class MutatingExp(tg.Function):
        @staticmethod
        def forward(ctx, x):
            np.exp(x, out=x)  # a forward that writes into its input
            ctx.save_for_backward(x)
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    with pytest.raises(AssertionError, match="input 0 was modified by forward"):
        check_op_on(MutatingExp.apply, np.exp, [np.array([0.5, 1.0])])


def test_linear_gradients_are_c_ordered_arrays_and_match_numpy() -> None:
    """dW = gᵀx and dx = gW arrive C-ordered (the optimizer reads them contiguously) and equal
    the closed-form products."""
    import tinygrad_edu.nn.functional as F

    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    g = rng.standard_normal((5, 3))
    F.linear(x, w).backward(tg.tensor(g))
    assert w.grad._data.flags.c_contiguous and x.grad._data.flags.c_contiguous
    np.testing.assert_allclose(w.grad._data, g.T @ x._data, rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, g @ w._data, rtol=1e-12)


def test_linear_with_bias_is_one_recorded_linear() -> None:
    import tinygrad_edu.nn.functional as F

    x = tg.ones(4, 3, requires_grad=True)
    w, b = tg.ones(2, 3, requires_grad=True), tg.ones(2, requires_grad=True)
    out = F.linear(x, w, b)
    assert [r.name for r in tg.get_tape()] == ["Linear"]
    out.sum().backward()
    np.testing.assert_array_equal(b.grad._data, [4.0, 4.0])  # summed over the batch
