"""``python -m tinygrad_edu gradcheck``: every primitive in ``tinygrad_edu.ops.PRIMITIVES``
checked against central differences, first and (where smooth) second order, in float64."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from . import functional, ops
from .gradcheck import _check_first_order, _first_gradient, _outputs
from .tensor import Tensor

def _grid(rng, shape, lo=-2.0, hi=2.0, offset=0.3) -> np.ndarray:
    """Distinct values in (lo, hi), shuffled, never on the kinks at 0, +-1 (for the CLI)."""
    n = int(np.prod(shape))
    return lo + (hi - lo) * (rng.permutation(n) + offset) / max(n, 1)


def _samples(rng) -> dict[str, list[tuple[Callable, list[np.ndarray]]]]:
    """One or more (function, input arrays) per primitive, away from kinks and ties."""
    from .ops import conv, elementwise as ew, loss, shape as sh

    def arr(*shape, lo=-2.0, hi=2.0, offset=0.3):
        return _grid(rng, shape, lo, hi, offset).reshape(shape)

    pos = dict(lo=0.5, hi=2.0)
    cond = rng.random((3, 4)) > 0.5
    index = (np.array([0, 2, 0]), slice(1, None))
    # kernel 2x3, stride (2, 1), padding (1, 0), dilation (1, 2): (4, 5) -> (3, 1) outputs
    window = conv.Window(2, 3, 2, 1, 1, 0, 1, 2)
    pool = conv.Window(2, 2, 2, 2, 1, 0, 1, 1)
    return {
        "Add": [(functional.add, [arr(3, 4), arr(4)])],
        "Sub": [(functional.sub, [arr(3, 1), arr(4)])],
        "Mul": [(functional.mul, [arr(3, 4), arr(3, 1)])],
        "Div": [(functional.div, [arr(3, 4), arr(4, **pos)])],
        "Neg": [(functional.neg, [arr(3, 4)])],
        "Pow": [(functional.pow, [arr(3, 4, **pos), arr(4)]), (lambda x: x ** 3, [arr(5)])],
        "Exp": [(functional.exp, [arr(3, 4)])],
        "Log": [(functional.log, [arr(3, 4, **pos)])],
        "Sqrt": [(functional.sqrt, [arr(3, 4, **pos)])],
        "Sin": [(functional.sin, [arr(3, 4)])],
        "Cos": [(functional.cos, [arr(3, 4)])],
        "Tanh": [(functional.tanh, [arr(3, 4)])],
        "Sigmoid": [(functional.sigmoid, [arr(3, 4)])],
        "Relu": [(functional.relu, [arr(3, 4)])],
        "Abs": [(functional.abs, [arr(3, 4)])],
        "Erf": [(functional.erf, [arr(3, 4)])],
        "Maximum": [(functional.maximum, [arr(3, 4), arr(4, offset=0.7)])],
        "Minimum": [(functional.minimum, [arr(3, 4), arr(4, offset=0.7)])],
        "Where": [(lambda a, b: functional.where(cond, a, b), [arr(3, 4), arr(4)])],
        "Clip": [(lambda x: functional.clip(x, -1.0, 1.0), [arr(3, 4)])],
        "Cast": [(lambda x: ew.Cast.apply(x, np.float64), [arr(3, 4)])],
        "Clone": [(functional.clone, [arr(3, 4)])],
        "Remainder": [(functional.remainder, [arr(3, 4), arr(4, lo=2.5, hi=3.0)])],
        "PiecewiseConstant": [(functional.floor, [arr(3, 4)])],
        "Sum": [(lambda x: functional.sum(x, (0, 2)), [arr(2, 3, 4)])],
        "Mean": [(lambda x: functional.mean(x, 1, True), [arr(2, 3, 4)])],
        "Max": [(lambda x: functional.max(x, 1), [arr(3, 4)])],
        "Min": [(lambda x: functional.min(x), [arr(3, 4)])],
        "SumTo": [(lambda x: functional.sum_to(x, (3, 1)), [arr(2, 3, 4)])],
        "LogSoftmax": [(lambda x: functional.log_softmax(x, 1), [arr(2, 3, 4)])],
        "NllLoss": [
            (lambda x: loss.NllLoss.apply(x, target=np.array([2, 0, 2]), reduction="mean"),
             [arr(3, 4)]),
            (lambda x: loss.NllLoss.apply(x, target=np.array([1, 3, 0]), reduction="sum",
                                          weight=np.array([0.5, 0.0, 2.0])), [arr(3, 4)]),
        ],
        "CrossEntropy": [
            (lambda x: loss.CrossEntropy.apply(x, target=np.array([2, 0, 2])), [arr(3, 4)]),
            (lambda x: loss.CrossEntropy.apply(x, target=np.array([1, 3, 0]), reduction="none",
                                               weight=np.array([0.5, 0.0, 2.0])), [arr(3, 4)]),
        ],
        "Reshape": [(lambda x: functional.reshape(x, (4, 3)), [arr(3, 4)])],
        "Permute": [(lambda x: functional.permute(x, (2, 0, 1)), [arr(2, 3, 4)])],
        "BroadcastTo": [(lambda x: functional.broadcast_to(x, (2, 3, 4)), [arr(3, 1)])],
        "GetItem": [(lambda x: x[index], [arr(3, 4)])],
        "IndexAdd": [(lambda g: sh.IndexAdd.apply(g, index, (3, 4)), [arr(3, 3)])],
        "SetItem": [
            (lambda x, v: sh.SetItem.apply(x, v, (slice(0, 2), 1)), [arr(3, 4), arr(2)]),
            (lambda x, v: sh.SetItem.apply(x, v, np.array([2, 0])), [arr(3, 4), arr(4)]),
        ],
        "Concatenate": [(lambda a, b: functional.cat([a, b], 1), [arr(3, 2), arr(3, 4)])],
        "Pad": [(lambda x: functional.pad(x, ((1, 0), (0, 2))), [arr(3, 4)])],
        "Flip": [(lambda x: functional.flip(x, (0,)), [arr(3, 4)])],
        "Im2Col": [(lambda x: conv.im2col(x, window), [arr(2, 2, 4, 5)])],
        "Col2Im": [(lambda c: conv.col2im(c, (2, 2, 4, 5), window), [arr(2 * 3 * 1, 2 * 3 * 2)])],
        "MaxPool2d": [(lambda x: conv.max_pool2d(x, pool), [arr(2, 2, 4, 5)])],
        "MatMul": [
            (functional.matmul, [arr(4), arr(4)]),
            (functional.matmul, [arr(3, 4), arr(4, 2)]),
            (functional.matmul, [arr(2, 1, 3, 4), arr(3, 4, 2)]),
            (functional.matmul, [arr(3, 4), arr(4)]),
            (functional.matmul, [arr(4), arr(2, 4, 3)]),
        ],
        "Linear": [
            (lambda x, w, b: ops.linalg.Linear.apply(x, w, b), [arr(3, 4), arr(2, 4), arr(2)]),
            (lambda x, w: ops.linalg.Linear.apply(x, w, None), [arr(3, 4), arr(2, 4)]),
            (lambda x, w, b: ops.linalg.Linear.apply(x, w, b),
             [arr(2, 3, 4), arr(2, 4), arr(2)]),
            (lambda x, w: ops.linalg.Linear.apply(x, w, None), [arr(2, 3, 4), arr(2, 4)]),
            (lambda x, w, b: ops.linalg.Linear.apply(x, w, b), [arr(4), arr(2, 4), arr(2)]),
        ],
    }


def _run_sample(fn, arrays) -> tuple[float, float | None, str | None]:
    xs = tuple(Tensor._wrap(a.astype(np.float64), requires_grad=True) for a in arrays)
    first = _check_first_order(fn, xs, 1e-6, 1e-5, 1e-3, False, "gradcheck", seed=0)
    second = None
    try:
        gradient = _first_gradient(fn, xs, list(range(len(xs))), [
            np.random.default_rng(1).standard_normal(o._data.shape) for o in _outputs(fn(*xs))
        ])
        second = _check_first_order(gradient, xs, 1e-6, 1e-5, 1e-3, False, "gradgradcheck", 2)
    except NotImplementedError:
        pass  # first order only (the op says so when create_graph reaches it)
    failure = first.failure or (second.failure if second else None)
    return first.max_error, (second.max_error if second else None), failure


def main(argv: Sequence[str] | None = None) -> int:
    """Gradcheck (and gradgradcheck) every registered primitive; print a table.

    Returns 0 when every check passes, 1 otherwise (the exit status of
    ``python -m tinygrad_edu gradcheck``).
    """
    argv = list(argv or [])
    if argv and argv[0] in ("-h", "--help"):
        print("usage: python -m tinygrad_edu gradcheck\n\ncheck every primitive in "
              "tinygrad_edu.ops.PRIMITIVES against central differences (float64)")
        return 0
    rng = np.random.default_rng(0)
    samples = _samples(rng)
    rows, failed = [], []
    for name, cls in ops.PRIMITIVES.items():
        cases = samples.get(name)
        if cases is None and hasattr(cls, "gradcheck_sample"):
            cases = [cls.gradcheck_sample()]  # a primitive registered elsewhere brings its own
        if not cases:
            rows.append((name, "-", "-", "-", "FAIL: no sample input"))
            failed.append(name)
            continue
        for fn, arrays in cases:
            shapes = " ".join(str(tuple(a.shape)) for a in arrays)
            try:
                e1, e2, failure = _run_sample(fn, arrays)
            except Exception as exc:  # noqa: BLE001 - report every op, then fail
                e1, e2, failure = float("nan"), None, f"{type(exc).__name__}: {exc}"
            ok = failure is None
            if not ok:
                failed.append(name)
            rows.append((
                name, shapes, f"{e1:.1e}", "n/a" if e2 is None else f"{e2:.1e}",
                "ok" if ok else "FAIL",
            ))
            if failure:
                rows.append(("", "", "", "", "  " + failure))
    header = ("op", "shapes", "max err", "2nd order", "pass")
    widths = [max(len(str(r[k])) for r in rows + [header]) for k in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths), "----"))
    for r in rows:
        print(line.format(*r))
    n = len(ops.PRIMITIVES)
    print(f"\n{n - len(set(failed))}/{n} primitives pass (float64, eps=1e-6, atol=1e-5, rtol=1e-3)")
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
