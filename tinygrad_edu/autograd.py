"""Gradients as functions: ``grad`` (like ``torch.autograd.grad``), a step-by-step backward,
and the second-order helpers built on ``create_graph`` (jacobian, hessian, hvp, vjp)."""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator

import numpy as np

from . import tape as _tape
from .function import Function  # noqa: F401 (torch.autograd.Function's place)
from .tensor import Tensor, _initial_grad


def _as_list(x) -> tuple[list, bool]:
    if isinstance(x, Tensor):
        return [x], True
    return list(x), False


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Returns a tuple with one gradient per input (a single tensor in, a 1-tuple out, as in
    PyTorch). An input the outputs do not depend on raises, unless ``allow_unused=True``
    (then its gradient is None).

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> (g,) = tg.grad(x ** 2, x, create_graph=True)
    >>> g.item(), tg.grad(g, x)[0].item()
    (6.0, 2.0)
    """
    outs, _ = _as_list(outputs)
    ins, _ = _as_list(inputs)
    if grad_outputs is None:
        gouts = [None] * len(outs)
    else:
        gouts, _ = _as_list(grad_outputs)
    if len(gouts) != len(outs):
        raise ValueError(f"grad: {len(outs)} output(s) but {len(gouts)} grad_outputs")
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} does not require grad, so no gradient can be computed for it; "
                "create it with requires_grad=True"
            )
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad: output {i} (shape {tuple(o.shape)}) does not require grad: it does "
                "not depend on any tensor that requires grad (or was computed under no_grad)"
            )
    seeds = [_initial_grad(o, g, "grad") for o, g in zip(outs, gouts)]
    if retain_graph is None:
        retain_graph = create_graph
    found = _tape.backward(
        outs, seeds, retain_graph=retain_graph, create_graph=create_graph, wanted=ins
    )
    result = []
    for i, t in enumerate(ins):
        g = found.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the "
                    "outputs; pass allow_unused=True to get None for it"
                )
        elif not create_graph:
            g = Tensor._wrap(g._data)
        result.append(g)
    return tuple(result)


@dataclasses.dataclass
class BackwardStep:
    """One node of the reverse pass: the op, what arrived at its output, what it sends back."""

    index: int
    op: str
    inputs: tuple
    grad_output: Tensor
    grad_inputs: tuple

    def __str__(self) -> str:
        ins = ", ".join(
            "-" if g is None else np.array2string(np.asarray(g._data), precision=4)
            for g in self.grad_inputs
        )
        go = np.array2string(np.asarray(self.grad_output._data), precision=4)
        return f"step {self.index}: {self.op}: grad_out={go} -> grad_inputs=({ins})"


def backward_steps(output: Tensor, gradient=None, retain_graph: bool = False) -> Iterator[BackwardStep]:
    """Run ``output.backward()`` one record at a time, yielding a ``BackwardStep`` per record.

    This is the lecture's "local computation": each node receives d(out)/d(its output) and
    sends d(out)/d(its inputs) = local derivative x that. Leaf ``.grad`` is filled at the end,
    exactly as ``backward()`` would.

    >>> import tinygrad_edu as tg
    >>> a, b, c = (tg.tensor(v, requires_grad=True) for v in (1.0, 2.0, 3.0))
    >>> out = 3 * (a + b * c)
    >>> [s.op for s in tg.backward_steps(out)]
    ['Mul', 'Add', 'Mul']
    """
    if not output.requires_grad:
        raise RuntimeError("backward_steps: the output does not require grad")
    seed = _initial_grad(output, gradient, "backward_steps")
    gen = _tape.replay([output], [seed], retain_graph, False)
    for i, (rec, inputs, g_out, g_in) in enumerate(gen):
        yield BackwardStep(i, rec.name, inputs, g_out, g_in)


# -- second order -------------------------------------------------------------------------------
def _fresh(x: Tensor) -> Tensor:
    return Tensor._wrap(np.array(x._data, copy=True), requires_grad=True)


def vjp(f: Callable, x: Tensor, v) -> tuple[Tensor, Tensor]:
    """(f(x), vᵀ J_f(x))."""
    x = _fresh(x)
    y = f(x)
    (g,) = grad(y, x, v)
    return y.detach(), g


def jacobian(f: Callable, x: Tensor) -> Tensor:
    """J[i..., j...] = d f(x)[i...] / d x[j...] by one reverse pass per output element
    (meant for small inputs; shape ``f(x).shape + x.shape``)."""
    x = _fresh(x)
    y = f(x)
    rows = []
    for i in range(y._data.size):
        seed = np.zeros(y._data.size, dtype=y.dtype)
        seed[i] = 1
        (g,) = grad(y, x, Tensor._wrap(seed.reshape(y.shape)), retain_graph=True, allow_unused=True)
        rows.append(np.zeros_like(x._data) if g is None else g._data)
    return Tensor._wrap(np.stack(rows).reshape(y.shape + x.shape))


def hessian(f: Callable, x: Tensor) -> Tensor:
    """H = d²f/dx² of a scalar function, by differentiating the gradient (create_graph)."""

    def gradient(z):
        out = f(z)
        if out._data.size != 1:
            raise ValueError(f"hessian: f must return a scalar, got shape {tuple(out.shape)}")
        (g,) = grad(out, z, create_graph=True)
        return g

    return jacobian(gradient, x)


def hvp(f: Callable, x: Tensor, v) -> tuple[Tensor, Tensor]:
    """(f(x), H v): the Hessian-vector product by double backward, without forming H."""
    x = _fresh(x)
    v = v if isinstance(v, Tensor) else Tensor._wrap(np.array(v, dtype=x._data.dtype))
    y = f(x)
    (g,) = grad(y, x, create_graph=True)
    (hv,) = grad((g * v).sum(), x)
    return y.detach(), hv
