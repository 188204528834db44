"""``.data`` is PyTorch's: a tensor sharing the storage, cut from the graph, whose in-place
changes are neither recorded nor version-counted. The idioms of every from-scratch course
(``p.data += -lr * p.grad``, ``w.data.normal_(0, 0.02)``, ``p.data.std()``) work as there; the
NumPy array is ``t.numpy()`` / ``np.asarray(t)``. References: NumPy, the SGD rule
p <- p - lr * grad, and the unbiased standard deviation.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


def param(seed=0):
    a = np.random.default_rng(seed).standard_normal((3, 4))
    return nn.Parameter(tg.tensor(a)), a


def test_data_is_a_tensor_sharing_memory_cut_from_the_graph():
    p, a = param()
    d = p.data
    assert isinstance(d, tg.Tensor) and d is not p
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.numpy(), p.detach().numpy())
    d[0, 0] = 5.0  # through .data into p
    assert p[0, 0].item() == 5.0
    with tg.no_grad():
        p[1, 1] = -5.0  # and from p into .data
    assert d[1, 1].item() == -5.0


# (name, the in-place method on p.data, its NumPy reference on the array)
METHODS = [
    ("add_", lambda d: d.add_(tg.ones(3, 4), alpha=0.5), lambda a: a + 0.5),
    ("sub_", lambda d: d.sub_(2.0), lambda a: a - 2.0),
    ("mul_", lambda d: d.mul_(tg.full((4,), 3.0)), lambda a: a * 3.0),
    ("div_", lambda d: d.div_(4.0), lambda a: a / 4.0),
    ("zero_", lambda d: d.zero_(), np.zeros_like),
    ("fill_", lambda d: d.fill_(0.25), lambda a: np.full_like(a, 0.25)),
    ("copy_", lambda d: d.copy_(tg.arange(4.0)), lambda a: np.broadcast_to(np.arange(4.0), (3, 4))),
    ("clamp_", lambda d: d.clamp_(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    ("clamp_ min only", lambda d: d.clamp_(min=0.0), lambda a: np.maximum(a, 0.0)),
    ("+=", lambda d: d.__iadd__(1.0), lambda a: a + 1.0),
    ("masked_fill_", lambda d: d.masked_fill_(d > 0, 0.0), lambda a: np.where(a > 0, 0.0, a)),
]


@pytest.mark.parametrize("name, method, ref", METHODS, ids=[m[0] for m in METHODS])
def test_inplace_methods_on_data_change_the_parameter_unrecorded_and_uncounted(name, method, ref):
    p, a = param()
    loss = (p * p).sum()  # Mul saved p: a counted change would make backward raise
    out = method(p.data)
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(p.detach().numpy(), ref(a))
    assert p._version == 0 and p.is_leaf and p.requires_grad
    assert [r.name for r in tg.get_tape()] == ["Mul", "Sum"]  # nothing recorded
    loss.backward()  # not refused: .data is the user's own risk, as in PyTorch
    assert p.grad is not None


def test_the_courses_sgd_update_is_the_rule():
    p, a = param()
    lr = 0.1
    (p * p).sum().backward()  # grad = 2 p
    storage = p.detach().numpy()
    p.data += -lr * p.grad
    np.testing.assert_allclose(p.detach().numpy(), a - lr * 2 * a)
    assert p.detach().numpy() is storage or np.shares_memory(p.detach().numpy(), storage)
    assert isinstance(p, nn.Parameter) and p.dtype == tg.float64
    # what a Tensor-inside-a-Tensor would break far away: transpose, printing, statistics
    assert p.T.shape == (4, 3) and repr(p).startswith("Parameter containing:")
    np.testing.assert_allclose(p.std().item(), np.std(a - lr * 2 * a, ddof=1))


def test_std_clone_and_numpy_of_data():
    p, a = param()
    np.testing.assert_allclose(p.data.std().item(), np.std(a, ddof=1))  # unbiased
    np.testing.assert_allclose(p.data.std(1).numpy(), np.std(a, 1, ddof=1))
    c = p.data.clone()
    c.fill_(0.0)
    np.testing.assert_array_equal(p.detach().numpy(), a)  # a copy
    arr = p.data.numpy()
    assert np.shares_memory(arr, np.asarray(p.detach()))


@pytest.mark.skipif(not hasattr(tg.Tensor, "normal_"), reason="random in-place fills not here")
def test_random_fills_through_data():
    w = nn.Linear(50, 40).weight
    version = w._version  # (the layer's own initialisation counts, as in PyTorch)
    tg.manual_seed(0)
    w.data.normal_(0, 0.02)
    assert abs(w.detach().numpy().std() - 0.02) < 0.003 and w._version == version
    w.data.uniform_(-1, 1)
    x = w.detach().numpy()
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0.5


def test_init_functions_fill_through_data():
    w = nn.Linear(50, 40).weight
    nn.init.constant_(w.data, 0.5)
    np.testing.assert_array_equal(w.detach().numpy(), np.full((40, 50), 0.5, np.float32))


def test_assigning_data_replaces_the_storage_shape_and_dtype():
    p, _ = param()
    new = tg.zeros(2, 5)
    p.data = new  # shape and dtype may change, as in PyTorch
    assert p.shape == (2, 5) and p.dtype == tg.float32 and p.requires_grad
    new[0, 0] = 3.0  # p now shares the assigned tensor's memory
    assert p[0, 0].item() == 3.0
    h = tg.tensor([1.0, 2.0], requires_grad=True) * 2.0
    h.data = tg.tensor([7.0, 8.0, 9.0])
    np.testing.assert_array_equal(h.detach().numpy(), [7.0, 8.0, 9.0])
    with pytest.raises(TypeError, match="data: must be set to a tensor, got list"):
        p.data = [1.0]
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        p.data = tg.tensor([1, 2])
    assert p.shape == (2, 5)


def test_an_ndarray_cannot_silently_take_a_tensor_in_place():
    """arr += tensor raises (it cannot store a Tensor in an array); arr + tensor is a tensor."""
    arr = np.zeros(3)
    t = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)
    with pytest.raises(TypeError):
        arr += t
    assert isinstance(arr, np.ndarray) and not arr.any()
    s = arr + t
    assert isinstance(s, tg.Tensor)
    np.testing.assert_array_equal(s.numpy(), [1.0, 2.0, 3.0])
    arr += t.numpy()  # the array, one call away
    np.testing.assert_array_equal(arr, [1.0, 2.0, 3.0])
