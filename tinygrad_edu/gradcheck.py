"""Gradient checking: compare the engine's derivatives with central differences.

``numerical_grad`` differentiates any function numerically; ``gradcheck`` compares the whole
Jacobian the tape computes with the numerical one (or, with ``fast=True``, one random
projection vᵀJu per input); ``gradgradcheck`` does the same one order up, for the gradient
that ``create_graph=True`` records. Run them in float64: with float32 a perturbation of 1e-6
is lost in rounding.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.gradcheck import gradcheck, gradgradcheck
>>> x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
>>> gradcheck(lambda x: (x * x.exp()).sum(), (x,))
True
>>> gradgradcheck(lambda x: x.tanh(), (x,))
True

``python -m tinygrad_edu gradcheck`` runs both checks over every primitive in
``tinygrad_edu.ops.PRIMITIVES`` and prints a table (``gradcheck_all.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from .autograd import grad as _grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor

__all__ = ["GradcheckError", "numerical_grad", "gradcheck", "gradgradcheck", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tinygrad_edu gradcheck``: see ``gradcheck_all``."""
    from .gradcheck_all import main as run_all

    return run_all(argv)


class GradcheckError(AssertionError):
    """The analytic (tape) derivative and the numerical one disagree."""


# -- helpers ------------------------------------------------------------------------------------
def _as_tuple(inputs) -> tuple:
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _outputs(result) -> list[Tensor]:
    """A function's result as a list of tensors (a Tensor or a tuple/list of them)."""
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result]


def _flat_output(result) -> np.ndarray:
    """All outputs' values, flattened and concatenated, in float64."""
    parts = [np.asarray(o._data, dtype=np.float64).ravel() for o in _outputs(result)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _is_float(t) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind == "f"


def _evaluate(fn: Callable, inputs: tuple, i: int, arr: np.ndarray) -> np.ndarray:
    """fn's flat output with input ``i`` replaced by a constant tensor holding ``arr``."""
    args = list(inputs)
    args[i] = Tensor._wrap(arr)
    with no_grad():
        return _flat_output(fn(*args))


def _numerical_jacobian(fn: Callable, inputs: tuple, i: int, eps: float) -> np.ndarray:
    """d(flat outputs)/d(flat input i) by central differences: shape (n_out, n_in)."""
    base = np.array(inputs[i]._data, dtype=inputs[i]._data.dtype, copy=True)  # never the caller's
    flat = base.reshape(-1)
    cols = []
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        plus = _evaluate(fn, inputs, i, base.copy())
        flat[j] = old - eps
        minus = _evaluate(fn, inputs, i, base.copy())
        flat[j] = old
        cols.append((plus - minus) / (2 * eps))
    n_out = _evaluate(fn, inputs, i, base.copy()).size if not cols else cols[0].size
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def numerical_grad(fn: Callable, inputs, eps: float = 1e-6, grad_output=None) -> list:
    """The gradient of ``fn(*inputs)`` by central differences, one array per input.

    Each element of each floating-point input is moved by ``+eps`` and ``-eps`` and
    ``(f(x + e) - f(x - e)) / 2e`` is taken; the error is O(eps²). (The lecture notes' eq. 9
    divides by ``e`` instead of ``2e``: that is an erratum — it doubles every derivative.)
    ``fn`` must return a one-element tensor, or pass ``grad_output`` (an array of the
    output's shape) to get the gradient of ``sum(grad_output * fn(*inputs))``. Inputs that
    are not floating-point tensors get None. The inputs are never modified.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    >>> [g.round(6).tolist() for g in numerical_grad(lambda x: (x ** 3).sum(), (x,))]
    [[3.0, 12.0]]
    """
    inputs = _as_tuple(inputs)
    with no_grad():
        out = _flat_output(fn(*inputs))
    if grad_output is None:
        if out.size != 1:
            raise ValueError(
                f"numerical_grad: fn returned {out.size} values; it must return a one-element "
                "tensor, or pass grad_output (the weights of the outputs)"
            )
        weights = np.ones(1)
    else:
        weights = np.asarray(grad_output, dtype=np.float64).ravel()
        if weights.size != out.size:
            raise ValueError(
                f"numerical_grad: grad_output has {weights.size} elements but fn returned "
                f"{out.size}"
            )
    result = []
    for i, x in enumerate(inputs):
        if not _is_float(x):
            result.append(None)
            continue
        jac = _numerical_jacobian(fn, inputs, i, eps)
        result.append((weights @ jac).reshape(x._data.shape))
    return result


def _analytic_rows(fn_outputs: list[Tensor], wrt: list[Tensor], seed: np.ndarray) -> list:
    """vᵀJ for the flat output weights ``seed``: one flat float64 array per tensor in ``wrt``."""
    live = [o for o in fn_outputs if o.requires_grad]
    sizes = [o._data.size for o in fn_outputs]
    pieces = np.split(seed, np.cumsum(sizes)[:-1]) if fn_outputs else []
    seeds = [
        Tensor._wrap(p.reshape(o._data.shape).astype(o._data.dtype))
        for o, p in zip(fn_outputs, pieces)
        if o.requires_grad
    ]
    if not live:
        return [np.zeros(t._data.size) for t in wrt]
    grads = _grad(live, wrt, seeds, retain_graph=True, allow_unused=True)
    rows = []
    for t, g in zip(wrt, grads):
        if g is None:
            rows.append(np.zeros(t._data.size))
            continue
        if g._data.shape != t._data.shape:
            raise GradcheckError(
                f"gradcheck: the gradient for an input of shape {t._data.shape} has shape "
                f"{g._data.shape}"
            )
        rows.append(np.asarray(g._data, dtype=np.float64).ravel())
    return rows


@dataclasses.dataclass
class _Report:
    """What one check found: the largest |analytic - numeric| and the first failure."""

    max_error: float = 0.0
    failure: str | None = None


def _compare(report, analytic, numeric, atol, rtol, describe) -> None:
    """Record the largest error, and the worst element beyond atol + rtol * |numeric|."""
    if analytic.size == 0:
        return
    err = np.abs(analytic - numeric)
    bad = ~(err <= atol + rtol * np.abs(numeric))  # NaN counts as bad
    worst = float(np.nanmax(err)) if np.isfinite(err).any() else float("nan")
    if np.isnan(err).any():
        worst = float("nan")
    if not np.isnan(report.max_error):
        report.max_error = worst if np.isnan(worst) else max(report.max_error, worst)
    if bad.any() and report.failure is None:
        k = int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1.0)))
        report.failure = describe(k, float(analytic.flat[k]), float(numeric.flat[k]))


