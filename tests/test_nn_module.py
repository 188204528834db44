"""Module machinery: registration, traversal, modes, dtype casting, repr, state_dict layouts,
loading errors, .npz round trip, containers, init, MLP and the perceptron."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 2 * 2, 3))
        self.scale = nn.Parameter(tg.ones(1))
        self.register_buffer("steps", tg.zeros(1))
        self.register_buffer("cache", tg.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.bn(self.conv(x))) * self.scale


def test_registration_and_traversal_order_follow_pytorch():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert list(net.state_dict()) == [
        "scale",
        "steps",
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "head.1.weight",
        "head.1.bias",
    ]
    assert [type(m).__name__ for m in net.children()] == ["Conv2d", "BatchNorm2d", "Sequential"]
    assert [n for n, _ in net.named_modules()] == ["", "conv", "bn", "head", "head.0", "head.1"]
    assert all(p.requires_grad and isinstance(p, nn.Parameter) for p in net.parameters())
    assert (
        len(list(net.buffers())) == 5
    )  # steps, cache, running_mean, running_var, num_batches_tracked


def test_shared_parameters_are_listed_once_and_reassignment_replaces():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        lin.weight = tg.zeros(2, 2)


def test_assigning_before_super_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_train_eval_zero_grad_and_call():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net and not net.bn.training and not net.head[1].training
    net.train()
    out = net(tg.randn(4, 1, 4, 4))
    assert out.shape == (4, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_float_double_to_cast_parameters_and_float_buffers_only():
    net = Net().double()
    assert all(p.dtype == tg.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == tg.float64
    assert net.bn.num_batches_tracked.dtype == tg.int64
    assert net(tg.randn(2, 1, 4, 4, dtype=tg.float64)).dtype == tg.float64
    assert net.to(tg.float32) is net and net.conv.weight.dtype == tg.float32
    assert net.float().to("cpu").head[1].bias.dtype == tg.float32


def test_repr_is_a_tree_like_pytorch():
    assert repr(nn.Sequential(nn.Linear(4, 2), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)))) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")"
    )


def test_state_dict_layouts_match_pytorch():
    sd = nn.Linear(5, 3).state_dict()
    assert sd["weight"].shape == (3, 5) and sd["bias"].shape == (3,)
    sd = nn.Conv2d(4, 6, (3, 2), groups=2).state_dict()
    assert sd["weight"].shape == (6, 2, 3, 2)
    sd = nn.BatchNorm1d(7).state_dict()
    assert {k: v.shape for k, v in sd.items()} == {
        "weight": (7,),
        "bias": (7,),
        "running_mean": (7,),
        "running_var": (7,),
        "num_batches_tracked": (),
    }
    assert not any(v.requires_grad for v in sd.values())  # detached, like torch


def test_state_dict_round_trip_through_numpy_and_npz(tmp_path):
    tg.manual_seed(1)
    a, b = Net(), Net()
    a.train()(tg.randn(3, 1, 4, 4))  # move BatchNorm's running statistics
    arrays = {k: v.numpy().copy() for k, v in a.state_dict().items()}
    assert b.load_state_dict(arrays) == ([], [])
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), arrays[k])
    path = tmp_path / "net.npz"
    nn.save(a, path)
    c = Net()
    c.load_state_dict(nn.load(path))
    x = tg.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(c.eval()(x)._data, a.eval()(x)._data)
    assert int(c.bn.num_batches_tracked.item()) == 1


def test_tg_save_and_load_port_torch_save_of_a_state_dict(tmp_path):
    # torch.save(model.state_dict(), path); model.load_state_dict(torch.load(path))
    tg.manual_seed(2)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    tg.save(a.state_dict(), tmp_path / "lin.npz")
    b.load_state_dict(tg.load(tmp_path / "lin.npz"))
    np.testing.assert_array_equal(b.weight._data, a.weight._data)
    np.testing.assert_array_equal(b.bias._data, a.bias._data)


def test_load_state_dict_errors_list_every_problem():
    net = nn.Linear(3, 2)
    sd = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = {"weight": np.zeros((3, 3), np.float32), "extra": np.zeros(1)}
    before = net.weight._data.copy()
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(bad)
    msg = str(e.value)
    assert "Missing key(s) in state_dict: 'bias'" in msg
    assert "Unexpected key(s) in state_dict: 'extra'" in msg
    assert "size mismatch for weight: copying a param with shape (3, 3)" in msg and "(2, 3)" in msg
    np.testing.assert_array_equal(net.weight._data, before)  # nothing was half-loaded

    missing, unexpected = net.load_state_dict({"weight": sd["weight"], "extra": 1.0}, strict=False)
    assert missing == ["bias"] and unexpected == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict({"weight": np.zeros((1, 1))}, strict=False)


def test_load_under_recording_does_not_trip_inplace_checks():
    net = nn.Linear(2, 1)
    y = net(tg.ones(1, 2))
    net.load_state_dict({"weight": np.ones((1, 2)), "bias": np.zeros(1)})
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()  # the old forward saw the old weights: backward must refuse


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert len(seq[1:]) == 2
    with pytest.raises(IndexError, match="index 3 is out of range for 3"):
        seq[3]
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU()).extend([nn.Tanh()])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "ReLU", "Tanh"]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]


# -- init --------------------------------------------------------------------------------------------
def test_default_inits_match_pytorch_bounds():
    tg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p._data).max() <= bound and np.abs(p._data).max() > 0.95 * bound
    assert abs(lin.weight._data.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_init_functions():
    tg.manual_seed(0)
    w = tg.empty(200, 300)
    nn.init.xavier_uniform_(w)
    a = math.sqrt(6 / 500)
    assert np.abs(w._data).max() <= a and abs(w._data.std() - a / math.sqrt(3)) < 0.02 * a
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w._data.std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    nn.init.xavier_normal_(w, gain=2.0)
    assert abs(w._data.std() - 2 * math.sqrt(2 / 500)) < 0.02 * 2 * math.sqrt(2 / 500)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w._data).max() <= math.sqrt(6 / 200)
    nn.init.normal_(w, 3.0, 0.5)
    assert abs(w._data.mean() - 3.0) < 0.01 and abs(w._data.std() - 0.5) < 0.01
    nn.init.uniform_(w, -2, -1)
    assert w._data.min() >= -2 and w._data.max() <= -1
    assert (nn.init.zeros_(w)._data == 0).all() and (nn.init.ones_(w)._data == 1).all()
    assert (nn.init.constant_(w, 0.25)._data == 0.25).all() and w.dtype == tg.float32
    assert nn.init.calculate_gain("tanh") == 5 / 3
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tg.empty(3))


def test_init_is_reproducible_with_manual_seed():
    tg.manual_seed(5)
    a = nn.MLP([3, 4, 2]).state_dict()
    tg.manual_seed(5)
    b = nn.MLP([3, 4, 2]).state_dict()
    assert all(np.array_equal(a[k]._data, b[k]._data) for k in a)


# -- the lecture's models ------------------------------------------------------------------------------
def test_mlp_is_linear_activation_linear_without_a_final_activation():
    mlp = nn.MLP([4, 8, 8, 3], activation=nn.Tanh)
    assert [type(m).__name__ for m in mlp] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    x = tg.randn(5, 4)
    h = x
    for lin in (mlp[0], mlp[2]):
        h = np.tanh(h._data @ lin.weight._data.T + lin.bias._data)
        h = tg.tensor(h)
    ref = h._data @ mlp[4].weight._data.T + mlp[4].bias._data
    np.testing.assert_allclose(mlp(x)._data, ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="at least an input and an output size"):
        nn.MLP([3])


def test_perceptron_separates_a_separable_set_and_stops_without_mistakes():
    rng = np.random.default_rng(0)
    w_true, b_true = np.array([2.0, -1.0]), 0.5
    X = rng.uniform(-1, 1, (200, 2))
    margin = X @ w_true + b_true
    X, margin = X[np.abs(margin) > 0.1], margin[np.abs(margin) > 0.1]
    y = np.where(margin > 0, 1, -1)
    p = nn.Perceptron(2)
    epochs = p.fit(X, y, max_epochs=1000)
    assert 1 <= epochs < 1000
    assert (p.predict(X) == y).all()
    assert (y * p(tg.tensor(X, dtype=tg.float32))._data > 0).all()
    # the last epoch made no update: one more epoch changes nothing
    w = p.weight._data.copy()
    assert p.fit(X, y) == 1 and np.array_equal(w, p.weight._data)


def test_perceptron_gives_up_on_xor():
    X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    with pytest.raises(RuntimeError, match="not be linearly separable"):
        nn.Perceptron(2).fit(X, np.array([-1, 1, 1, -1]), max_epochs=50)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        nn.Perceptron(2).fit(X, np.array([0, 1, 1, 0]))


def test_sequential_calls_a_child_through_its_own_call_when_overridden():
    """Sequential skips Module.__call__ (it only calls forward), but a child class that
    overrides __call__ must still be called through it, as PyTorch's Sequential would."""

    class Doubling(nn.Module):
        def __call__(self, x):
            return super().__call__(x) * 2.0

        def forward(self, x):
            return x + 1.0

    seq = nn.Sequential(Doubling(), nn.Identity(), Doubling())
    x = tg.tensor([1.0, -3.0])
    np.testing.assert_array_equal(seq(x)._data, ((x._data + 1) * 2 + 1) * 2)


