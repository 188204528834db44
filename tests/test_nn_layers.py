"""Layers and F's activations: forward against NumPy written here, gradients against central
differences (float64), and train/eval behaviour of Dropout and BatchNorm."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import erf, expit
from scipy.special import log_softmax as np_log_softmax
from scipy.special import softmax as np_softmax

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck

RNG = np.random.default_rng(11)


def t64(*shape, requires_grad=True):
    return tg.tensor(RNG.standard_normal(shape), dtype=tg.float64, requires_grad=requires_grad)


ACTIVATIONS = [
    # (name, F form, module, NumPy reference)
    ("relu", F.relu, nn.ReLU(), lambda x: np.maximum(x, 0)),
    (
        "leaky_relu",
        lambda x: F.leaky_relu(x, 0.2),
        nn.LeakyReLU(0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
    ),
    ("gelu", F.gelu, nn.GELU(), lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))),
    (
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        nn.GELU("tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    ("tanh", F.tanh, nn.Tanh(), np.tanh),
    ("sigmoid", F.sigmoid, nn.Sigmoid(), expit),
    ("softmax", lambda x: F.softmax(x, 1), nn.Softmax(dim=1), lambda x: np_softmax(x, axis=1)),
    (
        "log_softmax",
        lambda x: F.log_softmax(x, 1),
        nn.LogSoftmax(dim=1),
        lambda x: np_log_softmax(x, axis=1),
    ),
]


@pytest.mark.parametrize("name, fn, module, ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(name, fn, module, ref):
    x = t64(3, 4)
    np.testing.assert_allclose(fn(x)._data, ref(x._data), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(module(x)._data, ref(x._data), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, (x,))
    if name not in ("relu", "leaky_relu"):
        assert gradgradcheck(fn, (t64(2, 3),))
    assert fn(tg.randn(2, 3)).dtype == tg.float32


def test_leaky_relu_slope_at_zero_and_gelu_bad_mode():
    x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad._data, [0.1, 0.1, 1.0])
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(x, "fast")


# -- Linear, Flatten, Identity, Embedding --------------------------------------------------------
def test_linear_forward_and_gradients():
    lin = nn.Linear(4, 3).double()
    x = t64(5, 4)
    np.testing.assert_allclose(lin(x)._data, x._data @ lin.weight._data.T + lin.bias._data)
    assert gradcheck(F.linear, (x, t64(3, 4), t64(3)))
    assert gradcheck(F.linear, (t64(2, 5, 4), t64(3, 4), t64(3)))  # extra leading dims
    assert gradcheck(F.linear, (t64(4), t64(3, 4)))  # unbatched, no bias
    assert gradgradcheck(F.linear, (t64(2, 4), t64(3, 4), t64(3)))


def test_linear_records_one_linear_and_gives_contiguous_weight_grads():
    lin = nn.Linear(4, 3)
    x = tg.randn(5, 4)
    out = lin(x)
    names = [r.name for r in tg.get_tape()]
    assert names == ["Linear"]  # GEMM + bias in one op: no permute, no separate add
    out.sum().backward()
    assert lin.weight.grad.shape == (3, 4) and lin.weight.grad._data.flags.c_contiguous
    np.testing.assert_allclose(lin.weight.grad._data, np.ones((5, 3)).T @ x._data, rtol=1e-6)
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]


def test_linear_feature_mismatch_error():
    with pytest.raises(
        ValueError, match=r"linear: input of shape \(2, 5\) has 5 features but the weight"
    ):
        nn.Linear(4, 3)(tg.zeros(2, 5))


def test_flatten_identity_embedding():
    x = tg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60) and nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    np.testing.assert_array_equal(nn.Flatten()(x)._data, x._data.reshape(2, 60))
    assert nn.Identity(7, k=1)(x) is x
    tg.manual_seed(0)
    emb = nn.Embedding(5, 3, padding_idx=0)
    idx = tg.tensor([[1, 0, 4], [4, 4, 2]])
    out = emb(idx)
    np.testing.assert_array_equal(out._data, emb.weight._data[idx._data])
    assert (emb.weight._data[0] == 0).all()
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad._data[:, 0], [0, 1, 1, 0, 3])
    with pytest.raises(IndexError, match="embedding: target 5 is out of bounds for 5 classes"):
        emb(tg.tensor([5]))


def test_pad_uses_pytorchs_last_dimension_first_tuple():
    x = t64(1, 2, 3)
    out = F.pad(x, (1, 2, 0, 1), value=7.0)
    np.testing.assert_array_equal(
        out._data, np.pad(x._data, ((0, 0), (0, 1), (1, 2)), constant_values=7.0)
    )
    assert gradcheck(lambda x: F.pad(x, (1, 0)), (x,))
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 2, 3))


def test_one_hot():
    out = F.one_hot(tg.tensor([[0, 2], [1, 1]]), 3)
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out._data, np.eye(3, dtype=int)[[[0, 2], [1, 1]]])
    assert F.one_hot(tg.tensor([0, 3])).shape == (2, 4)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.one_hot(tg.tensor([3]), 3)


# -- Dropout --------------------------------------------------------------------------------------
def test_dropout_train_and_eval():
    tg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = tg.ones(200, 200, requires_grad=True)
    y = drop(x)
    kept = y._data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y._data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, kept / 0.75)  # the same mask scales the gradient
    assert drop.eval()(x) is x
    assert (F.dropout(x, 1.0)._data == 0).all() and F.dropout(x, 0.0) is x
    tg.manual_seed(3)
    a = F.dropout(tg.ones(10))._data
    tg.manual_seed(3)
    assert np.array_equal(a, F.dropout(tg.ones(10))._data)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


# -- BatchNorm --------------------------------------------------------------------------------------
def np_batch_norm(x, axes, w, b, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [1] * x.ndim
    shape[1] = -1
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize(
    "cls, shape, axes",
    [
        (nn.BatchNorm1d, (6, 3), (0,)),
        (nn.BatchNorm1d, (4, 3, 5), (0, 2)),
        (nn.BatchNorm2d, (3, 2, 4, 4), (0, 2, 3)),
    ],
)
def test_batchnorm_training_forward_running_stats_and_gradients(cls, shape, axes):
    bn = cls(shape[1], momentum=0.3).double()
    bn.weight._data[...] = RNG.uniform(0.5, 1.5, shape[1])
    bn.bias._data[...] = RNG.standard_normal(shape[1])
    x = t64(*shape)
    out = bn(x)
    np.testing.assert_allclose(
        out._data, np_batch_norm(x._data, axes, bn.weight._data, bn.bias._data), rtol=1e-10
    )
    n = x._data.size // shape[1]
    np.testing.assert_allclose(bn.running_mean._data, 0.3 * x._data.mean(axis=axes))
    np.testing.assert_allclose(bn.running_var._data, 0.7 + 0.3 * x._data.var(axis=axes) * n / (n - 1))
    assert bn.num_batches_tracked.item() == 1
    assert gradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        (x, t64(shape[1]), t64(shape[1])),
    )


def test_batchnorm_eval_uses_running_statistics():
    bn = nn.BatchNorm2d(2).double()
    bn.running_mean._data[...] = [1.0, -2.0]
    bn.running_var._data[...] = [4.0, 0.25]
    bn.eval()
    x = t64(2, 2, 3, 3)
    ref = (x._data - np.array([1.0, -2.0])[None, :, None, None]) / np.sqrt(
        np.array([4.0, 0.25]) + 1e-5
    )[None, :, None, None]
    np.testing.assert_allclose(bn(x)._data, ref)
    assert bn.num_batches_tracked.item() == 0  # eval does not touch the statistics
    assert gradcheck(lambda x: bn(x), (x,))


def test_batchnorm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [t64(4, 2) for _ in range(3)]
    for x in xs:
        bn(x)
    np.testing.assert_allclose(bn.running_mean._data, np.mean([x._data.mean(0) for x in xs], axis=0))
    free = nn.BatchNorm1d(2, track_running_stats=False, affine=False)
    assert list(free.state_dict()) == []
    x = tg.randn(5, 2)
    np.testing.assert_allclose(
        free.eval()(x)._data, np_batch_norm(x._data, (0,), np.ones(2), np.zeros(2)), atol=1e-5
    )


def test_batchnorm_errors():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d: expected a 4-D input with 3 channels in dim 1, got shape \(2, 4, 5, 5\)",
    ):
        nn.BatchNorm2d(3)(tg.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tg.zeros(1, 3))