def _check_first_order(fn, inputs, eps, atol, rtol, fast, what, seed) -> _Report:
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{what}: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i]._data.dtype != np.float64:
            raise TypeError(
                f"{what}: input {i} has dtype {inputs[i]._data.dtype}; gradchecks need float64 "
                "(a perturbation of 1e-6 is lost in float32 rounding): pass x.double()"
            )
    wrt = [inputs[i] for i in checked]
    with enable_grad():
        outs = _outputs(fn(*inputs))
    n_out = sum(o._data.size for o in outs)
    report = _Report()
    rng = np.random.default_rng(seed)

    if fast:  # one projection per input: vᵀ J u, analytic by one backward, numeric along u
        v = rng.standard_normal(n_out)
        rows = _analytic_rows(outs, wrt, v)
        for i, row in zip(checked, rows):
            x = inputs[i]
            u = rng.standard_normal(x._data.shape)
            plus = _evaluate(fn, inputs, i, x._data + eps * u)
            minus = _evaluate(fn, inputs, i, x._data - eps * u)
            numeric = np.array([v @ (plus - minus) / (2 * eps)])
            analytic = np.array([row @ u.ravel()])
            _compare(
                report, analytic, numeric, atol, rtol,
                lambda k, a, n, i=i, x=x: (
                    f"{what}: input {i} (shape {x._data.shape}): the random projection vᵀJu "
                    f"differs: analytic {a!r}, numeric {n!r} (atol={atol}, rtol={rtol}); run "
                    "with fast=False to see the element"
                ),
            )
        return report

    # full Jacobian: analytic one row per output element, numeric one column per input element
    analytic = [np.zeros((n_out, x._data.size)) for x in wrt]
    for r in range(n_out):
        seed_r = np.zeros(n_out)
        seed_r[r] = 1.0
        for a, row in zip(analytic, _analytic_rows(outs, wrt, seed_r)):
            a[r] = row
    out_index = _output_index(outs)
    for i, a in zip(checked, analytic):
        x = inputs[i]
        numeric = _numerical_jacobian(fn, inputs, i, eps)
        _compare(
            report, a, numeric, atol, rtol,
            lambda k, av, nv, i=i, x=x, ncols=a.shape[1]: (
                f"{what}: input {i} (shape {x._data.shape}), element "
                f"{np.unravel_index(k % ncols, x._data.shape)} -> {out_index(k // ncols)}: "
                f"analytic {av!r}, numeric {nv!r}, difference {abs(av - nv):.3g} > "
                f"atol + rtol * |numeric| = {atol + rtol * abs(nv):.3g}"
            ),
        )
    return report


