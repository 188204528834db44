"""The primitives: one short Function each, a forward on arrays and a derivative in Tensor ops.

``PRIMITIVES`` lists every Function that carries a hand-written derivative; the test suite
fails when one of them has no test case. The functions that check arguments and call these
(``tg.reshape``, ``x * y``, ``tg.softmax``) are in ``tinygrad_edu.functional``.
"""

from __future__ import annotations

from ..function import Function
from . import conv, elementwise as ew, linalg, loss, reduce as rd, shape as sh

PRIMITIVES: dict[str, type[Function]] = {
    cls.__name__: cls
    for cls in (
        ew.Add, ew.Sub, ew.Mul, ew.Div, ew.Neg, ew.Pow, ew.Exp, ew.Log, ew.Sqrt, ew.Sin,
        ew.Cos, ew.Tanh, ew.Sigmoid, ew.Relu, ew.Abs, ew.Erf, ew.Maximum, ew.Minimum,
        ew.Where, ew.Clip, ew.Cast, ew.Clone, ew.Remainder, ew.PiecewiseConstant,
        rd.Sum, rd.Mean, rd.Max, rd.Min, rd.SumTo,
        sh.Reshape, sh.Permute, sh.BroadcastTo, sh.GetItem, sh.SetItem, sh.IndexAdd,
        sh.Concatenate, sh.Pad, sh.Flip,
        linalg.MatMul, linalg.Linear,
        loss.LogSoftmax, loss.NllLoss, loss.CrossEntropy,
        conv.Im2Col, conv.Col2Im, conv.MaxPool2d,
    )
}


def register(cls: type[Function]) -> type[Function]:
    """Add a primitive defined elsewhere (your own op, to check it with the kit) to
    ``PRIMITIVES``; returns it."""
    PRIMITIVES[cls.__name__] = cls
    return cls
