"""Shape helpers on plain NumPy arrays: no Tensor here (the bottom of the dependency graph)."""

from __future__ import annotations

from typing import Iterable

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` (in a broadcast output's shape) back down to ``shape``.

    The single place where broadcasting is undone: leading axes that broadcasting added are
    summed away, then axes where the input had size 1 are summed with keepdims.
    """
    if grad.shape == shape:
        return grad
    if grad.shape[1:] == shape:  # a bias's gradient: one reduction over the batch axis
        return np.add.reduce(grad, axis=0)
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's broadcasting rule in plain Python, with
    an error that names the op and says what to do."""
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        off = ndim - len(s)
        for i, n in enumerate(s):
            o = out[off + i]
            if o == 1:
                out[off + i] = n
            elif n != 1 and n != o:
                pretty = " and ".join(str(tuple(s)) for s in shapes)
                raise ValueError(
                    f"{op}: shapes {pretty} cannot be broadcast together: trailing dimensions "
                    "must be equal or 1 (reshape or unsqueeze one operand so they line up)"
                )
    return tuple(out)


def normalize_axis(axis, ndim: int, op: str = "reduce") -> tuple[int, ...] | None:
    """Turn an int, tuple or None into a sorted tuple of non-negative axes (None = all)."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(
                f"{op}: dimension {a} is out of range for a tensor with {ndim} dimension(s) "
                f"(expected a value in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])"
            )
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dimension(s) {axes} repeat an axis")
    return tuple(sorted(out))


def prod(xs: Iterable[int]) -> int:
    n = 1
    for x in xs:
        n *= int(x)
    return n
