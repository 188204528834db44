"""The receptive field measured by backprop agrees with the formula, on several stacks."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.utils.receptive import (
    AnalyticRF,
    analytic_receptive_field,
    receptive_field,
    receptive_field_table,
)


def _stacks():
    """(name, model factory, input (C, H, W)) — stride, padding, dilation, pooling, non-square."""
    return [
        ("conv3-conv3", lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 1, 3)), (1, 11, 11)),
        (
            "strided-padded",
            lambda: nn.Sequential(
                nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, padding=1)
            ),
            (2, 13, 13),
        ),
        (
            "dilated",
            lambda: nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2), nn.Conv2d(2, 2, 3, dilation=3)),
            (1, 17, 17),
        ),
        (
            "conv-maxpool-conv",
            lambda: nn.Sequential(
                nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 2, 3)
            ),
            (1, 14, 14),
        ),
        (
            "avgpool-padded",
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, 5, padding=2),
                nn.AvgPool2d(3, stride=2, padding=1),
                nn.Conv2d(2, 1, 3, stride=2),
            ),
            (1, 19, 19),
        ),
        (
            "non-square",
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, (3, 5), stride=(1, 2), padding=(1, 0)),
                nn.Tanh(),
                nn.Conv2d(2, 1, (2, 3), dilation=(2, 1)),
            ),
            (1, 12, 21),
        ),
    ]


@pytest.mark.parametrize("name, make, shape", _stacks(), ids=[s[0] for s in _stacks()])
def test_measured_box_equals_formula(name, make, shape):
    tg.manual_seed(1)
    model = make()
    rf = analytic_receptive_field(model)
    out_shape = model(tg.zeros(1, *shape)).shape
    h_out, w_out = out_shape[2:]
    corners = {(0, 0), (h_out - 1, w_out - 1), (h_out // 2, w_out // 2), (0, w_out - 1)}
    for index in sorted(corners):
        measured = receptive_field(model, shape, index, trials=6)
        assert measured.box == rf.box(index, shape[1:]), (name, index)


def test_dense_field_without_dilation_or_gaps():
    """A plain conv stack influences every pixel of its box (no holes)."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3))
    m = receptive_field(model, (1, 12, 12), (4, 3))
    (r0, r1), (c0, c1) = m.box
    assert m.box == ((3, 9), (2, 8)) and m.size == (7, 7)  # start -1: the padded middle layer
    assert m.mask.sum() == 49 and m.mask[r0 : r1 + 1, c0 : c1 + 1].all()


def test_dilation_leaves_holes_inside_the_box():
    tg.manual_seed(0)
    m = receptive_field(nn.Conv2d(1, 1, 3, dilation=2), (1, 9, 9), (0, 0))
    assert m.box == ((0, 4), (0, 4))
    assert m.mask.sum() == 9 and m.mask[::2, ::2][:3, :3].all()


def test_textbook_recurrence():
    """Two 3x3 stride-2 padding-1 convolutions: size 3 then 3 + 2*2 = 7, jump 4, start -3."""
    model = nn.Sequential(
        nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(1, 1, 3, stride=2, padding=1)
    )
    table = receptive_field_table(model)
    assert [name for name, _ in table] == ["input", "Conv2d", "ReLU", "Conv2d"]
    assert table[1][1] == AnalyticRF((3, 3), (2, 2), (-1, -1))
    assert table[-1][1] == AnalyticRF((7, 7), (4, 4), (-3, -3))
    assert table[-1][1].box((2, 0)) == ((5, 11), (-3, 3))
    assert table[-1][1].box((2, 0), (16, 16)) == ((5, 11), (0, 3))


def test_field_grows_linearly_with_depth_of_3x3_convs():
    for depth in range(1, 6):
        model = nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(depth)])
        assert analytic_receptive_field(model).size == (2 * depth + 1, 2 * depth + 1)


def test_pool_stride_defaults_to_kernel():
    assert analytic_receptive_field(nn.MaxPool2d(2)) == AnalyticRF((2, 2), (2, 2), (0, 0))


def test_unknown_layer_is_named():
    with pytest.raises(TypeError, match="Flatten"):
        analytic_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 2)))


def test_index_forms_and_errors():
    tg.manual_seed(0)
    model = nn.Conv2d(1, 2, 3)
    full = receptive_field(model, (1, 1, 6, 6), (0, 1, 2, 2))
    assert full.box == receptive_field(model, (1, 6, 6), (2, 2)).box == ((2, 4), (2, 4))
    with pytest.raises(ValueError, match="input_shape"):
        receptive_field(model, (6, 6), (0, 0))
    with pytest.raises(ValueError, match="index"):
        receptive_field(model, (1, 6, 6), (0,))


def test_model_mode_restored_and_rng_untouched():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Dropout(0.5))
    model.train()
    tg.manual_seed(3)
    expected = tg.rand(3).numpy().copy()
    tg.manual_seed(3)
    receptive_field(model, (1, 5, 5), (1, 1))
    assert model.training
    assert np.array_equal(tg.rand(3).numpy(), expected)
