"""Bad input, swept: one table of wrong calls, each raising at the call site and changing nothing.

Every case builds a small world (tensors with gradients, a model, an optimizer with state),
makes one wrong call, and checks three things:

1. the call raises the expected exception type;
2. the message names the op and the offending shapes or values (the fragments listed);
3. every tensor's value and gradient, every module buffer and every optimizer state in the
   world is exactly as it was before the call.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.utils.data import DataLoader, TensorDataset


@dataclass
class World:
    """What a wrong call must leave untouched."""

    tensors: list = field(default_factory=list)
    modules: list = field(default_factory=list)
    optimizers: list = field(default_factory=list)

    def snapshot(self) -> Any:
        tensors = [
            (t.detach().numpy().copy(), None if t.grad is None else t.grad.detach().numpy().copy(), t.shape)
            for t in self._all_tensors()
        ]
        optims = [copy.deepcopy(_plain(o.state_dict())) for o in self.optimizers]
        return tensors, optims

    def _all_tensors(self):
        out = list(self.tensors)
        for m in self.modules:
            out += [t for _, t in m.state_dict().items()]
            out += list(m.parameters())
        for o in self.optimizers:
            for group in o.param_groups:
                out += list(group["params"])
        return out


def _plain(obj):
    """A state_dict with every tensor or array as a NumPy array (for comparing)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    if isinstance(obj, tg.Tensor):
        return obj.detach().numpy().copy()
    return copy.deepcopy(obj)


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def leaf(*shape, value=0.5):
    """A float64 leaf that requires grad and already holds a gradient."""
    t = tg.full(shape, value, dtype=tg.float64, requires_grad=True)
    (t * 3.0).sum().backward()
    return t


def trained(model: nn.Module, opt_cls, x_shape, **kw):
    """A model and optimizer after one step, so the optimizer has state to protect."""
    opt = opt_cls(model.parameters(), **kw)
    model(tg.ones(*x_shape, dtype=tg.float64)).sum().backward()
    opt.step()
    return model, opt


CASES: list[tuple[str, Callable]] = []


def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn

    return register


# Each case returns (world, call, exception type, fragments the message must contain).
@case("matmul inner dims")
def _():
    a, b = leaf(2, 3), leaf(4, 5)
    return World([a, b]), lambda: a @ b, ValueError, ["matmul", "(2, 3)", "(4, 5)"]


@case("add shapes")
def _():
    a, b = leaf(2, 3), leaf(4)
    return World([a, b]), lambda: a + b, ValueError, ["add", "(2, 3)", "(4,)"]


@case("mul shapes")
def _():
    a, b = leaf(2, 3), leaf(2)
    return World([a, b]), lambda: a * b, ValueError, ["mul", "(2, 3)", "(2,)"]


@case("cat shapes")
def _():
    a, b = leaf(2, 3), leaf(2, 4)
    return World([a, b]), lambda: tg.cat([a, b], dim=0), ValueError, ["cat", "(2, 3)", "(2, 4)"]


@case("stack shapes")
def _():
    a, b = leaf(2, 3), leaf(3, 2)
    return World([a, b]), lambda: tg.stack([a, b]), ValueError, ["stack", "(2, 3)", "(3, 2)"]


@case("reshape size")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.reshape(4, 2), ValueError, ["reshape", "(2, 3)", "(4, 2)"]


@case("view size")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.view(5), ValueError, ["(2, 3)", "(5,)"]


@case("permute dims")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.permute(0, 0), ValueError, ["permute", "(0, 0)"]


@case("transpose dim range")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.transpose(0, 2), IndexError, ["transpose", "2"]


@case("sum dim range")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.sum(dim=3), IndexError, ["sum", "3"]


@case("softmax dim range")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: F.softmax(a, dim=2), IndexError, ["softmax", "2"]


@case("squeeze dim range")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.squeeze(4), IndexError, ["squeeze", "4"]


@case("expand shape")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: a.expand(4, 3), ValueError, ["(2, 3)", "(4, 3)"]


@case("index out of range")
def _():
    a = leaf(3)
    return World([a]), lambda: a[5], IndexError, ["5", "3"]


@case("cross_entropy class too large")
def _():
    x = leaf(4, 3)
    y = tg.tensor([0, 1, 5, 2])
    return World([x, y]), lambda: F.cross_entropy(x, y), IndexError, ["cross_entropy", "5", "3"]


@case("cross_entropy negative class")
def _():
    x = leaf(4, 3)
    y = tg.tensor([0, -2, 1, 2])
    return World([x, y]), lambda: F.cross_entropy(x, y), IndexError, ["cross_entropy", "-2"]


@case("cross_entropy batch sizes")
def _():
    x = leaf(4, 3)
    y = tg.tensor([0, 1, 2, 1, 0])
    return World([x, y]), lambda: F.cross_entropy(x, y), ValueError, ["cross_entropy", "4", "5"]


@case("cross_entropy float class target")
def _():
    x = leaf(4, 3)
    y = tg.tensor([0.0, 1.0, 2.0, 1.0])
    return World([x, y]), lambda: F.cross_entropy(x, y), (TypeError, ValueError), ["cross_entropy"]


