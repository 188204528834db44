"""The losses of tinygrad_edu.nn.functional (re-exported there): torch.nn.functional's names,
arguments and defaults. Composites, but for the primitives NllLoss and CrossEntropy."""

from __future__ import annotations

import warnings

import numpy as np

from .. import functional
from ..ops.loss import CrossEntropy, NllLoss
from ..tensor import Tensor

_wrap = Tensor._wrap


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
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    xd = input._data
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
                w = (weight._data if isinstance(weight, Tensor) else np.asarray(weight))[safe_t]
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
        wc = (weight._data if isinstance(weight, Tensor) else np.asarray(weight))[safe_t]
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
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
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
        else (weight._data if isinstance(weight, Tensor) else np.asarray(weight))
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
        t = t * (weight._data if isinstance(weight, Tensor) else np.asarray(weight)).reshape(wshape)
    loss = -(logp * _wrap(t.astype(logp.dtype, copy=False))).sum(class_dim)
    if reduction == "mean" and logp.ndim > 1:
        return loss.sum() / float(loss._data.size)
    return _reduce(loss, reduction, "cross_entropy")


def _log_clamped(x: Tensor) -> Tensor:
    """log(x) clamped below at -100 as PyTorch's BCE does; finite gradient at x = 0."""
    pos = x._data > 0
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
    if input._data.size and (input._data.min() < 0 or input._data.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: input values must be probabilities in [0, 1], got values in "
            f"[{input._data.min():.4g}, {input._data.max():.4g}]; for logits use "
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
    m = (input._data >= 0).astype(input.dtype)
    abs_x = input * _wrap(2.0 * m - 1.0)  # |x|
    relu_neg = input * _wrap(m - 1.0)  # max(-x, 0)
    softplus_neg = functional.log(functional.exp(-abs_x) + 1.0) + relu_neg  # log(1 + exp(-x))
    if pos_weight is not None:
        softplus_neg = softplus_neg * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")