def _names():
    return [r.name for r in tg.get_tape() if r.ctx is not None]


def test_sequential_records_what_its_layers_record_one_by_one():
    """No fusion behind the user's back: the tape of nn.Sequential is the tape of the same
    layers called one by one, and so are the gradients of every parameter and of the input."""
    tg.manual_seed(0)
    seq = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    seq = seq.double()
    x = tg.tensor(np.random.default_rng(1).standard_normal((7, 4)), requires_grad=True)
    tg.get_tape().clear()
    out = seq(x)
    names = _names()
    assert names == ["Linear", "Relu", "Linear", "Relu", "Linear"]
    (out * out).sum().backward()
    got = [x.grad._data] + [p.grad._data for p in seq.parameters()]

    x2 = tg.tensor(x._data, requires_grad=True)
    for p in seq.parameters():
        p.grad = None
    tg.get_tape().clear()
    h = x2
    for m in seq:
        h = m(h)
    assert _names() == names
    (h * h).sum().backward()
    want = [x2.grad._data] + [p.grad._data for p in seq.parameters()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    assert tg.gradcheck.gradcheck(lambda a: seq(a).sum(), (x,))
    assert tg.gradcheck.gradgradcheck(lambda a: (seq(a) ** 2).sum(), (x,))
    with pytest.raises(ValueError, match=r"linear: input of shape \(3, 5\) has 5 features"):
        nn.Sequential(nn.Linear(4, 2), nn.ReLU())(tg.randn(3, 5))


def test_sequential_inference_matches_numpy():
    tg.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Linear(4, 2))
    x = tg.tensor(np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32))
    w1, b1, w2, b2 = (p._data for p in seq.parameters())
    want = np.maximum(x._data @ w1.T + b1, 0) @ w2.T + b2
    before = x._data.copy()
    with tg.no_grad():
        got = seq(x)
    np.testing.assert_allclose(got._data, want, rtol=1e-6)
    np.testing.assert_array_equal(x._data, before)  # the caller's input is never overwritten
