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

__all__ = ["listing", "render", "to_dot"]

_PARAM = 'style=filled, fillcolor="#cfe2ff"'
_CONST = 'style=filled, fillcolor="#eeeeee"'
_OP = 'shape=box, style="rounded,filled", fillcolor="#fff3cd"'


def _quote(text: str) -> str:
    """A DOT string literal (quotes and backslashes escaped, newlines as \\n)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(t: Tensor) -> str:
    return str(tuple(t._data.shape))


def _is_parameter(t: Tensor) -> bool:
    """A leaf that requires grad (an ``nn.Parameter`` is one)."""
    return t.requires_grad and (t._record is None or t._is_parameter)


def _producer(t: Tensor, before: int | None):
    """The record that made the value of ``t`` that a record numbered ``before`` read (None:
    its current value): ``t``'s producer, or, if in-place ops (``relu_``) changed ``t`` since,
    the producer before them (an in-place record keeps the one it replaced as ``prev``)."""
    rec = t._record
    while rec is not None and before is not None and rec.seq >= before:
        rec = getattr(rec, "prev", None)
    return rec


def _graph(root: Tensor):
    """Tensors and records reachable from ``root``, records in tape (topological) order.
    A tensor changed in place is one node per value: keyed by (tensor, producing record)."""
    tensors: dict[tuple, Tensor] = {}
    records: dict[int, object] = {}
    stack = [(root, None)]
    while stack:  # iterative: a 100,000-op chain must not recurse
        t, before = stack.pop()
        rec = _producer(t, before)
        key = (id(t), None if rec is None else rec.seq)
        if key in tensors:
            continue
        tensors[key] = t
        if rec is not None and rec.ctx is not None:
            records[rec.seq] = (rec, t)
            ins = rec.inputs  # (an in-place record's input 0 is its output)
            stack.extend((a, rec.seq) for a in ins if isinstance(a, Tensor))
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

    def tensor_node(t: Tensor, before: int | None = None) -> str:
        prod = _producer(t, before)  # which value of t (in-place ops make several)
        key = (id(t), None if prod is None else prod.seq)
        if key in tensor_ids:
            return tensor_ids[key]
        node = tensor_ids[key] = f"t{len(tensor_ids)}"
        label = f"{_shape(t)} {t._data.dtype}"
        style = ""
        if _is_parameter(t):
            label = f"{names.get(id(t), 'parameter')}\n{label}"
            style = ", " + _PARAM
        elif prod is None:
            label = f"{names[id(t)]}\n{label}" if id(t) in names else f"constant\n{label}"
            style = ", " + _CONST
        elif prod.ctx is None:
            label = f"graph released\n{label}"
        if t is tensor and prod is tensor._record:
            style += ", peripheries=2"
        lines.append(f"  {node} [label={_quote(label)}{style}];")
        return node

    if not records:
        tensor_node(tensor)
    for i, (rec, out) in enumerate(records):
        op = f"op{i}"
        inputs = rec.inputs  # (an in-place record's input 0 is its output)
        consts = [
            f"arg {j} = {_fmt_const(a)}" for j, a in enumerate(inputs) if not isinstance(a, Tensor)
        ]
        name = f"{rec.name} (in place)" if rec.in_place else rec.name
        label = "\n".join([name, *consts])
        lines.append(f"  {op} [label={_quote(label)}, {_OP}];")
        for j, a in enumerate(inputs):
            if isinstance(a, Tensor):
                src = tensor_node(a, rec.seq)  # the value this op read
                tail = f" [{j}]" if len(inputs) > 1 else ""
                lines.append(f"  {src} -> {op} [label={_quote(_shape(a) + tail)}];")
        dst = tensor_node(out, rec.seq + 1)  # the value this op made
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


# -- the tape as a program listing ---------------------------------------------------------
def listing(tape) -> str:
    """The records as a program, one line per op::

        %7 = matmul(%3, %5)   (128, 256) float32   saved 131 KB

    Tensors are numbered in order of first appearance; a leaf (``parameter``,
    ``leaf, requires_grad`` or ``constant``) gets a line of its own where first used.
    ``saved`` is the memory the op keeps alive for its backward: every array it saved,
    the inputs and output it saved included (not only arrays it made), each buffer once,
    a view counted as the whole buffer behind it. Two ops that save the same tensor both
    show it, so the last line totals the distinct buffers. (A record also holds its
    inputs as graph edges; that memory is the tensors' own, on their own lines.)
    """
    names: dict[int, str] = {}
    rows: list[tuple[str, str, str, str]] = []  # (name, op call or leaf kind, type, saved)
    held: dict[int, int] = {}

    def name_of(t) -> str:
        key = id(t)
        if key not in names:
            names[key] = f"%{len(names)}"
            if t._record is None or t._record.ctx is None:
                rows.append((names[key], _leaf_kind(t), _fmt_type(t), ""))
        return names[key]

    for rec in tape:
        out, ctx = rec(), rec.ctx
        if out is None or ctx is None:
            continue
        ins = rec.inputs
        args = ", ".join(name_of(a) if hasattr(a, "_record") else _fmt_arg(a) for a in ins)
        lhs = names.setdefault(id(out), f"%{len(names)}")
        buffers = ctx.saved_buffers(out)
        held.update(buffers)
        saved = f"saved {_fmt_bytes(sum(buffers.values()))}"
        op = rec.name.lower() + ("_" if rec.in_place else "")
        rows.append((lhs, f"{op}({args})", _fmt_type(out), saved))
    if not rows:
        return "(empty tape)"
    w0 = max(len(r[0]) for r in rows)
    w1 = min(max(len(r[1]) for r in rows), 40)
    w2 = max(len(r[2]) for r in rows)
    lines = [f"{a:<{w0}} = {b:<{w1}}   {c:<{w2}}   {d}".rstrip() for a, b, c, d in rows]
    n = sum(1 for r in rows if r[3])
    lines.append(
        f"# {n} record(s); {_fmt_bytes(sum(held.values()))} held for backward in "
        f"{len(held)} distinct buffer(s)"
    )
    return "\n".join(lines)


def _leaf_kind(t) -> str:
    if t._record is not None:
        return "result, graph released"  # its record was freed by a backward
    if not t.requires_grad:
        return "constant"
    return "parameter" if t._is_parameter else "leaf, requires_grad"


def _fmt_type(t) -> str:
    return f"{tuple(t._data.shape)} {t._data.dtype}"


def _fmt_arg(a) -> str:
    """A non-tensor argument, short: arrays (e.g. an index) as their dtype and shape."""
    if isinstance(a, np.ndarray):
        return repr(a.tolist()) if a.size <= 4 else f"<{a.dtype} array {a.shape}>"
    if isinstance(a, tuple):
        return "(" + ", ".join(_fmt_arg(x) for x in a) + ("," if len(a) == 1 else "") + ")"
    if isinstance(a, slice):
        parts = ["" if v is None else str(v) for v in (a.start, a.stop, a.step)]
        return ":".join(parts[:2] if a.step is None else parts)
    text = repr(a)
    return text if len(text) <= 24 else text[:21] + "..."


def _fmt_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1e6:.1f} MB"
