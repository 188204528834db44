"""How a tensor prints: PyTorch's format (``torch/_tensor_str.py``) on NumPy arrays, and
``Size``, the shape type that prints as ``tg.Size([2, 3])``.

One format per tensor: integral floats print as ``1.``, others with ``precision`` decimals,
in scientific notation when the nonzero magnitudes span more than 1000x or leave
[1e-4, 1e8]; every element is right-aligned to the widest. Tensors with more than
``threshold`` elements show ``edgeitems`` rows and columns at each end around ``...``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import dtypes


class Size(tuple):
    """A tensor's shape: a tuple of ints printed as ``tg.Size([2, 3])``, like ``torch.Size``.
    Slicing or adding to it gives a Size again.

    >>> import tinygrad_edu as tg
    >>> tg.zeros(2, 3).shape, tg.zeros(2, 3).shape[1:], tg.zeros(2, 3).shape == (2, 3)
    (tg.Size([2, 3]), tg.Size([3]), True)
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"tg.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other) -> Size:
        return Size(tuple.__add__(self, other))

    def __radd__(self, other) -> Size:
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n: int) -> Size:
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def numel(self) -> int:
        return math.prod(self)


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3), "short": (2, 1000, 2), "full": (4, math.inf, 3)}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
) -> None:
    """Set how tensors print, as ``torch.set_printoptions``: ``precision`` (decimals, 4),
    ``threshold`` (elements before summarising, 1000), ``edgeitems`` (3), ``linewidth`` (80),
    ``profile`` ('default', 'short' or 'full') and ``sci_mode`` (True/False; None decides
    per tensor).

    >>> import tinygrad_edu as tg
    >>> tg.set_printoptions(precision=2); tg.tensor([1.12345])
    tensor([1.12])
    >>> tg.set_printoptions(profile="default"); tg.tensor([1.12345])
    tensor([1.1235])
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {list(_PROFILES)}")
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems = _PROFILES[profile]
        PRINT_OPTS.linewidth = 80
    for name, value in [
        ("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ]:
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """The one format of a tensor's elements, decided from (a summary of) all of them."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max(len(f"{v}") for v in values.ravel().tolist())
            return
        nonzero = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if nonzero.size == 0:
            return
        lo, hi = np.abs(nonzero).min(), np.abs(nonzero).max()
        self.int_mode = bool((nonzero == np.ceil(nonzero)).all())
        self.sci_mode = (
            hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            if PRINT_OPTS.sci_mode is None
            else PRINT_OPTS.sci_mode
        )
        self.width = max(len(self._text(v)) for v in nonzero.tolist())

    def _text(self, v) -> str:
        if not self.floating:
            return f"{v}"
        if self.sci_mode:
            return f"{v:.{PRINT_OPTS.precision}e}"
        if self.int_mode:
            return f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        return f"{v:.{PRINT_OPTS.precision}f}"

    def format(self, v) -> str:
        return self._text(v).rjust(self.width)


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        items = [fmt.format(v) for v in a[:e].tolist()] + [" ..."]
        items += [fmt.format(v) for v in a[-e:].tolist()]
    else:
        items = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        rows = [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
        rows += [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(len(a) - e, len(a))]
    else:
        rows = [_nested_str(row, indent + 1, summarize, fmt) for row in a]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _summary(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (the formatter is decided on these)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty([0] * a.ndim, a.dtype)
    rows = list(range(e)) + list(range(len(a) - e, len(a))) if a.shape[0] > 2 * e else range(len(a))
    return np.stack([_summary(a[i]) for i in rows])


def tensor_repr(t) -> str:
    """``tensor([...], dtype=..., grad_fn=<...>)`` exactly as PyTorch lays it out."""
    a, prefix = t._data, "tensor("
    indent = len(prefix)
    suffixes = []
    default_float = dtypes.get_default_dtype().dtype
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != default_float:
            suffixes.append(f"dtype={dtypes.of(a.dtype)}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype not in (default_float, np.int64, np.bool_):
            suffixes.append(f"dtype={dtypes.of(a.dtype)}")
        summarize = a.size > PRINT_OPTS.threshold
        fmt = _Formatter(_summary(a) if summarize else a)
        body = _nested_str(a, indent, summarize, fmt)
    if t._record is not None:
        suffixes.append(f"grad_fn=<{t._record.name}Backward0>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text, last_line = prefix + body, len(prefix + body) - (prefix + body).rfind("\n") + 1
    for suffix in suffixes:  # on the same line while it fits in linewidth
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            text += ",\n" + " " * indent + suffix
            last_line = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line += len(suffix) + 2
    return text + ")"