def _output_index(outs: list[Tensor]) -> Callable[[int], str]:
    """Flat output position -> 'output j element (..)' for messages."""
    bounds = np.cumsum([0] + [o._data.size for o in outs])

    def name(r: int) -> str:
        j = int(np.searchsorted(bounds, r, side="right") - 1)
        where = np.unravel_index(r - bounds[j], outs[j]._data.shape)
        return f"output {j} element {tuple(int(w) for w in where)}"

    return name


def _finish(report: _Report, raise_exception: bool) -> bool:
    if report.failure is None:
        return True
    if raise_exception:
        raise GradcheckError(report.failure)
    return False


def gradcheck(
    fn: Callable,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    raise_exception: bool = True,
) -> bool:
    """Check the tape's Jacobian of ``fn`` against central differences.

    ``fn(*inputs)`` returns a tensor (or a tuple of tensors); every input with
    ``requires_grad`` is checked and must be float64. The full Jacobian is compared element
    by element (one backward per output element, two forwards per input element); with
    ``fast=True`` only one random projection vᵀJu per input (one backward in all, two
    forwards per input) — for large inputs. An element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns True, or raises ``GradcheckError`` naming the input, the element and the two
    values (returns False instead with ``raise_exception=False``).

    >>> import tinygrad_edu as tg
    >>> a = tg.randn(2, 3, dtype=tg.float64, requires_grad=True)
    >>> b = tg.randn(3, dtype=tg.float64, requires_grad=True)
    >>> gradcheck(lambda a, b: a @ b, (a, b))
    True
    """
    report = _check_first_order(fn, inputs, eps, atol, rtol, fast, "gradcheck", seed=0)
    return _finish(report, raise_exception)


def _first_gradient(fn: Callable, inputs: tuple, checked: list[int], v: list[np.ndarray]):
    """The function x -> (vᵀ J_fn(x)) for the checked inputs, recorded with create_graph."""

    def gradient(*xs):
        xs = list(xs)
        for i in checked:  # the numerical pass hands in constants: make them leaves again
            if not xs[i].requires_grad:
                xs[i] = Tensor._wrap(xs[i]._data, requires_grad=True)
        with enable_grad():
            outs = _outputs(fn(*xs))
            pairs = [(o, w) for o, w in zip(outs, v) if o.requires_grad]
            wrt = [xs[i] for i in checked]
            if not pairs:
                return tuple(Tensor._wrap(np.zeros_like(x._data)) for x in wrt)
            grads = _grad(
                [o for o, _ in pairs],
                wrt,
                [Tensor._wrap(w.astype(o._data.dtype)) for o, w in pairs],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(
            Tensor._wrap(np.zeros_like(x._data)) if g is None else g for x, g in zip(wrt, grads)
        )

    return gradient


def gradgradcheck(
    fn: Callable,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: the gradient recorded with ``create_graph=True``,
    g(x) = vᵀ J_fn(x) for a random (or given) ``grad_outputs`` v, is differentiated by the
    tape and compared with central differences of g itself. Arguments as in ``gradcheck``.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([0.3, 1.2], dtype=tg.float64, requires_grad=True)
    >>> gradgradcheck(lambda x: x.sigmoid() * x, (x,))
    True
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outs = _outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        v = [rng.standard_normal(o._data.shape) for o in outs]
    else:
        if isinstance(grad_outputs, (Tensor, np.ndarray)):
            grad_outputs = [grad_outputs]
        v = [np.asarray(g._data if isinstance(g, Tensor) else g, dtype=np.float64)
             for g in grad_outputs]
        if [w.shape for w in v] != [o._data.shape for o in outs]:
            raise ValueError(
                f"gradgradcheck: grad_outputs have shapes {[w.shape for w in v]} but the "
                f"outputs have shapes {[o._data.shape for o in outs]}"
            )
    del outs
    gradient = _first_gradient(fn, inputs, checked, v)
    report = _check_first_order(gradient, inputs, eps, atol, rtol, fast, "gradgradcheck", seed=2)
    return _finish(report, raise_exception)
