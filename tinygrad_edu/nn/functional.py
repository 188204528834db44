"""tinygrad_edu.nn.functional (import it as F): activations, linear, dropout, convolution,
pooling, normalisation and losses, with torch.nn.functional's names, arguments and defaults.

Everything here is a composite of primitives: nothing in this file has a backward of its own.
The convolution and pooling functions live in ``_conv_functional`` and are re-exported here.

>>> import tinygrad_edu as tg
>>> import tinygrad_edu.nn.functional as F
>>> logits = tg.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, tg.tensor([0]))
>>> round(loss.item(), 4)
0.1698
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import functional
from .._random import default_generator
from ..function import inplace_refusal
from ..ops import elementwise as ew
from ..functional.math import _promote
from ..ops.linalg import Linear
from ..ops.loss import CrossEntropy, NllLoss
from ..tensor import Tensor
from ._conv_functional import avg_pool2d, conv2d, max_pool2d  # noqa: F401 (re-exported)

_wrap = Tensor._wrap


# -- activations ----------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise; relu'(0) = 0.

    ``inplace=True`` overwrites ``input`` and returns it (``relu_``, one activation buffer
    fewer), where the tape can follow the change: always outside recording, and for an op's
    own result while recording. For a tensor that shares memory while recording (a view, such
    as conv2d's NCHW output over its channels-last buffer) it computes out of place instead
    (same values, a new tensor); ``relu_`` raises there.
    """
    if inplace and not inplace_refusal(input):
        return ew.Relu.apply_(input)
    return ew.Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    """relu in place: ``input`` is overwritten with max(x, 0) and returned."""
    return ew.Relu.apply_(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope · x."""
    return functional.where(input.data > 0, input, input * negative_slope)


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
    (2, 4)
    """
    if weight.ndim != 2 or input.ndim == 0:
        raise ValueError(
            f"linear: input of shape {input.shape} and weight of shape {weight.shape}: the "
            "weight must be (out_features, in_features) and the input (..., in_features)"
        )
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} has {input.shape[-1]} features but the "
            f"weight of shape {weight.shape} expects {weight.shape[1]} "
            "(weight is (out_features, in_features))"
        )
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"linear: bias of shape {bias.shape} does not fit the weight of shape "
            f"{weight.shape}: it needs shape ({weight.shape[0]},), one per output feature"
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
    keep = default_generator().random(input.shape, dtype=np.float32) >= p
    scale = (keep * (1.0 / (1.0 - p))).astype(input.dtype, copy=False)
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
    idx = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
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
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    _check_targets(idx, weight.shape[0], None, "embedding")
    out = weight[idx]
    if padding_idx is not None:  # the padding row gets no gradient
        out = out * _wrap((idx != padding_idx)[..., None].astype(weight.dtype))
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
    """
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training:
        n = input.data.size // input.shape[1]
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        mean = input.mean(axes, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(axes, keepdim=True)
        if running_mean is not None:
            m = momentum
            running_mean.data[...] = (1 - m) * running_mean.data + m * mean.data.reshape(-1)
            running_var.data[...] = (1 - m) * running_var.data + m * var.data.reshape(-1) * (
                n / (n - 1)
            )
            running_mean._bump_version()
            running_var._bump_version()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        mean = _wrap(running_mean.data.reshape(shape))
        centred = input - mean
        var = _wrap(running_var.data.reshape(shape))
    y = centred * (var + eps) ** -0.5
    if weight is not None:
        y = y * functional.reshape(weight, shape)
    if bias is not None:
        y = y + functional.reshape(bias, shape)
    return y


# -- losses ----------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _as_target(target, like: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target
    return _wrap(np.asarray(target, dtype=like.dtype))


def _check_same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"{op}: target size {target.shape} differs from input size {input.shape}; they "
            "will be broadcast, which is likely not what you want",
            stacklevel=3,
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error (x - y)², reduced by ``reduction`` ('mean' | 'sum' | 'none')."""
    target = _as_target(target, input)
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error |x - y|, reduced by ``reduction``."""
    target = _as_target(target, input)
    _check_same_shape(input, target, "l1_loss")
    return _reduce(functional.abs(input - target), reduction, "l1_loss")


def _check_targets(t: np.ndarray, n_classes: int, ignore_index: int | None, op: str) -> bool:
    """Raise when a class index is outside [0, n_classes) (ignore_index excepted). Returns
    True when no target can equal ``ignore_index`` (it lies outside the targets' range)."""
    if t.size == 0:
        return True
    lo, hi = int(np.minimum.reduce(t, axis=None)), int(np.maximum.reduce(t, axis=None))
    if lo >= 0 and hi < n_classes:
        return ignore_index is None or not lo <= ignore_index <= hi
    bad = t[(t < 0) | (t >= n_classes)]
    if ignore_index is not None:
        bad = bad[bad != ignore_index]
    if bad.size:
        raise IndexError(
            f"{op}: target {int(bad.flat[0])} is out of bounds for {n_classes} classes; class "
            f"indices must be in [0, {n_classes - 1}]"
            + (f" (or equal ignore_index={ignore_index})" if ignore_index is not None else "")
        )
    return False


def _classes_last(input: Tensor, op: str) -> tuple[Tensor, tuple]:
    """(N, C, d1, ...) -> (N·d1·..., C) and the target shape (N, d1, ...); (C,) -> (1, C)."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:
        return functional.reshape(input, (1, input.shape[0])), ()
    if input.ndim == 2:
        return input, (input.shape[0],)
    dims = (0,) + tuple(range(2, input.ndim)) + (1,)
    flat = functional.reshape(functional.permute(input, dims), (-1, input.shape[1]))
    return flat, (input.shape[0],) + input.shape[2:]


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices: -input[i, target[i]] (times weight[target[i]]).

    input: (N, C) log-probabilities (or (C,), or (N, C, d1, ...)); target: (N,) integers
    (or (), or (N, d1, ...)). 'mean' divides by the summed weights of non-ignored targets.
    """
    flat, t, w, tshape = _class_targets(input, target, weight, ignore_index, reduction, "nll_loss")
    # one record: the gather, the weights and the reduction (no one-hot, no copy of flat)
    loss = NllLoss.apply(flat, target=t, weight=w, reduction=reduction)
    return functional.reshape(loss, tshape) if reduction == "none" else loss


# each integer dtype's unsigned twin, for the one-reduction range check of class indices
_UNSIGNED = {np.dtype(f"{k}{n}"): np.dtype(f"u{n}") for k in "iu" for n in (1, 2, 4, 8)}


def _class_targets(input, target, weight, ignore_index, reduction, op):
    """Check class-index targets against ``input`` (N, C, ...): returns the input as
    (rows, C), the targets as a (rows,) snapshot (ignored ones replaced by 0), the per-row
    weights (the class weight of each target, 0 where ignored; None when all are 1) and the
    targets' shape."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    xd = input.data
    if xd.ndim == 2 and t.ndim == 1 and t.shape[0] == xd.shape[0] and t.dtype in _UNSIGNED:
        # the common case (N, C) logits and (N,) indices, checked by ONE reduction: viewed as
        # unsigned, a negative index is huge, so max < C means every index is in [0, C)
        n_classes = xd.shape[1]
        if not 0 <= ignore_index < n_classes and (
            t.size == 0 or int(np.maximum.reduce(t.view(_UNSIGNED[t.dtype]))) < n_classes
        ):
            safe_t = t.copy()  # a snapshot of the targets; none can equal ignore_index
            w = None
            if weight is not None:
                w = (weight.data if isinstance(weight, Tensor) else np.asarray(weight))[safe_t]
                w = w.astype(xd.dtype)
            return input, safe_t, w, t.shape
    flat, tshape = _classes_last(input, op)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices, got dtype {t.dtype} (for class "
            "probabilities pass them to cross_entropy)"
        )
    if t.shape != tshape:
        raise ValueError(
            f"{op}: input of shape {input.shape} needs a target of shape {tshape}, got {t.shape}"
        )
    n_classes = flat.shape[1]
    t = t.reshape(-1)
    if _check_targets(t, n_classes, ignore_index, op):
        keep, all_kept = None, True  # ignore_index is outside the targets' range
    else:
        keep = t != ignore_index
        all_kept = bool(keep.all())
    safe_t = t.copy() if all_kept else np.where(keep, t, 0)  # a snapshot of the targets
    w = None
    if not all_kept:
        w = keep.astype(input.dtype)
    if weight is not None:
        wc = (weight.data if isinstance(weight, Tensor) else np.asarray(weight))[safe_t]
        w = wc.astype(input.dtype) if w is None else w * wc.astype(input.dtype)
    return flat, safe_t, w, tshape


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits: nll_loss(log_softmax(input, 1), target).

    Class-index targets without label smoothing are one record, the ``CrossEntropy``
    primitive (its backward is softmax minus one-hot); other forms are composed.

    input: (N, C) logits (or (C,), or (N, C, d1, ...)); target: class indices (N,) or class
    probabilities of the input's shape. ``label_smoothing`` mixes the target with the uniform
    distribution, as PyTorch does. Finite for logits of +-1e4.

    >>> import tinygrad_edu as tg
    >>> import tinygrad_edu.nn.functional as F
    >>> F.cross_entropy(tg.zeros(2, 4), tg.tensor([1, 3])).item() == float(np.log(4, dtype=np.float32))
    True
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind != "f" and label_smoothing == 0.0:  # class indices: one record
        flat, t, w, tshape = _class_targets(
            input, target, weight, ignore_index, reduction, "cross_entropy"
        )
        loss = CrossEntropy.apply(flat, target=t, weight=w, reduction=reduction)
        return functional.reshape(loss, tshape) if reduction == "none" else loss
    logp = functional.log_softmax(input, class_dim)
    n_classes = input.shape[class_dim]
    if t.dtype.kind == "f":  # class probabilities
        return _soft_cross_entropy(logp, t, weight, reduction, label_smoothing, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    w = (
        None
        if weight is None
        else (weight.data if isinstance(weight, Tensor) else np.asarray(weight))
    )
    wshape = [1] * input.ndim
    wshape[class_dim] = n_classes
    per_class = logp if w is None else logp * _wrap(w.astype(input.dtype).reshape(wshape))
    smooth = -per_class.sum(class_dim)
    keep = t != ignore_index
    if not keep.all():
        smooth = smooth * _wrap(keep.astype(input.dtype))
    if reduction == "mean":
        denom = keep.sum() if w is None else w[np.where(keep, t, 0)][keep].sum()
        smooth = smooth.sum() / float(denom)
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _soft_cross_entropy(logp, t, weight, reduction, label_smoothing, class_dim):
    if t.shape != logp.shape:
        raise ValueError(
            f"cross_entropy: probability targets must have the input's shape {logp.shape}, "
            f"got {t.shape}"
        )
    n_classes = logp.shape[class_dim]
    t = t.astype(logp.dtype, copy=False)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / n_classes
    if weight is not None:
        wshape = [1] * logp.ndim
        wshape[class_dim] = n_classes
        t = t * (weight.data if isinstance(weight, Tensor) else np.asarray(weight)).reshape(wshape)
    loss = -(logp * _wrap(t.astype(logp.dtype, copy=False))).sum(class_dim)
    if reduction == "mean" and logp.ndim > 1:
        return loss.sum() / float(loss.data.size)
    return _reduce(loss, reduction, "cross_entropy")


def _log_clamped(x: Tensor) -> Tensor:
    """log(x) clamped below at -100 as PyTorch's BCE does; finite gradient at x = 0."""
    pos = x.data > 0
    return functional.clip(functional.where(pos, functional.log(functional.where(pos, x, 1.0)), -100.0), -100.0, None)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1] (logs clamped at -100)."""
    target = _as_target(target, input)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy: target size {target.shape} must match input size {input.shape}"
        )
    if input.data.size and (input.data.min() < 0 or input.data.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: input values must be probabilities in [0, 1], got values in "
            f"[{input.data.min():.4g}, {input.data.max():.4g}]; for logits use "
            "binary_cross_entropy_with_logits"
        )
    loss = -(target * _log_clamped(input) + (1.0 - target) * _log_clamped(1.0 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of sigmoid(x) computed from logits x, stably:
    (1 - y) x + (1 + (pos_weight - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)).

    |x| and max(-x, 0) are written with a constant mask m = [x >= 0] so that the derivative at
    x = 0 is the true sigmoid(0) - y (subgradients of |x| and relu at 0 would not cancel)."""
    target = _as_target(target, input)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target size {target.shape} must match input "
            f"size {input.shape}"
        )
    m = (input.data >= 0).astype(input.dtype)
    abs_x = input * _wrap(2.0 * m - 1.0)  # |x|
    relu_neg = input * _wrap(m - 1.0)  # max(-x, 0)
    softplus_neg = functional.log(functional.exp(-abs_x) + 1.0) + relu_neg  # log(1 + exp(-x))
    if pos_weight is not None:
        softplus_neg = softplus_neg * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")
