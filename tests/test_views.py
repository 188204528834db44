"""Views and copies follow PyTorch's rule.

Basic indexing, ``view``, ``reshape`` (when it can), ``permute``/``t``/``transpose``,
``squeeze``/``unsqueeze``, ``flatten``/``unflatten``, ``split``/``chunk`` and ``expand``
return a new tensor sharing the memory and the version counter: a write through the view
shows in the base and a write to the base shows in the view. ``contiguous()`` of a
non-contiguous tensor, ``flip``, ``reshape`` when it cannot view, ``repeat``, ``clone`` and
advanced indexing return copies. ``view`` that cannot be a view raises. The reference for
each view is NumPy's own view of the same array (written the same way).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg


def base():
    a = np.arange(12.0).reshape(3, 4)
    return tg.tensor(a.copy()), a


# (name, the view of a (3, 4) tensor, the same view of a (3, 4) NumPy array)
VIEWS = [
    ("x[1]", lambda x: x[1], lambda a: a[1]),
    ("x[1, 2] (0-d)", lambda x: x[1, 2], lambda a: a[1, 2, ...]),
    ("x[2] of 1-D (0-d)", lambda x: x[0][2], lambda a: a[0][2, ...]),
    ("x[t] with a 0-d index", lambda x: x[tg.tensor(2)], lambda a: a[2]),
    ("x[1:3]", lambda x: x[1:3], lambda a: a[1:3]),
    ("x[:, 0]", lambda x: x[:, 0], lambda a: a[:, 0]),
    ("x[None, ..., 1:]", lambda x: x[None, ..., 1:], lambda a: a[None, ..., 1:]),
    ("x[:]", lambda x: x[:], lambda a: a[:]),
    ("view(12)", lambda x: x.view(12), lambda a: a.reshape(12)),
    ("view(2, -1)", lambda x: x.view(2, -1), lambda a: a.reshape(2, 6)),
    ("view(same shape)", lambda x: x.view(3, 4), lambda a: a[...]),
    ("view_as", lambda x: x.view_as(tg.zeros(4, 3)), lambda a: a.reshape(4, 3)),
    ("reshape(4, 3)", lambda x: x.reshape(4, 3), lambda a: a.reshape(4, 3)),
    ("reshape(same shape)", lambda x: x.reshape(x.shape), lambda a: a[...]),
    ("permute(1, 0)", lambda x: x.permute(1, 0), lambda a: a.T),
    ("permute(identity)", lambda x: x.permute(0, 1), lambda a: a[...]),
    ("t()", lambda x: x.t(), lambda a: a.T),
    ("T", lambda x: x.T, lambda a: a.T),
    ("transpose(0, 1)", lambda x: x.transpose(0, 1), lambda a: a.T),
    ("unsqueeze(1)", lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    ("squeeze() (no size-1 dim)", lambda x: x.squeeze(), lambda a: a[...]),
    ("unsqueeze(0).squeeze(0)", lambda x: x.unsqueeze(0).squeeze(0), lambda a: a[...]),
    ("flatten()", lambda x: x.flatten(), lambda a: a.reshape(12)),
    ("unflatten(1, (2, 2))", lambda x: x.unflatten(1, (2, 2)), lambda a: a.reshape(3, 2, 2)),
    ("split(2)[1]", lambda x: x.split(2)[1], lambda a: a[2:]),
    ("chunk(2, 1)[0]", lambda x: x.chunk(2, 1)[0], lambda a: a[:, :2]),
    ("t()[1:]", lambda x: x.t()[1:], lambda a: a.T[1:]),
    ("view(12)[2:7]", lambda x: x.view(12)[2:7], lambda a: a.reshape(12)[2:7]),
    ("detach()", lambda x: x.detach(), lambda a: a[...]),
]


@pytest.mark.parametrize("name, make, ref", VIEWS, ids=[v[0] for v in VIEWS])
def test_a_write_through_the_view_shows_in_the_base(name, make, ref):
    x, a = base()
    v = make(x)
    assert v is not x and v._vc is x._vc
    v.fill_(-1.0)
    ref(a)[...] = -1.0
    np.testing.assert_array_equal(x.numpy(), a)
    assert x._version == v._version == 1


@pytest.mark.parametrize("name, make, ref", VIEWS, ids=[v[0] for v in VIEWS])
def test_a_write_to_the_base_shows_in_the_view(name, make, ref):
    x, a = base()
    v = make(x)
    x.mul_(10.0)
    x[0, 1] = 7.0
    a *= 10.0
    a[0, 1] = 7.0
    np.testing.assert_array_equal(v.numpy(), ref(a))
    assert v.shape == ref(a).shape and v._version == 2


def test_expand_is_a_read_only_view():
    """expand shares memory, several elements one location: writing through it raises."""
    x = tg.tensor([1.0, 2.0, 3.0])
    e = x.expand(2, 3)
    same = x.expand(3)
    assert e is not x and same is not x
    with pytest.raises(RuntimeError, match="fill_: .*read-only: it is an expand"):
        e.fill_(0.0)
    x.add_(1.0)
    np.testing.assert_array_equal(e.numpy(), [[2.0, 3.0, 4.0]] * 2)
    assert e._version == 1


# (name, the copy of a (3, 4) tensor, its values from NumPy)
COPIES = [
    ("t().contiguous()", lambda x: x.t().contiguous(), lambda a: a.T),
    ("flip(0)", lambda x: x.flip(0), lambda a: a[::-1]),
    ("flip(0, 1)", lambda x: x.flip(0, 1), lambda a: a[::-1, ::-1]),
    ("t().reshape(12) (cannot view)", lambda x: x.t().reshape(12), lambda a: a.T.reshape(12)),
    ("x[:, :2].reshape(-1)", lambda x: x[:, :2].reshape(-1), lambda a: a[:, :2].reshape(-1)),
    ("x[[0, 2]]", lambda x: x[[0, 2]], lambda a: a[[0, 2]]),
    ("x[:, [1, 1]]", lambda x: x[:, [1, 1]], lambda a: a[:, [1, 1]]),
    ("x[t] with an index tensor", lambda x: x[tg.tensor([2, 0])], lambda a: a[[2, 0]]),
    ("x[mask]", lambda x: x[x > 5.0], lambda a: a[a > 5.0]),
    ("repeat(2, 1)", lambda x: x.repeat(2, 1), lambda a: np.tile(a, (2, 1))),
    ("repeat(1, 1)", lambda x: x.repeat(1, 1), lambda a: a),
    ("x[0].repeat(3, 1)", lambda x: x[0].repeat(3, 1), lambda a: np.tile(a[0], (3, 1))),
    ("clone()", lambda x: x.clone(), lambda a: a),
]


@pytest.mark.parametrize("name, make, ref", COPIES, ids=[c[0] for c in COPIES])
def test_a_copy_is_independent_both_ways(name, make, ref):
    x, a = base()
    c = make(x)
    expected = ref(a).copy()
    c.fill_(-1.0)  # the copy changes, the base does not...
    np.testing.assert_array_equal(x.numpy(), a)
    assert x._version == 0
    c.fill_(0.0)
    c += tg.tensor(expected)
    x.add_(100.0)  # ...and the base changes, the copy does not
    np.testing.assert_array_equal(c.numpy(), expected)
    assert c._version == 3 and x._version == 1


# (name, the call that returns the tensor itself in PyTorch, applied to a float64 tensor)
ITSELF = [
    ("contiguous() of a contiguous tensor", lambda x: x.contiguous()),
    ("to(its own dtype)", lambda x: x.to(tg.float64)),
    ("double() of float64", lambda x: x.double()),
    ("type(its own dtype)", lambda x: x.type(tg.float64)),
    ("cpu()", lambda x: x.cpu()),
    ("+x", lambda x: +x),
    ("flatten() of 1-D", lambda x: x.flatten()),
]


@pytest.mark.parametrize("name, call", ITSELF, ids=[c[0] for c in ITSELF])
@pytest.mark.parametrize("shape", [(3, 4), (5,)])
def test_calls_that_return_the_tensor_itself_as_in_pytorch(name, call, shape):
    x = tg.zeros(*shape, dtype=tg.float64)
    if "1-D" in name and len(shape) > 1:
        assert call(x) is not x  # flattening two dimensions makes a view
    else:
        assert call(x) is x


def test_contiguous_of_a_contiguous_view_is_the_view_and_of_a_transpose_a_copy():
    x, a = base()
    row = x[1]
    assert row.contiguous() is row and not x.t().is_contiguous()
    c = x.t().contiguous()
    assert c.is_contiguous() and c._vc is not x._vc
    np.testing.assert_array_equal(c.numpy(), a.T)


@pytest.mark.parametrize(
    "make",
    [lambda x: x.t().view(12), lambda x: x[:, :2].view(-1), lambda x: x.permute(1, 0).view(2, 6)],
)
def test_view_that_cannot_be_a_view_raises_and_says_reshape(make):
    x, _ = base()
    with pytest.raises(RuntimeError, match=r"view: view size is not compatible .*Use \.reshape"):
        make(x)


def test_grad_with_respect_to_a_same_shape_reshape_is_its_own():
    """v = h.reshape(h.shape) is a new tensor: d L/dv counts v's uses only ([5, 5]), not h's
    other uses as well ([8, 8])."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1.0
    for v in (h.reshape(h.shape), h.view(2), h.permute(0), h.expand(2), h.squeeze(), h[:]):
        loss = (v * 5.0).sum() + (h * 3.0).sum()
        gv, gh = tg.grad(loss, [v, h])
        np.testing.assert_array_equal(gv.numpy(), [5.0, 5.0])
        np.testing.assert_array_equal(gh.numpy(), [8.0, 8.0])