@case("nll_loss class too large")
def _():
    x = leaf(2, 3)
    y = tg.tensor([3, 0])
    return World([x, y]), lambda: F.nll_loss(x, y), IndexError, ["nll_loss", "3"]


@case("binary_cross_entropy probability above one")
def _():
    p = leaf(3, value=0.5)
    with tg.no_grad():
        q = p * 3.0  # 1.5
    t = tg.ones(3, dtype=tg.float64)
    return World([p, q, t]), lambda: F.binary_cross_entropy(q, t), ValueError, [
        "binary_cross_entropy", "1.5"]


@case("binary_cross_entropy NaN probability")
def _():
    p = tg.tensor([0.5, float("nan")], dtype=tg.float64)
    t = tg.ones(2, dtype=tg.float64)
    return World([p, t]), lambda: F.binary_cross_entropy(p, t), ValueError, [
        "binary_cross_entropy", "nan"]


@case("one_hot class too large")
def _():
    y = tg.tensor([0, 4])
    return World([y]), lambda: F.one_hot(y, num_classes=3), (IndexError, ValueError), [
        "one_hot", "4", "3"]


@case("Linear in_features")
def _():
    m = nn.Linear(3, 2).double()
    x = leaf(5, 4)
    return World([x], [m]), lambda: m(x), ValueError, ["(5, 4)", "3"]


@case("Linear after a step: optimizer state kept")
def _():
    m, opt = trained(nn.Linear(3, 2).double(), tg.optim.Adam, (4, 3), lr=0.1)
    x = leaf(4, 2)
    return World([x], [m], [opt]), lambda: m(x), ValueError, ["(4, 2)", "3"]


@case("Conv2d channels")
def _():
    m = nn.Conv2d(3, 4, 3).double()
    x = leaf(1, 2, 5, 5)
    return World([x], [m]), lambda: m(x), ValueError, ["conv2d", "3", "2"]


@case("Conv2d kernel larger than input")
def _():
    m = nn.Conv2d(1, 1, 5).double()
    x = leaf(1, 1, 3, 3)
    return World([x], [m]), lambda: m(x), ValueError, ["conv2d", "5", "3"]


@case("Conv2d 2-D input")
def _():
    m = nn.Conv2d(1, 1, 3).double()
    x = leaf(5, 5)
    return World([x], [m]), lambda: m(x), ValueError, ["conv2d", "(5, 5)"]


@case("MaxPool2d window larger than input")
def _():
    m = nn.MaxPool2d(4)
    x = leaf(1, 1, 3, 3)
    return World([x], [m]), lambda: m(x), ValueError, ["max_pool2d", "4", "3"]


@case("BatchNorm1d features")
def _():
    m = nn.BatchNorm1d(3).double()
    m(tg.randn(4, 3, dtype=tg.float64))  # running stats and num_batches_tracked move
    x = leaf(4, 5)
    return World([x], [m]), lambda: m(x), ValueError, ["BatchNorm1d", "3", "(4, 5)"]


@case("BatchNorm1d one value per channel in training")
def _():
    m = nn.BatchNorm1d(3).double()
    x = leaf(1, 3)
    return World([x], [m]), lambda: m(x), ValueError, ["more than 1 value per channel", "(1, 3)"]


@case("Embedding index out of range")
def _():
    m = nn.Embedding(5, 2).double()
    i = tg.tensor([1, 7])
    return World([i], [m]), lambda: m(i), IndexError, ["embedding", "7", "5"]


@case("Embedding float indices")
def _():
    m = nn.Embedding(5, 2).double()
    i = tg.tensor([1.0, 2.0])
    return World([i], [m]), lambda: m(i), TypeError, ["embedding", "float"]


@case("backward of a non-scalar without gradient")
def _():
    a = leaf(2, 3)
    y = a * 2.0
    return World([a]), lambda: y.backward(), RuntimeError, ["backward", "(2, 3)"]


@case("backward gradient shape")
def _():
    a = leaf(2, 3)
    y = a * 2.0
    g = tg.ones(3, 2, dtype=tg.float64)
    return World([a, g]), lambda: y.backward(g), RuntimeError, ["backward", "(3, 2)", "(2, 3)"]


@case("backward twice")
def _():
    a = leaf(2)
    y = (a.exp() * 2.0).sum()
    y.backward()
    return World([a]), lambda: y.backward(), RuntimeError, ["retain_graph"]


@case("backward of a tensor without grad")
def _():
    a = tg.ones(2, dtype=tg.float64)
    return World([a]), lambda: a.sum().backward(), RuntimeError, ["backward", "require"]


@case("grad w.r.t. a tensor that does not require grad")
def _():
    a, b = leaf(2), tg.ones(2, dtype=tg.float64)
    y = (a * b).sum()
    return World([a, b]), lambda: tg.grad(y, [b]), RuntimeError, ["grad", "require"]


@case("item of many elements")
def _():
    a = leaf(3)
    return World([a]), lambda: a.item(), (ValueError, RuntimeError), ["item", "3"]


