"""The plotting helpers draw what they say (checked on the artists, not by eye)."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt

import tinygrad_edu as tg
from tinygrad_edu.utils.history import History
from tinygrad_edu.utils.plot import plot_decision_boundary, plot_filters, plot_matrix


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_decision_boundary_of_a_line_lies_on_the_line():
    """Binary scores w.x + b: the drawn 0-contour is the line x0 + 2 x1 = 1."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0], [-1.0, 2.0]])

    def model(t):
        return t[:, 0] + 2 * t[:, 1] - 1

    ax = plot_decision_boundary(
        model, X, np.array([0, 1, 0, 1]), resolution=101, fill=False, scatter=False
    )
    verts = np.concatenate(
        [
            p.vertices
            for c in ax.collections
            if hasattr(c, "get_paths")
            for p in c.get_paths()
            if len(p.vertices) > 1
        ],
        axis=0,
    )
    assert len(verts) > 10
    assert np.abs(verts[:, 0] + 2 * verts[:, 1] - 1).max() < 1e-5  # linear field: exact line


def test_decision_boundary_multiclass_and_shapes():
    X = np.random.default_rng(0).standard_normal((30, 2))

    def model(t):  # 3 classes by angle-ish
        return tg.stack([t[:, 0], t[:, 1], -t[:, 0] - t[:, 1]], dim=1)

    ax = plot_decision_boundary(model, X, np.arange(30) % 3, fill=True)
    assert ax.get_xlim()[0] < X[:, 0].min()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(model, np.zeros((4, 3)))


def test_decision_boundary_line_only_overlays():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    _, ax = plt.subplots()
    for k in range(3):
        plot_decision_boundary(
            lambda t, k=k: t[:, 0] - 0.5 * k,
            X,
            ax=ax,
            fill=False,
            scatter=False,
            line_kw={"colors": f"C{k}"},
        )
    assert len(ax.collections) == 3


def test_plot_matrix_writes_every_number():
    ax = plot_matrix(np.array([[25, 31], [43, 49]]), title="out")
    assert sorted(t.get_text() for t in ax.texts) == ["25", "31", "43", "49"]
    assert ax.get_title() == "out"
    with pytest.raises(ValueError, match="2-D"):
        plot_matrix(np.zeros(3))


def test_plot_filters_one_tile_per_kernel():
    w = np.random.default_rng(0).standard_normal((6, 2, 3, 3))
    fig = plot_filters(w, ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12
    assert shown[0].images[0].get_clim() == (-np.abs(w).max(), np.abs(w).max())
    with pytest.raises(ValueError, match="C_out"):
        plot_filters(np.zeros((3, 3)))


def test_history_plot():
    h = History()
    for e in range(3):
        h.log(epoch=e, train_loss=1.0 / (e + 1), val_loss=1.5 / (e + 1))
    ax = h.plot("train_loss", "val_loss")
    assert [line.get_label() for line in ax.lines] == ["train_loss", "val_loss"]
    assert ax.lines[0].get_ydata().tolist() == [1.0, 0.5, 1.0 / 3]
    ax = h.plot(x="time")
    assert ax.get_xlabel() == "wall time (s)" and len(ax.lines) == 2
