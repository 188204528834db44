"""tinygrad_edu.nn.functional (import it as F): activations, linear, dropout, convolution,
pooling, normalisation and losses, with torch.nn.functional's names, arguments and defaults.

Everything here is a composite of primitives: nothing in this file has a backward of its own.
The convolution and pooling functions live in ``_conv_functional``, the losses in
``_loss_functional``; both are re-exported here.

>>> import tinygrad_edu as tg
>>> import tinygrad_edu.nn.functional as F
>>> logits = tg.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, tg.tensor([0]))
>>> round(loss.item(), 4)
0.1698
"""

from __future__ import annotations

import math

import numpy as np

from .. import functional
from .._random import numpy_generator
from ..ops import elementwise as ew
from ..functional.math import _promote
from ..ops.linalg import Linear
from ..tensor import Tensor
from ._conv_functional import avg_pool2d, conv2d, max_pool2d  # noqa: F401 (re-exported)
from ._loss_functional import _check_targets  # (also for one_hot and embedding)
from ._loss_functional import (  # noqa: F401 (re-exported)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)

_wrap = Tensor._wrap


# -- activations ----------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise; relu'(0) = 0.

    ``inplace=True`` overwrites ``input`` and returns it (``relu_``, one activation buffer
    fewer), recorded like any op while gradients are recorded.
    """
    return ew.Relu.apply_(input) if inplace else ew.Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    """relu in place: ``input`` is overwritten with max(x, 0) and returned."""
    return ew.Relu.apply_(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope · x."""
    return functional.where(input._data > 0, input, input * negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x · Φ(x) with Φ the standard normal CDF (exact erf form), or its tanh approximation
    with ``approximate='tanh'``."""
    if approximate == "none":
        return input * 0.5 * (1.0 + functional.erf(input * (1.0 / math.sqrt(2.0))))
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * 0.5 * (1.0 + functional.tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def tanh(input: Tensor) -> Tensor:
    return ew.Tanh.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    return ew.Sigmoid.apply(input)


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (shifted by the max: no overflow)."""
    return functional.softmax(input, dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``: finite for logits of +-1e4."""
    return functional.log_softmax(input, dim)


# -- linear, dropout, padding, embedding -------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ Wᵀ + b.  x: (..., in), W: (out, in), b: (out,) or None -> (..., out).

    One recorded ``Linear`` for any input with at least one dimension, as in PyTorch: one
    GEMM over the rows of x, the bias added into its result.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.linear(tg.ones(2, 3), tg.ones(4, 3), tg.zeros(4)).shape
    tg.Size([2, 4])
    """
    if weight.ndim != 2 or input.ndim == 0:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} and weight of shape "
            f"{tuple(weight.shape)}: the weight must be (out_features, in_features) and the "
            "input (..., in_features)"
        )
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} has {input.shape[-1]} features but "
            f"the weight of shape {tuple(weight.shape)} expects {weight.shape[1]} "
            "(weight is (out_features, in_features))"
        )
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"linear: bias of shape {tuple(bias.shape)} does not fit the weight of shape "
            f"{tuple(weight.shape)}: it needs shape ({weight.shape[0]},), one per output feature"
        )
    if bias is None:
        input, weight = _promote(input, weight)
    else:
        input, weight, bias = _promote(input, weight, bias)
    return Linear.apply(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = numpy_generator().random(input.shape, dtype=np.float32) >= p
    scale = (keep * (1.0 / (1.0 - p))).astype(input._data.dtype, copy=False)
    return input * _wrap(scale)


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """Constant padding with PyTorch's tuple: (left, right) for the last dim, then (top, bottom)
    for the one before, and so on. ``F.pad(x, (1, 1, 2, 0))`` pads W by 1/1 and H by 2/0."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: the padding tuple {tuple(pad)} must have an even length of at most "
            f"2 * {input.ndim} (two entries per padded dimension, last dimension first)"
        )
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return functional.pad(input, widths, 0.0 if value is None else value)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices of any shape -> int64 one-hot of shape (..., num_classes)."""
    idx = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer (class index) tensor, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    _check_targets(idx, num_classes, None, "one_hot")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return _wrap(out)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``input`` -> (*input.shape, dim)."""
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be integers, got dtype {idx.dtype}; convert them with "
            "indices.long()"
        )
    _check_targets(idx, weight.shape[0], None, "embedding")
    out = weight[idx]
    if padding_idx is not None:  # the padding row's values, but no gradient (selected, so
        out = functional.where((idx != padding_idx)[..., None], out, out._data)  # even from inf)
    return out


# -- normalisation ---------------------------------------------------------------------------
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) · weight + bias per channel (dim 1).

    Training uses the batch's mean and biased variance and updates the running statistics in
    place (running_var with the unbiased variance, as PyTorch); evaluation uses the running ones.
    The arguments are checked first: a call that raises leaves the running statistics alone.
    """
    _check_batch_norm(
        input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training:
        n = input._data.size // input.shape[1]
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {tuple(input.shape)}"
            )
        mean = input.mean(axes, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(axes, keepdim=True)
        if running_mean is not None:
            m = momentum
            running_mean._data[...] = (1 - m) * running_mean._data + m * mean._data.reshape(-1)
            running_var._data[...] = (1 - m) * running_var._data + m * var._data.reshape(-1) * (
                n / (n - 1)
            )
            running_mean._bump_version()
            running_var._bump_version()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        mean = _wrap(running_mean._data.reshape(shape))
        centred = input - mean
        var = _wrap(running_var._data.reshape(shape))
    y = centred * (var + eps) ** -0.5
    if weight is not None:
        y = y * functional.reshape(weight, shape)
    if bias is not None:
        y = y + functional.reshape(bias, shape)
    return y


def _check_batch_norm(input: Tensor, **per_channel: Tensor | None) -> None:
    if input.dtype.kind != "f":
        raise TypeError(
            f"batch_norm: needs a floating-point input, got dtype {input.dtype}; convert it "
            "first, e.g. x.float()"
        )
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    for name, t in per_channel.items():
        if t is not None and t.shape != (channels,):
            raise ValueError(
                f"batch_norm: {name} has shape {tuple(t.shape)} but the input (shape {tuple(input.shape)}) "
                f"has {channels} channels in dim 1; it must have shape ({channels},)"
            )