@case("requires_grad on an integer tensor")
def _():
    a = tg.tensor([1, 2])
    return World([a]), lambda: a.requires_grad_(), (TypeError, RuntimeError), ["floating", "int64"]


@case("in-place on a leaf that requires grad")
def _():
    a = leaf(3)
    return World([a]), lambda: a.mul_(2.0), RuntimeError, ["leaf", "no_grad"]


@case("mean of an integer tensor")
def _():
    a = tg.tensor([1, 2, 3])
    return World([a]), lambda: a.mean(), (TypeError, RuntimeError), ["mean", "int64"]


@case("tensor from a ragged list")
def _():
    return World(), lambda: tg.tensor([[1.0, 2.0], [3.0]]), ValueError, ["tensor", "same length"]


@case("randn negative size")
def _():
    return World(), lambda: tg.randn(2, -3), (ValueError, RuntimeError), ["-3"]


@case("dropout probability")
def _():
    a = leaf(3)
    return World([a]), lambda: F.dropout(a, p=1.5), ValueError, ["dropout", "1.5"]


@case("optimizer without parameters")
def _():
    return World(), lambda: tg.optim.SGD([], lr=0.1), ValueError, ["empty parameter list"]


@case("optimizer negative learning rate")
def _():
    a = leaf(3)
    return World([a]), lambda: tg.optim.SGD([a], lr=-1.0), ValueError, ["learning rate", "-1.0"]


@case("Adam beta out of range")
def _():
    a = leaf(3)
    return World([a]), lambda: tg.optim.Adam([a], betas=(0.9, 1.5)), ValueError, ["beta", "1.5"]


@case("SGD nesterov without momentum")
def _():
    a = leaf(3)
    return World([a]), lambda: tg.optim.SGD([a], lr=0.1, nesterov=True), ValueError, [
        "nesterov", "momentum"]


@case("optimizer step with a wrong-shape gradient")
def _():
    m, opt = trained(nn.Linear(3, 2).double(), tg.optim.SGD, (4, 3), lr=0.1, momentum=0.9)

    def call():
        m.weight.grad = tg.ones(3, 2, dtype=tg.float64)

    return World([], [m], [opt]), call, (ValueError, RuntimeError), ["(3, 2)", "(2, 3)"]


@case("load_state_dict missing key")
def _():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)).double()
    sd = {k: v.clone() * 0.0 for k, v in m.state_dict().items()}
    del sd["1.bias"]
    return World([], [m]), lambda: m.load_state_dict(sd), (KeyError, RuntimeError), ["1.bias"]


@case("load_state_dict shape on a later key")
def _():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)).double()
    sd = {k: v.clone() * 0.0 for k, v in m.state_dict().items()}
    sd["1.weight"] = tg.zeros(2, 2, dtype=tg.float64)
    return World([], [m]), lambda: m.load_state_dict(sd), (ValueError, RuntimeError), [
        "1.weight", "[2, 2]", "[1, 2]"]


@case("optimizer load_state_dict with a wrong group count")
def _():
    m, opt = trained(nn.Linear(3, 2).double(), tg.optim.Adam, (4, 3), lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"] = sd["param_groups"] * 2
    return World([], [m], [opt]), lambda: opt.load_state_dict(sd), ValueError, ["group"]


@case("DataLoader batch size zero")
def _():
    ds = TensorDataset(tg.ones(4, 2))
    return World(), lambda: DataLoader(ds, batch_size=0), ValueError, ["batch_size", "0"]


@case("pad with too many values")
def _():
    a = leaf(2, 3)
    return World([a]), lambda: F.pad(a, (1, 1, 1, 1, 1, 1)), ValueError, ["pad", "(1, 1, 1, 1, 1, 1)"]


@case("split sizes that do not add up")
def _():
    a = leaf(5)
    return World([a]), lambda: a.split([2, 2]), (ValueError, RuntimeError), ["split", "5"]


def test_the_sweep_is_wide():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name, build", CASES, ids=[name for name, _ in CASES])
def test_bad_input_raises_and_changes_nothing(name, build):
    world, call, exc, fragments = build()
    before = world.snapshot()
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    missing = [f for f in fragments if f.lower() not in message.lower()]
    assert not missing, f"{name}: message {message!r} does not name {missing}"
    assert len(message) > 30, f"{name}: message {message!r} too short to name a fix"
    assert _equal(world.snapshot(), before), f"{name}: the failed call changed state"


def test_the_sweep_sees_a_changed_state():
    """The state comparison must be able to fail: a change made in the call is caught."""
    a = leaf(3)
    world = World([a])
    before = world.snapshot()
    with tg.no_grad():
        a.add_(1.0)
    assert not _equal(world.snapshot(), before)


def test_embedding_padding_row_keeps_its_value_and_gets_no_gradient():
    """PyTorch's rule: padding_idx only stops the gradient; the output is the row as stored."""
    w = tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=tg.float64, requires_grad=True)
    out = F.embedding(tg.tensor([0, 1, 1, 2]), w, padding_idx=1)
    np.testing.assert_array_equal(out.detach().numpy(), [[1, 2], [3, 4], [3, 4], [5, 6]])
    (out * tg.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=tg.float64)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [0, 0], [4, 4]])
