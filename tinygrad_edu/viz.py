"""The graph that produced a tensor, as Graphviz DOT text (and, with Graphviz, as a picture).

``to_dot(t)`` walks back from ``t`` through the records' inputs and returns DOT text: every op
is a box, every tensor an ellipse, each edge carries the shape of the tensor that flows along
it. Parameters (leaves that require grad, such as ``nn.Parameter``) are filled blue; constants
are grey; ``t`` itself has a double border. The text needs nothing installed: paste it into any
Graphviz viewer, or call ``render(t, "graph.svg")`` with the ``graphviz`` package and the
``dot`` program installed.

>>> import tinygrad_edu as tg
>>> a, b, c = (tg.tensor(v, requires_grad=True) for v in (1.0, 2.0, 3.0))
>>> dot = tg.viz.to_dot(3 * (a + b * c), params={"a": a, "b": b, "c": c})
>>> dot.splitlines()[0], dot.count("shape=box")
('digraph tape {', 3)

Draw it before ``backward()``: backward frees the graph (unless ``retain_graph=True``), and
afterwards the tensor is drawn alone, marked "graph released".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .tensor import Tensor

__all__ = ["render", "to_dot"]

_PARAM = 'style=filled, fillcolor="#cfe2ff"'
_CONST = 'style=filled, fillcolor="#eeeeee"'
_OP = 'shape=box, style="rounded,filled", fillcolor="#fff3cd"'


def _quote(text: str) -> str:
    """A DOT string literal (quotes and backslashes escaped, newlines as \\n)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(t: Tensor) -> str:
    return str(tuple(t.data.shape))


def _is_parameter(t: Tensor) -> bool:
    """A leaf that requires grad (an ``nn.Parameter`` is one)."""
    return t.requires_grad and (t._record is None or type(t).__name__ == "Parameter")


def _graph(root: Tensor):
    """Tensors and records reachable from ``root``, records in tape (topological) order."""
    tensors: dict[int, Tensor] = {}
    records: dict[int, object] = {}
    stack = [root]
    while stack:  # iterative: a 100,000-op chain must not recurse
        t = stack.pop()
        if id(t) in tensors:
            continue
        tensors[id(t)] = t
        rec = t._record
        if rec is not None and rec.ctx is not None:
            records[rec.seq] = (rec, t)
            stack.extend(a for a in rec.ctx.inputs if isinstance(a, Tensor))
    return tensors, [records[s] for s in sorted(records)]


def _fmt_const(a) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array {a.shape}" if a.size > 4 else repr(a.tolist())
    text = repr(a)
    return text if len(text) <= 24 else text[:21] + "..."


def to_dot(tensor: Tensor, params: Mapping[str, Tensor] | None = None) -> str:
    """Graphviz DOT text of the graph that produced ``tensor``.

    Ops are boxes labelled with the op's name (and any non-tensor arguments, e.g. ``arg 1 =
    2.0``); tensors are ellipses labelled ``shape dtype``; every edge is labelled with the
    shape of the tensor it carries. Parameters are filled blue and named from ``params``
    (e.g. ``dict(model.named_parameters())``) when given; constants are grey; ``tensor`` has a
    double border.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    _, records = _graph(tensor)
    tensor_ids: dict[int, str] = {}
    lines = [
        "digraph tape {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]

    def tensor_node(t: Tensor) -> str:
        key = id(t)
        if key in tensor_ids:
            return tensor_ids[key]
        node = tensor_ids[key] = f"t{len(tensor_ids)}"
        label = f"{_shape(t)} {t.data.dtype}"
        style = ""
        if _is_parameter(t):
            label = f"{names.get(key, 'parameter')}\n{label}"
            style = ", " + _PARAM
        elif t._record is None:
            label = f"{names[key]}\n{label}" if key in names else f"constant\n{label}"
            style = ", " + _CONST
        elif t._record.ctx is None:
            label = f"graph released\n{label}"
        if t is tensor:
            style += ", peripheries=2"
        lines.append(f"  {node} [label={_quote(label)}{style}];")
        return node

    if not records:
        tensor_node(tensor)
    for i, (rec, out) in enumerate(records):
        op = f"op{i}"
        inputs = rec.ctx.inputs
        consts = [
            f"arg {j} = {_fmt_const(a)}" for j, a in enumerate(inputs) if not isinstance(a, Tensor)
        ]
        label = "\n".join([rec.name, *consts])
        lines.append(f"  {op} [label={_quote(label)}, {_OP}];")
        for j, a in enumerate(inputs):
            if isinstance(a, Tensor):
                src = tensor_node(a)
                tail = f" [{j}]" if len(inputs) > 1 else ""
                lines.append(f"  {src} -> {op} [label={_quote(_shape(a) + tail)}];")
        dst = tensor_node(out)
        lines.append(f"  {op} -> {dst} [label={_quote(_shape(out))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(
    tensor: Tensor,
    path: str,
    format: str = "svg",
    params: Mapping[str, Tensor] | None = None,
) -> str:
    """Draw the graph of ``tensor`` to ``path`` as SVG or PNG; returns ``path``.

    Needs the ``graphviz`` Python package (``pip install graphviz``) and Graphviz's ``dot``
    program (``apt install graphviz``, ``brew install graphviz`` or ``conda install
    graphviz``). Without them, ``to_dot(tensor)`` still gives the text.
    """
    if format not in ("svg", "png"):
        raise ValueError(f"render: format must be 'svg' or 'png', got {format!r}")
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "render: drawing needs the graphviz Python package (pip install graphviz) and "
            "Graphviz's dot program (apt install graphviz / brew install graphviz); "
            "tg.viz.to_dot(tensor) gives the DOT text without either"
        ) from None
    source = graphviz.Source(to_dot(tensor, params))
    try:
        data = source.pipe(format=format)
    except graphviz.ExecutableNotFound as e:
        raise RuntimeError(
            "render: Graphviz's `dot` program was not found on PATH; install it (apt install "
            "graphviz / brew install graphviz / conda install graphviz), or save "
            "tg.viz.to_dot(tensor) to a .dot file and render it elsewhere"
        ) from e
    with open(path, "wb") as f:
        f.write(data)
    return path