def test_the_reported_repros():
    x = tg.tensor([0.0, 1.0, 2.0, 3.0])
    x[1].fill_(7.0)
    y = x[2]
    y += 10.0
    np.testing.assert_array_equal(x.numpy(), [0.0, 7.0, 12.0, 3.0])
    a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    a.t().contiguous().fill_(0.0)
    b = tg.tensor([1.0, 2.0, 3.0])
    b.flip(0).fill_(0.0)
    np.testing.assert_array_equal(a.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(b.numpy(), [1.0, 2.0, 3.0])
    r = b.repeat(3, 1)
    b.add_(1.0)
    np.testing.assert_array_equal(r.numpy(), [[1.0, 2.0, 3.0]] * 3)
    r[0, 0] = 9.0  # a copy of its own, writable
    assert b[0].item() == 2.0


def test_iterating_gives_views_of_the_rows():
    x, a = base()
    for row in x:
        row.mul_(2.0)
    np.testing.assert_array_equal(x.numpy(), 2 * a)


def test_from_numpy_and_as_tensor_share_the_array_and_tensor_copies():
    """As torch.from_numpy / torch.as_tensor (same dtype) / torch.tensor."""
    a = np.zeros(3)
    shared = [tg.from_numpy(a), tg.as_tensor(a), tg.as_tensor(a, dtype=tg.float64)]
    copies = [tg.tensor(a), tg.as_tensor(a, dtype=tg.float32), tg.as_tensor(a.tolist())]
    a[0] = 5.0
    shared[0][1] = 7.0
    for t in shared:
        np.testing.assert_array_equal(t.numpy(), [5.0, 7.0, 0.0])
    for t in copies:
        np.testing.assert_array_equal(t.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(a, [5.0, 7.0, 0.0])
