"""The receptive field of a convolutional stack, two ways: measured and computed.

*Measured* (``receptive_field``): backpropagate from one output pixel to the input; the input
positions with a non-zero gradient are the ones that influence it (lecture 七.1: "every element
of the receptive field changes the output"). *Computed* (``analytic_receptive_field``): the
recurrence over the layers, per spatial axis,

    k_eff = dilation * (kernel - 1) + 1
    size  <- size + (k_eff - 1) * jump
    start <- start - padding * jump
    jump  <- jump * stride

so output pixel ``o`` sees input rows ``start + o * jump ... start + o * jump + size - 1``
(clipped to the image). The two agree; the tests and notebook 05 check that they do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "AnalyticRF",
    "MeasuredRF",
    "analytic_receptive_field",
    "receptive_field",
    "receptive_field_table",
]

# layers that keep every spatial position where it was (elementwise or per-channel)
_POINTWISE = {
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "GELU",
    "ELU",
    "SiLU",
    "Softplus",
    "Identity",
    "Dropout",
    "Dropout2d",
    "BatchNorm2d",
    "GroupNorm",
    "LayerNorm",
}


@dataclasses.dataclass(frozen=True)
class AnalyticRF:
    """Receptive field by formula, per spatial axis (rows, cols).

    ``size``: how many input pixels one output pixel sees; ``jump``: how far apart (in input
    pixels) two neighbouring output pixels' fields are; ``start``: where output pixel 0's field
    begins (negative when padding reaches past the border).
    """

    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[int, int]

    def box(self, index: Sequence[int], input_hw: Sequence[int] | None = None):
        """``((row0, row1), (col0, col1))``, inclusive, of output pixel ``index = (i, j)``,
        clipped to an ``input_hw = (H, W)`` image when given."""
        out = []
        for axis in range(2):
            lo = self.start[axis] + index[axis] * self.jump[axis]
            hi = lo + self.size[axis] - 1
            if input_hw is not None:
                lo, hi = max(lo, 0), min(hi, input_hw[axis] - 1)
            out.append((lo, hi))
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class MeasuredRF:
    """Receptive field by backprop: ``mask[h, w]`` is True where the input influences the
    chosen output; ``box`` its bounding box ``((row0, row1), (col0, col1))``, inclusive."""

    mask: np.ndarray
    box: tuple[tuple[int, int], tuple[int, int]]

    @property
    def size(self) -> tuple[int, int]:
        (r0, r1), (c0, c1) = self.box
        return (r1 - r0 + 1, c1 - c0 + 1)


def _pair(v, name: str, layer: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    v = tuple(int(a) for a in v)
    if len(v) != 2:
        raise ValueError(
            f"analytic_receptive_field: {layer}.{name} = {v}; expected an int or a pair"
        )
    return v


def _layers(model) -> list:
    """The layers in call order: a Sequential (or any iterable of modules) in its order,
    otherwise the leaf modules in registration order (right for a plain stack)."""
    if isinstance(model, (list, tuple)):
        return [leaf for m in model for leaf in _layers(m)]
    if type(model).__name__ == "Sequential" or (
        hasattr(model, "__iter__") and hasattr(model, "children")
    ):
        return [leaf for m in model for leaf in _layers(m)]
    children = list(model.children()) if hasattr(model, "children") else []
    if not children:
        return [model]
    return [leaf for m in children for leaf in _layers(m)]


def _geometry(layer) -> tuple | None:
    """(kernel, stride, padding, dilation) pairs of a sliding-window layer; None if pointwise."""
    name = type(layer).__name__
    if name in _POINTWISE:
        return None
    if name in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        kernel = _pair(layer.kernel_size, "kernel_size", name)
        stride = getattr(layer, "stride", None)
        stride = kernel if stride is None else _pair(stride, "stride", name)
        padding = getattr(layer, "padding", 0)
        dilation = _pair(getattr(layer, "dilation", 1), "dilation", name)
        if isinstance(padding, str):
            if padding == "valid":
                padding = (0, 0)
            elif padding == "same":  # torch pads (total // 2) before, the rest after
                padding = tuple((d * (k - 1)) // 2 for k, d in zip(kernel, dilation))
            else:
                raise ValueError(f"analytic_receptive_field: {name} padding={padding!r}")
        padding = _pair(padding, "padding", name)
        return kernel, stride, padding, dilation
    raise TypeError(
        f"analytic_receptive_field: don't know how {name} moves pixels; the formula covers "
        "Conv2d, MaxPool2d, AvgPool2d and pointwise layers (activations, dropout, batch norm). "
        "Pass only the convolutional part of the model (e.g. model[:4])"
    )


def receptive_field_table(model) -> list[tuple[str, AnalyticRF]]:
    """The recurrence layer by layer: ``[(layer name, AnalyticRF after it), ...]``, starting
    with ``("input", size 1, jump 1, start 0)``. Pointwise layers appear unchanged."""
    size, jump, start = [1, 1], [1, 1], [0, 0]
    rows = [("input", AnalyticRF((1, 1), (1, 1), (0, 0)))]
    for layer in _layers(model):
        geom = _geometry(layer)
        if geom is not None:
            kernel, stride, padding, dilation = geom
            for a in range(2):
                k_eff = dilation[a] * (kernel[a] - 1) + 1
                size[a] += (k_eff - 1) * jump[a]
                start[a] -= padding[a] * jump[a]
                jump[a] *= stride[a]
        rows.append((type(layer).__name__, AnalyticRF(tuple(size), tuple(jump), tuple(start))))
    return rows


def analytic_receptive_field(model) -> AnalyticRF:
    """Size, jump (stride in input pixels) and start of one output pixel's receptive field,
    per axis, for a stack of Conv2d / MaxPool2d / AvgPool2d (any stride, padding, dilation)
    and pointwise layers.

    >>> from tinygrad_edu import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3))
    >>> analytic_receptive_field(net)
    AnalyticRF(size=(5, 5), jump=(1, 1), start=(0, 0))
    """
    return receptive_field_table(model)[-1][1]


def receptive_field(
    model,
    input_shape: Sequence[int],
    index: Sequence[int],
    *,
    trials: int = 4,
    seed: int = 0,
) -> MeasuredRF:
    """The input positions that influence one output pixel, found by backpropagation.

    ``input_shape`` is ``(C, H, W)`` or ``(1, C, H, W)``; ``index`` is the output pixel
    ``(i, j)`` (all output channels summed) or a full index into the output, e.g. ``(0, c, i, j)``.
    The gradient of that output with respect to a random input is taken ``trials`` times and
    the non-zero positions are united: one random input already shows the whole field of a
    linear conv stack, while max pooling and ReLU pass gradient through only some positions
    per input (the argmax, the active units), so several inputs are needed to see them all.

    >>> from tinygrad_edu import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))
    >>> receptive_field(net, (1, 9, 9), (2, 2)).box
    ((2, 6), (2, 6))
    """
    import tinygrad_edu as tg  # late: utils sits on the public API

    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1,) + shape
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError(
            f"receptive_field: input_shape {tuple(input_shape)} must be (C, H, W) or (1, C, H, W)"
        )
    was_training = getattr(model, "training", None)
    if was_training is not None and hasattr(model, "eval"):
        model.eval()  # dropout off: its zeros would punch holes in the field
    rng = np.random.default_rng(seed)  # its own: the tg.manual_seed stream stays untouched
    dtype = next(iter(p.dtype for p in _parameters(model)), tg.get_default_dtype())
    mask = np.zeros(shape[2:], dtype=bool)
    try:
        with tg.enable_grad():
            for _ in range(max(1, trials)):
                x = tg.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)
                out = model(x)
                chosen = _select(out, tuple(index))
                (g,) = tg.grad(chosen, x)
                mask |= np.abs(g._data).sum(axis=(0, 1)) > 0
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    if not mask.any():
        raise RuntimeError(
            f"receptive_field: output {tuple(index)} has a zero gradient everywhere; the model "
            "may have all-zero weights or dead units (try more trials)"
        )
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    box = ((int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1])))
    return MeasuredRF(mask, box)


def _parameters(model) -> Iterable:
    return model.parameters() if hasattr(model, "parameters") else ()


def _select(out, index: tuple):
    """One output value (scalar tensor) from a (1, C, H, W) output."""
    if len(index) == out.ndim:
        return out[index]
    if len(index) == 2 and out.ndim == 4:
        return out[0, :, index[0], index[1]].sum()
    raise ValueError(
        f"receptive_field: index {index} for an output of shape {out.shape}; give (i, j) or a "
        f"full index of length {out.ndim}"
    )
