"""Matrix multiplication (1-D, 2-D and batched with broadcasting, like ``np.matmul``) and the
linear layer's ``x @ Wᵀ + b``."""

from __future__ import annotations

import numpy as np

from .._shapes import prod
from ..function import Function
from .reduce import Sum
from .shape import Permute


class MatMul(Function):
    """y = a @ b;  da = grad @ bᵀ,  db = aᵀ @ grad   (1-D operands promoted as in NumPy)

    Batch dimensions broadcast; the replay sums each gradient back over them.
    """

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # what backward reads
        ctx.ndims = a.ndim, b.ndim
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        nd_a, nd_b = ctx.ndims
        if nd_a > 1 and nd_b > 1:
            return (grad @ b.mT if need_a else None), (a.mT @ grad if need_b else None)
        if nd_a == 1 and nd_b == 1:  # a dot product: grad is a scalar
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if nd_a == 1:  # (k,) @ (..., k, n) -> (..., n): a acts as the row (1, k)
            row = grad.unsqueeze(-2)  # (..., 1, n)
            grad_a = (row @ b.mT).squeeze(-2) if need_a else None
            grad_b = a.unsqueeze(-1) @ row if need_b else None
        else:  # (..., m, k) @ (k,) -> (..., m): b acts as the column (k, 1)
            col = grad.unsqueeze(-1)  # (..., m, 1)
            grad_a = col @ b.unsqueeze(-2) if need_a else None
            grad_b = (a.mT @ col).squeeze(-1) if need_b else None
        return grad_a, grad_b


class Linear(Function):
    """y = x @ Wᵀ + b;  dx = grad @ W,  dW = gradᵀ @ x,  db = grad summed over rows

    A primitive, as PyTorch's addmm / linear: one GEMM and one output buffer per layer (the
    bias added in place) instead of a matmul, a permute and an add. x: (..., in), W: (out, in),
    b: (out,) or None; the batch dimensions of x are flattened into the GEMM's rows.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)  # (as MatMul)
        ctx.x_shape = x.shape
        n = prod(x.shape[:-1])  # the rows: N = the product of x's batch dimensions
        out = x.reshape(n, x.shape[-1]) @ weight.T  # (N, in) @ (in, out): one GEMM
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + weight.shape[:1])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        rows = grad
        if len(ctx.x_shape) != 2:  # the batch dimensions of x and grad as the GEMM's N rows
            n = prod(ctx.x_shape[:-1])
            rows = grad.reshape(n, grad.shape[-1])
            x = x.reshape(n, ctx.x_shape[-1]) if need_w else None
        # db, dW, then dx: each reads grad, which stays in cache from the op that made it
        grad_b = Sum.apply(rows, axes=(0,), keepdims=False) if need_b else None
        grad_w = MatMul.apply(Permute.apply(rows, (1, 0)), x) if need_w else None  # gradᵀ @ x
        grad_x = MatMul.apply(grad, weight) if need_x else None  # (..., out) @ (out, in)
        return grad_x, grad_w, grad_b
