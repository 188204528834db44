"""Matrix multiplication: 1-D, 2-D and batched with broadcasting, like ``np.matmul``."""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .shape import Permute, reshape, swapaxes, unsqueeze


class MatMul(Function):
    """y = a @ b;  da = grad @ bᵀ,  db = aᵀ @ grad   (1-D operands are promoted as in NumPy;
    batch dimensions broadcast, and the replay sums the gradient back over them)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:  # dot product: grad is a scalar
            return (grad * b if na else None), (grad * a if nb else None)
        if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
            g2 = unsqueeze(grad, -2)  # (..., 1, n)
            if na:
                ga = reshape(matmul(g2, swapaxes(b, -1, -2)), grad.shape[:-1] + (a.shape[0],))
            if nb:
                gb = matmul(unsqueeze(a, -1), g2)
            return ga, gb
        if b.ndim == 1:  # (..., m, k) @ (k,) -> (..., m)
            g2 = unsqueeze(grad, -1)  # (..., m, 1)
            if na:
                ga = matmul(g2, unsqueeze(b, -2))
            if nb:
                gb = reshape(matmul(swapaxes(a, -1, -2), g2), grad.shape[:-1] + (b.shape[0],))
            return ga, gb
        # the operands are known to fit, so the primitives are applied directly (no checks)
        if na:
            ga = MatMul.apply(grad, _mT(b))
        if nb:
            gb = MatMul.apply(_mT(a), grad)
        return ga, gb


def _mT(x: Tensor) -> Tensor:
    """Swap the last two axes (a view)."""
    dims = list(range(x.ndim))
    dims[-1], dims[-2] = dims[-2], dims[-1]
    return Permute.apply(x, tuple(dims))


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
