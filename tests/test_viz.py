"""tg.viz: the graph behind a tensor as DOT text (tested as text: no Graphviz needed), and
rendering to SVG/PNG when the graphviz package and the dot program are installed."""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, viz

_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
_EDGE = re.compile(r'^\s*(\w+) -> (\w+) \[label="((?:[^"\\]|\\.)*)"\];$')


def parse(dot: str):
    """Nodes {id: (label, attrs)} and edges [(src, dst, label)] of the DOT text to_dot writes.
    Every line must be understood, so anything malformed fails the test."""
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph tape {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if m := _EDGE.match(line):
            edges.append((m[1], m[2], m[3].replace("\\n", "\n")))
        elif m := _NODE.match(line):
            assert m[1] not in nodes, f"node {m[1]} declared twice"
            nodes[m[1]] = (m[2].replace("\\n", "\n").replace('\\"', '"'), m[3])
        else:
            assert re.match(r"^\s*(rankdir=LR|node \[.*\]|edge \[.*\]);$", line), line
    for src, dst, _ in edges:
        assert src in nodes and dst in nodes, f"edge {src} -> {dst} to an undeclared node"
    return nodes, edges


def ops(nodes):
    return {k: v[0] for k, v in nodes.items() if "shape=box" in v[1]}


def tensors(nodes):
    return {k: v[0] for k, v in nodes.items() if "shape=box" not in v[1]}


def find(nodes, first_line):
    hits = [k for k, (label, _) in nodes.items() if label.split("\n")[0] == first_line]
    assert len(hits) == 1, (first_line, hits)
    return hits[0]


def test_lecture_graph_ops_tensors_parameters_and_shapes_on_edges():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    c = tg.tensor([5.0, 6.0], requires_grad=True)
    out = 3 * (a + b * c)
    nodes, edges = parse(viz.to_dot(out, params={"a": a, "b": b, "c": c}))
    assert sorted(ops(nodes).values()) == ["Add", "Mul", "Mul\narg 0 = 3"]
    assert len(tensors(nodes)) == 6  # a, b, c, b*c, a+b*c, out
    for name in "abc":  # parameters: named and marked
        node = find(nodes, name)
        assert "fillcolor" in nodes[node][1] and nodes[node][0] == f"{name}\n(2,) float32"
    # every op has its tensor inputs in and exactly one output out; shapes ride on the edges
    for op in ops(nodes):
        assert sum(1 for s, d, _ in edges if s == op) == 1
    assert len(edges) == 2 + 2 + 1 + 3  # inputs: Mul 2, Add 2, Mul 1; one output each
    assert all(label.startswith("(2,)") for _, _, label in edges)
    # the path a -> Add -> (a + b*c) -> Mul -> out
    add = next(k for k, v in ops(nodes).items() if v == "Add")
    assert (find(nodes, "a"), add, "(2,) [0]") in edges
    (s,) = [d for src, d, _ in edges if src == add]
    (mul3,) = [d for src, d, _ in edges if src == s]
    assert ops(nodes)[mul3] == "Mul\narg 0 = 3"
    (root,) = [d for src, d, _ in edges if src == mul3]
    assert "peripheries=2" in nodes[root][1]  # the tensor drawn from
    assert all("peripheries=2" not in attrs for k, (_, attrs) in nodes.items() if k != root)


def test_mlp_graph_marks_nn_parameters_and_constants():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = tg.randn(5, 4)
    loss = model(x).log_softmax(-1).mean()
    nodes, edges = parse(viz.to_dot(loss, dict(model.named_parameters())))
    params = {label.split("\n")[0] for label, attrs in nodes.values() if "#cfe2ff" in attrs}
    assert params == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert find(nodes, "0.weight") and nodes[find(nodes, "0.weight")][0].endswith("(8, 4) float32")
    consts = [label for label, attrs in nodes.values() if "#eeeeee" in attrs]
    assert "constant\n(5, 4) float32" in consts  # the input batch
    # each linear layer is one node: GEMM + bias
    matmuls = [k for k, v in ops(nodes).items() if v == "Linear"]
    assert len(matmuls) == 2
    into = [lab.split(" [")[0] for _, d, lab in edges if d in matmuls]
    assert "(8, 4)" in into and "(3, 8)" in into  # the weights' shapes ride on their edges


def test_parameters_without_names_and_a_plain_leaf():
    w = tg.ones(2, 3, requires_grad=True)
    y = (w * 2).sum()
    nodes, _ = parse(viz.to_dot(y))
    assert find(nodes, "parameter")
    nodes, edges = parse(viz.to_dot(w))  # a leaf alone: one node, no ops
    assert len(nodes) == 1 and edges == []
    assert "peripheries=2" in next(iter(nodes.values()))[1]


def test_after_backward_the_released_graph_is_said_so():
    w = tg.ones(2, requires_grad=True)
    y = (w * w).sum()
    y.backward()
    nodes, edges = parse(viz.to_dot(y))
    assert edges == [] and next(iter(nodes.values()))[0].startswith("graph released")


def test_labels_are_escaped():
    w = tg.ones(2, requires_grad=True)
    nodes, _ = parse(viz.to_dot((w * 1.5).sum(), {'layer "1"\\w': w}))
    assert find(nodes, 'layer "1"\\\\w')


def test_long_chain_does_not_recurse():
    x = tg.ones(1, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    nodes, edges = parse(viz.to_dot(y))
    assert len(ops(nodes)) == 5000 and len(edges) == 2 * 5000


def test_to_dot_rejects_non_tensors():
    with pytest.raises(TypeError, match="to_dot: expected a Tensor"):
        viz.to_dot(np.ones(2))


def test_to_dot_is_deterministic():
    w = tg.ones(3, requires_grad=True)
    y = (w.exp() * w).sum()
    assert viz.to_dot(y) == viz.to_dot(y)


# -- rendering -------------------------------------------------------------------------------
has_dot = shutil.which("dot") is not None


@pytest.mark.skipif(not has_dot, reason="Graphviz's dot program is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_render_writes_svg_and_png(tmp_path, fmt, magic):
    pytest.importorskip("graphviz")
    w = tg.ones(2, requires_grad=True)
    y = (w * 3).sum()
    path = tmp_path / f"g.{fmt}"
    assert viz.render(y, str(path), format=fmt) == str(path)
    data = path.read_bytes()
    assert magic in data[:400]
    if fmt == "svg":
        assert b"Mul" in data and b"Sum" in data


def test_render_without_the_dot_program_says_what_to_install(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"`dot` program was not found.*to_dot"):
        viz.render((w * 3).sum(), str(tmp_path / "g.svg"))
    assert not (tmp_path / "g.svg").exists()


def test_render_without_the_graphviz_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(ImportError, match=r"pip install graphviz.*to_dot"):
        viz.render((w * 3).sum(), str(tmp_path / "g.svg"))


def test_render_rejects_unknown_formats(tmp_path):
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="'svg' or 'png'"):
        viz.render((w * 3).sum(), str(tmp_path / "g.gif"), format="gif")
