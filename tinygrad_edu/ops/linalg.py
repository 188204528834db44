"""Matrix multiplication: 1-D, 2-D and batched with broadcasting, like ``np.matmul``."""

from __future__ import annotations

import numpy as np

from .._shapes import unbroadcast
from ..function import Function
from ..grad_mode import _modes as _state
from ..tensor import Tensor
from .shape import reshape, unsqueeze


class MatMul(Function):
    """y = op(a) @ op(b);  da = grad @ op(b)ᵀ,  db = op(a)ᵀ @ grad   (then un-transposed)

    ``op`` is the identity, or with ``transpose_a=True`` / ``transpose_b=True`` a swap of that
    operand's last two axes: BLAS gemm's transA / transB, so ``linear``'s ``x @ Wᵀ`` needs no
    recorded permute and every gradient comes out as a fresh array in its operand's layout.
    1-D operands are promoted as in NumPy (and cannot be transposed); batch dimensions
    broadcast, and the replay sums the gradient back over them.
    """


    @staticmethod
    def forward(ctx, a, b, transpose_a=False, transpose_b=False):
        ctx.save_for_backward(a, b)
        ctx.ta, ctx.tb = transpose_a, transpose_b
        return _gemm("MatMul", a, b, transpose_a, transpose_b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ta, tb = ctx.ta, ctx.tb
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:  # dot product: grad is a scalar
            return (grad * b if na else None), (grad * a if nb else None)
        if a.ndim == 1:  # (k,) @ op(b): (..., k, n) -> (..., n)
            g2 = unsqueeze(grad, -2)  # (..., 1, n)
            if na:
                ga = reshape(MatMul.apply(g2, b, transpose_b=not tb), grad.shape[:-1] + (a.shape[0],))
            if nb:
                gb = MatMul.apply(g2, a.reshape(1, -1), transpose_a=True) if tb else (
                    matmul(unsqueeze(a, -1), g2))
            return ga, gb
        if b.ndim == 1:  # op(a): (..., m, k) @ (k,) -> (..., m)
            g2 = unsqueeze(grad, -1)  # (..., m, 1)
            if na:
                ga = MatMul.apply(b.reshape(-1, 1), g2, transpose_b=True) if ta else (
                    matmul(g2, unsqueeze(b, -2)))
            if nb:
                gb = reshape(MatMul.apply(a, g2, transpose_a=not ta), grad.shape[:-1] + (b.shape[0],))
            return ga, gb
        return _matrix_grads(grad, a, b, ta, tb, na, nb)


def _gemm(op: str, a, b, transpose_a: bool, transpose_b: bool):
    """np.matmul(op(a), op(b)) on arrays; op swaps the last two axes where asked."""
    if transpose_a or transpose_b:
        if (transpose_a and a.ndim < 2) or (transpose_b and b.ndim < 2):
            raise ValueError(
                f"{op}: transpose_a={transpose_a}, transpose_b={transpose_b} with operands "
                f"of shapes {a.shape} and {b.shape}: only operands with at least two "
                "dimensions can be transposed"
            )
        if transpose_a:  # (the ndarray methods: np.swapaxes is a Python-level wrapper)
            a = a.T if a.ndim == 2 else a.swapaxes(-1, -2)
        if transpose_b:
            b = b.T if b.ndim == 2 else b.swapaxes(-1, -2)
    return np.matmul(a, b)


def _matrix_grads(grad, a, b, ta: bool, tb: bool, na: bool, nb: bool):
    """(da, db) of op(a) @ op(b) for operands of at least two dimensions. They are known to
    fit, so no checks run, and the transposes ride along as flags: no permute is recorded or
    replayed. With create_graph the GEMMs are recorded MatMuls; in a plain backward (recording
    off) the same calls run on the arrays directly: ``MatMul.apply``'s Context, Tensor and four
    Python frames cost ~10 us apiece in a training step, between GEMMs that have just flushed
    the caches (measured: 2.5% of an MLP step)."""
    mm = MatMul.apply if _state.grad_enabled else _gemm_unrecorded
    ga = gb = None
    # db first, then da: the next backward reads da, which is then still in cache (as
    # hand-written backprop orders them; measured ~1% of an MLP step)
    if nb:  # d op(b) = op(a)ᵀ @ grad; transposed back when op(b) = bᵀ
        if tb:
            gb = mm(grad, a, transpose_a=True, transpose_b=ta)
        else:
            gb = mm(a, grad, transpose_a=not ta)
    if na:  # d op(a) = grad @ op(b)ᵀ; transposed back when op(a) = aᵀ
        if ta:
            ga = mm(b, grad, transpose_a=tb, transpose_b=True)
        else:
            ga = mm(grad, b, transpose_b=not tb)
    return ga, gb


def _gemm_unrecorded(x: Tensor, y: Tensor, transpose_a: bool = False, transpose_b: bool = False):
    """``MatMul.apply`` when nothing is recorded: the same GEMM on the tensors' arrays."""
    return Tensor._wrap(_gemm("MatMul", x.data, y.data, transpose_a, transpose_b))


class Addmm(Function):
    """y = c + op(a) @ op(b)  (BLAS gemm with beta = 1, torch.addmm);  dc = grad (the replay
    sums it down to c's shape),  da, db as for MatMul

    The bias of ``linear``: added in place into the GEMM's fresh result, so a linear layer is
    one recorded op and one output buffer, not a matmul, an add and two buffers. ``a`` and ``b``
    need at least two dimensions and ``c`` must broadcast to the product's shape (its dtype
    must match: the add is in place).
    """


    @staticmethod
    def forward(ctx, c, a, b, transpose_a=False, transpose_b=False):
        ctx.save_for_backward(a, b)
        ctx.ta, ctx.tb = transpose_a, transpose_b
        if a.ndim < 2 or b.ndim < 2 or c.dtype != a.dtype:
            raise ValueError(
                f"Addmm: c {c.shape} {c.dtype} + op(a) {a.shape} {a.dtype} @ op(b) {b.shape}: "
                "a and b need at least two dimensions, and c a's dtype (use matmul and + "
                "for anything else)"
            )
        out = _gemm("Addmm", a, b, transpose_a, transpose_b)
        try:
            out += c
        except ValueError:
            raise ValueError(
                f"Addmm: c of shape {c.shape} does not broadcast to the product's shape "
                f"{out.shape}; it is added in place, so it may not grow the result"
            ) from None
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _addmm_grads(ctx, grad, a, b)


def _addmm_grads(ctx, grad, a, b):
    """(dc, da, db) of c + op(a) @ op(b) for the incoming gradient ``grad``."""
    nc, na, nb = ctx.needs_input_grad
    gc = None
    if nc:
        gc = grad
        if not _state.grad_enabled:  # a plain backward: c's gradient (a bias's: the sum
            # over rows) first, while grad is still in cache from the op that made it; the
            # GEMMs stream through the cache after it (measured on the MLP step: 1.070x ->
            # 1.051x the hand-written step in paired steps). The one unbroadcast, earlier.
            cd = ctx.inputs[0].data
            gc = Tensor._wrap(unbroadcast(grad.data, cd.shape))
    ga, gb = _matrix_grads(grad, a, b, ctx.ta, ctx.tb, na, nb)
    return gc, ga, gb


class AddmmRelu(Function):
    """y = max(c + op(a) @ op(b), 0)  (Addmm, then ReLU in place in the same buffer);
    g = grad * [y > 0],  then dc, da, db as for Addmm with g

    A linear layer and the ReLU after it as one record: ``nn.Sequential`` runs a ``Linear``
    followed by a ``ReLU`` through it (``F.linear`` and ``F.relu`` stay two records). The
    pre-activation is never a tensor of its own: ReLU overwrites the GEMM's result, as
    hand-written NumPy does, and the mask is read from the output. Measured: 4 records per
    MLP forward instead of 6, and the MLP training step 1.065x -> 1.051x the hand-written one
    (four alternating fresh-process pair runs each). Same checks and flags as Addmm.
    """


    @staticmethod
    def forward(ctx, c, a, b, transpose_a=False, transpose_b=False):
        out = Addmm.forward(ctx, c, a, b, transpose_a, transpose_b)
        np.maximum(out, 0, out=out)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        mask = y.data > 0
        if _state.grad_enabled:  # recorded: the mask is a constant (its derivative is 0)
            grad = grad * Tensor._wrap(mask.astype(grad.data.dtype))
        elif False:  # the replay's own buffer: masked in place (as Relu.backward)
            np.multiply(grad.data, mask, out=grad.data)
        else:
            grad = Tensor._wrap(grad.data * mask)
        return _addmm_grads(ctx, grad, a, b)


def matmul(a, b):
    """``a @ b`` with NumPy's rules; a clear error names both shapes when they do not fit."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: {a.shape} @ {b.shape}: both operands need at least one dimension "
            "(use * for scalars)"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_a} and {k_b} differ "
            "(the last dim of the left operand must equal the second-to-last of the right; "
            "transpose one of them?)"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and "
                f"{b.shape[:-2]} cannot be broadcast together"
            ) from None
    if a.dtype != b.dtype:
        a, b = _promote(a, b)
    return MatMul.apply(a, b)


def _promote(a, b):
    from .elementwise import Cast

    dt = np.result_type(a.dtype, b.dtype)
    if a.dtype.kind in "fc" and b.dtype.kind not in "fc":
        dt = a.dtype
    elif b.dtype.kind in "fc" and a.dtype.kind not in "fc":
        dt = b.dtype
    a = a if a.dtype == dt else Cast.apply(a, dt)
    b = b if b.dtype == dt else Cast.apply(b, dt)
    return a, b
