"""conv2d, max_pool2d and avg_pool2d: composites over the im2col and max-pool primitives of
``ops.conv`` (re-exported by nn.functional). Shapes follow PyTorch: x (N, C, H, W) or (C, H, W).
"""

from __future__ import annotations

import numpy as np

from .. import functional
from ..ops.conv import Im2Col, MaxPool2d, Window, out_size
from ..tensor import Tensor
from . import functional as F  # (functional re-exports this module; F.linear is read per call)


def _pair(v, name: str, op: str) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _window(x_shape, kernel, stride, padding, dilation, op: str) -> Window:
    """Validate the hyperparameters against the input (N, C, H, W); return the Window."""
    h, w = x_shape[2], x_shape[3]
    kh, kw = kernel
    sh, sw = _pair(stride, "stride", op)
    ph, pw = _pair(padding, "padding", op)
    dh, dw = _pair(dilation, "dilation", op)
    if min(sh, sw, dh, dw) < 1 or min(ph, pw) < 0 or min(kh, kw) < 1:
        raise ValueError(
            f"{op}: kernel size {(kh, kw)}, stride {(sh, sw)} and dilation {(dh, dw)} must be "
            f"positive and padding {(ph, pw)} non-negative"
        )
    eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if eff_h > h + 2 * ph or eff_w > w + 2 * pw:
        raise ValueError(
            f"{op}: kernel size {(kh, kw)} (dilated to {(eff_h, eff_w)}) is larger than the "
            f"padded input {(h + 2 * ph, w + 2 * pw)} (input {(h, w)} with padding "
            f"{(ph, pw)}); use a smaller kernel or more padding"
        )
    return Window(kh, kw, sh, sw, ph, pw, dh, dw)


def _batched(input: Tensor, op: str) -> tuple[Tensor, bool]:
    """Accept (N, C, H, W) or an unbatched (C, H, W), as PyTorch does."""
    ndim = input._data.ndim
    if ndim == 4:
        return input, False
    if ndim == 3:
        return functional.unsqueeze(input, 0), True
    raise ValueError(
        f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}"
    )


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution), by im2col and one matmul.

    input (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), bias (C_out,) ->
    (N, C_out, H_out, W_out) with H_out = floor((H + 2p - d(kh-1) - 1) / s) + 1.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> x = tg.tensor([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    >>> F.conv2d(x, tg.tensor([[[[0.0, 1], [2, 3]]]]))
    tensor([[[[25., 31.],
              [43., 49.]]]])
    """
    if isinstance(padding, str):
        raise NotImplementedError(f"conv2d: string padding {padding!r} is not supported; pass ints")
    x, unbatched = _batched(input, "conv2d")
    if weight._data.ndim != 4:
        raise ValueError(
            "conv2d: weight must be 4-D (C_out, C_in/groups, kh, kw), got shape "
            f"{tuple(weight.shape)}"
        )
    n, c, _, _ = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    if groups < 1 or c % groups or c_out % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide both the input channels ({c}) and the output "
            f"channels ({c_out})"
        )
    if c_per_group * groups != c:
        raise ValueError(
            f"conv2d: input has {c} channels (shape {tuple(input.shape)}) but the weight of "
            f"shape {tuple(weight.shape)} with groups={groups} expects {c_per_group * groups}; "
            "check C_in of the layer or the input's channel dimension (dim 1)"
        )
    g = _window(x.shape, (kh, kw), stride, padding, dilation, "conv2d")
    ho = out_size(x.shape[2], kh, g.sh, g.ph, g.dh)
    wo = out_size(x.shape[3], kw, g.sw, g.pw, g.dw)
    cols = Im2Col.apply(x, geometry=g)  # (N·H_out·W_out, kh·kw·C_in), in (kh, kw, C_in) order
    if groups == 1:
        w2d = functional.reshape(functional.permute(weight, (0, 2, 3, 1)), (c_out, kh * kw * c))  # same order
        out = F.linear(cols, w2d, bias)  # cols @ w2dᵀ + b: one GEMM, (N·H_out·W_out, C_out)
    else:  # one GEMM per group, batched: (G, M, kh·kw·C_in/G) @ (G, kh·kw·C_in/G, C_out/G)
        m, og = n * ho * wo, c_out // groups
        cols = functional.reshape(
            functional.permute(functional.reshape(cols, (m, kh * kw, groups, c_per_group)), (2, 0, 1, 3)),
            (groups, m, kh * kw * c_per_group),
        )
        w = functional.reshape(
            functional.permute(functional.reshape(weight, (groups, og, c_per_group, kh, kw)), (0, 3, 4, 2, 1)),
            (groups, kh * kw * c_per_group, og),
        )
        out = functional.reshape(functional.permute(functional.matmul(cols, w), (1, 0, 2)), (m, c_out))
        if bias is not None:
            out = out + bias
    # (N, C_out, H_out, W_out): the rows are the channels-last output image; copied to NCHW
    # memory, as PyTorch's output is, so that out.view(n, -1) is a view as it is there
    out = functional.permute(functional.reshape(out, (n, ho, wo, c_out)), (0, 3, 1, 2))
    out = functional.contiguous(out)
    return functional.squeeze(out, 0) if unbatched else out


def _pool_window(input, kernel_size, stride, padding, dilation, ceil_mode, op) -> Window:
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = (
        kernel if stride is None or stride == () or stride == [] else _pair(stride, "stride", op)
    )
    ph, pw = _pair(padding, "padding", op)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(
            f"{op}: padding {(ph, pw)} should be at most half of the kernel size {kernel}"
        )
    return _window(input.shape, kernel, stride, (ph, pw), dilation, op)


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Maximum over each kh×kw window (stride defaults to the kernel size; padding is -inf).

    (N, C, H, W) -> (N, C, H_out, W_out). The gradient goes to the first maximum of each window.
    """
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported")
    x, unbatched = _batched(input, "max_pool2d")
    g = _pool_window(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    out = MaxPool2d.apply(x, geometry=g)
    return functional.squeeze(out, 0) if unbatched else out


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each kh×kw window: im2col then a mean over the kh·kw positions.

    Padding counts as zeros in the mean by default (``count_include_pad=True``, as PyTorch).
    """
    x, unbatched = _batched(input, "avg_pool2d")
    g = _pool_window(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    n, c = x.shape[:2]
    ho, wo = out_size(x.shape[2], g.kh, g.sh, g.ph, 1), out_size(x.shape[3], g.kw, g.sw, g.pw, 1)
    cols = functional.reshape(Im2Col.apply(x, geometry=g), (n, ho, wo, g.kh * g.kw, c))
    total = cols.sum(3)  # (N, Ho, Wo, C)
    if divisor_override:
        out = total / float(divisor_override)
    elif count_include_pad or (g.ph == 0 and g.pw == 0):
        out = total / float(g.kh * g.kw)
    else:
        counts = np.outer(
            _inside(x.shape[2], ho, g.kh, g.sh, g.ph), _inside(x.shape[3], wo, g.kw, g.sw, g.pw)
        )
        out = total / Tensor._wrap(counts[:, :, None].astype(x._data.dtype))
    out = functional.contiguous(functional.permute(out, (0, 3, 1, 2)))  # NCHW memory, as conv2d
    return functional.squeeze(out, 0) if unbatched else out


def _inside(n: int, n_out: int, k: int, s: int, p: int) -> np.ndarray:
    """How many of each output position's k window taps fall inside the unpadded input."""
    start = np.arange(n_out) * s - p
    return np.clip(start + k, 0, n) - np.clip(start, 0, n)
