"""nn convolution and pooling: F.conv2d / max_pool2d / avg_pool2d against loop-by-loop NumPy
references written here, gradients against central differences (float64), the lecture's
example, the layer classes and the bad-input errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)


def t64(*shape, requires_grad=True):
    return tg.tensor(RNG.standard_normal(shape), dtype=tg.float64, requires_grad=requires_grad)


# -- references: one output position at a time ------------------------------------------------
def np_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    dh, dw = (dilation, dilation) if np.isscalar(dilation) else dilation
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for oc, i, j in itertools.product(range(o), range(ho), range(wo)):
        g = oc // og
        patch = xp[
            :,
            g * cg : (g + 1) * cg,
            i * sh : i * sh + dh * (kh - 1) + 1 : dh,
            j * sw : j * sw + dw * (kw - 1) + 1 : dw,
        ]
        out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out if b is None else out + b[None, :, None, None]


def np_pool(x, k, s, p, reduce, pad_value):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, ho, wo))
    for i, j in itertools.product(range(ho), range(wo)):
        out[:, :, i, j] = reduce(xp[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


# -- the lecture --------------------------------------------------------------------------------
def test_lecture_convolution_example():
    x = tg.tensor([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    k = tg.tensor([[[[0.0, 1], [2, 3]]]])
    np.testing.assert_array_equal(F.conv2d(x, k).numpy(), [[[[25, 31], [43, 49]]]])


def test_lecture_example_with_the_layer_and_unbatched_input():
    conv = nn.Conv2d(1, 1, 2, bias=False)
    conv.load_state_dict({"weight": np.array([[[[0.0, 1], [2, 3]]]], dtype=np.float32)})
    out = conv(tg.tensor([[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]))  # (C, H, W)
    assert out.shape == (1, 2, 2)
    np.testing.assert_array_equal(out.detach().numpy(), [[[25, 31], [43, 49]]])


# -- conv2d forward and gradients -----------------------------------------------------------------
CONV_CASES = [
    # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, 1, 1),
    ((2, 3, 5, 6), (4, 3, 3, 3), 1, 1, 1, 1),
    ((1, 2, 7, 6), (3, 2, 3, 2), (2, 1), (1, 0), 1, 1),
    ((2, 2, 7, 7), (2, 2, 3, 3), 2, 2, 2, 1),
    ((2, 4, 5, 5), (6, 2, 3, 3), 1, 1, 1, 2),
    ((1, 4, 6, 5), (4, 1, 2, 2), (1, 2), 1, (2, 1), 4),  # depthwise
    ((2, 1, 4, 4), (2, 1, 1, 1), 1, 0, 1, 1),
]


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CONV_CASES)
def test_conv2d_matches_the_loop_reference(xs, ws, stride, padding, dilation, groups):
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    out = F.conv2d(tg.tensor(x), tg.tensor(w), tg.tensor(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(
        out.numpy(), np_conv2d(x, w, b, stride, padding, dilation, groups), atol=1e-10
    )


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CONV_CASES)
def test_conv2d_gradients_match_central_differences(xs, ws, stride, padding, dilation, groups):
    x, w, b = t64(*xs), t64(*ws), t64(ws[0])
    assert gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), (x, w, b)
    )


def test_conv2d_second_derivatives():
    x, w = t64(1, 2, 4, 4), t64(3, 2, 2, 2)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, None, 1, 1), (x, w))


def test_conv2d_float32_matches_float64_reference_and_keeps_dtype():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = RNG.standard_normal((5, 3, 3, 3)).astype(np.float32)
    out = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    assert out.dtype == tg.float32
    np.testing.assert_allclose(
        out.numpy(), np_conv2d(x.astype(float), w.astype(float), padding=1), rtol=1e-4, atol=1e-4
    )


def test_conv_and_pool_outputs_are_contiguous_so_view_writes_through():
    """As in PyTorch: out.view(n, -1) of a conv or pooling output is a view of it."""
    x = tg.randn(2, 3, 6, 6)
    outs = [F.conv2d(x, tg.randn(4, 3, 3, 3), padding=1), F.max_pool2d(x, 2), F.avg_pool2d(x, 2)]
    for out in outs:
        assert out.is_contiguous()
        flat = out.view(2, -1)
        flat[1, 0] = 123.0
        assert out[1, 0, 0, 0].item() == 123.0


def test_conv2d_module_shapes_layout_and_default_init():
    tg.manual_seed(0)
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    bound = 1 / np.sqrt(2 * 3 * 2)  # fan_in = C_in/groups * kh * kw
    assert np.abs(conv.weight._data).max() <= bound
    assert np.abs(conv.bias._data).max() <= bound
    assert conv(tg.randn(2, 4, 7, 5)).shape == (2, 6, 4, 3)
    assert "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), groups=2)" == repr(conv)


# -- errors -----------------------------------------------------------------------------------------
def test_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels.*expects 2"):
        F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 2, 3, 3))


def test_kernel_larger_than_padded_input():
    with pytest.raises(
        ValueError, match=r"kernel size \(5, 5\).*larger than the padded input \(4, 4\)"
    ):
        F.conv2d(tg.randn(1, 1, 4, 4), tg.randn(1, 1, 5, 5))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(tg.randn(1, 1, 4, 4), tg.randn(1, 1, 3, 3), dilation=2)


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"groups=2 must divide .*\(3\)"):
        F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups=4 must divide in_channels=6 and out_channels=8"):
        nn.Conv2d(6, 8, 3, groups=4)


def test_bad_input_rank():
    with pytest.raises(ValueError, match=r"conv2d: expected a 3-D \(C, H, W\) or 4-D"):
        F.conv2d(tg.randn(5, 5), tg.randn(1, 1, 3, 3))


# -- pooling ----------------------------------------------------------------------------------------
POOL_CASES = [
    ((2, 3, 4, 4), 2, 2, 0),
    ((1, 2, 5, 5), 3, 2, 1),
    ((2, 2, 5, 4), 2, 1, 1),
    ((1, 1, 3, 3), 3, 3, 0),
]


def distinct(*shape):
    """Values with no ties (max pooling is differentiable there)."""
    n = int(np.prod(shape))
    return tg.tensor(
        RNG.permutation(n).reshape(shape) * 0.1 + RNG.uniform(0, 0.01, shape),
        dtype=tg.float64,
        requires_grad=True,
    )


@pytest.mark.parametrize("shape, k, s, p", POOL_CASES)
def test_max_pool2d_forward_and_gradient(shape, k, s, p):
    x = distinct(*shape)
    out = F.max_pool2d(x, k, s, p)
    np.testing.assert_array_equal(out._data, np_pool(x._data, k, s, p, np.max, -np.inf))
    assert gradcheck(lambda x: F.max_pool2d(x, k, s, p), (x,))


@pytest.mark.parametrize("shape, k, s, p", POOL_CASES)
def test_avg_pool2d_forward_and_gradient(shape, k, s, p):
    x = t64(*shape)
    np.testing.assert_allclose(
        F.avg_pool2d(x, k, s, p)._data, np_pool(x._data, k, s, p, np.mean, 0.0)
    )
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, k, s, p), (x,))


def test_avg_pool2d_count_include_pad_false_divides_by_the_real_taps():
    x = t64(1, 2, 4, 5)
    summed = np_pool(x._data, 3, 2, 1, np.sum, 0.0)
    taps = np_pool(np.ones((1, 1, 4, 5)), 3, 2, 1, np.sum, 0.0)
    out = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    np.testing.assert_allclose(out._data, summed / taps)
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_only():
    x = tg.tensor(np.zeros((1, 1, 2, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[[[1, 0, 1, 0], [0, 0, 0, 0]]]])


def test_overlapping_max_pool_routes_each_window_once():
    x = tg.tensor([[[[1.0, 5.0, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # the 5 is the max of two windows
    # bottom windows are all zeros: each sends its gradient to its own first (top-left) zero
    np.testing.assert_array_equal(x.grad._data, [[[[0, 2, 0], [1, 1, 0], [0, 0, 0]]]])


def test_max_pool_second_order_path_matches_the_fast_path():
    """backward(create_graph=True) takes the Tensor-op path (one-hot + col2im); it must give
    the same gradient as the plain NumPy path and be differentiable in the incoming gradient."""
    x = distinct(2, 3, 5, 5)
    (fast,) = tg.grad(F.max_pool2d(x, 3, 2, 1).sum(), x)
    (slow,) = tg.grad(F.max_pool2d(x, 3, 2, 1).sum(), x, create_graph=True)
    np.testing.assert_array_equal(fast._data, slow._data)
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, 2), (distinct(1, 2, 4, 4),))


def test_pool_modules_and_errors():
    x = tg.randn(2, 3, 8, 8)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 8)
    assert F.max_pool2d(tg.randn(3, 8, 8), 2).shape == (3, 4, 4)
    with pytest.raises(ValueError, match="padding .* at most half of the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(
        ValueError, match=r"max_pool2d: kernel size \(9, 9\).*larger than the padded input"
    ):
        F.max_pool2d(x, 9)


# -- a CNN end to end ---------------------------------------------------------------------------
def test_small_cnn_gradients_match_central_differences():
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(2, 3, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(3, 2),
    ).double()
    x = t64(2, 1, 4, 4, requires_grad=False)
    y = tg.tensor([0, 1])
    params = list(model.parameters())

    def loss_fn(*ps):
        for p, v in zip(params, ps):
            p._data = v._data
        return F.cross_entropy(model(x), y)

    loss = F.cross_entropy(model(x), y)
    grads = tg.grad(loss, params)
    for i, (p, g) in enumerate(zip(params, grads)):
        base = p._data.copy()
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            for sign in (1, -1):
                p._data = base.copy()
                p._data[idx] += sign * 1e-6
                num[idx] += sign * F.cross_entropy(model(x), y).item() / 2e-6
        p._data = base
        np.testing.assert_allclose(g._data, num, rtol=1e-4, atol=1e-7, err_msg=f"parameter {i}")
