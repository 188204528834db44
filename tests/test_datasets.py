"""The bundled data sets: shapes, dtypes, value ranges, class counts, and the error when
scikit-learn is missing; the synthetic sets against their defining equations."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import datasets
from tinygrad_edu.utils.data import TensorDataset


def test_digits_flat_and_as_images():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X._data.min() == 0.0 and X._data.max() == 1.0
    assert sorted(np.unique(y._data).tolist()) == list(range(10))
    assert np.bincount(y._data).min() >= 170  # about 180 of each digit
    Xi, yi = datasets.load_digits(as_image=True)
    assert Xi.shape == (1797, 1, 8, 8) and Xi.dtype == np.float32
    np.testing.assert_array_equal(Xi._data.reshape(1797, 64), X._data)
    np.testing.assert_array_equal(yi._data, y._data)
    # scaled from sklearn's 0..16 grey levels, so every pixel is a multiple of 1/16
    np.testing.assert_array_equal(X._data * 16, np.round(X._data * 16))


def test_digits_as_dataset():
    ds = datasets.load_digits(as_image=True, as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 1797
    x, y = ds[0]
    assert x.shape == (1, 8, 8) and y.item() == 0  # the first image is a zero


@pytest.mark.parametrize(
    "loader, n, d, classes",
    [
        (datasets.load_iris, 150, 4, 3),
        (datasets.load_wine, 178, 13, 3),
        (datasets.load_breast_cancer, 569, 30, 2),
    ],
)
def test_tabular_sets(loader, n, d, classes):
    X, y = loader()
    assert X.shape == (n, d) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.isfinite(X._data).all()
    assert np.unique(y._data).tolist() == list(range(classes))
    assert isinstance(loader(as_dataset=True), TensorDataset)


def test_make_moons_lies_on_its_two_arcs_without_noise():
    X, y = datasets.make_moons(101)
    x = X._data.astype(np.float64)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y._data).tolist() == [50, 51]
    upper, lower = x[y._data == 0], x[y._data == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (lower[:, 1] <= 0.5 + 1e-6).all()
    assert y._data.tolist() != sorted(y._data.tolist())  # shuffled


def test_make_circles_radii_and_seeding():
    X, y = datasets.make_circles(80, factor=0.5)
    r = np.hypot(X._data[:, 0], X._data[:, 1])
    np.testing.assert_allclose(r[y._data == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y._data == 1], 0.5, atol=1e-6)
    tg.manual_seed(3)
    a = datasets.make_moons(50, noise=0.1)
    tg.manual_seed(3)
    b = datasets.make_moons(50, noise=0.1)
    np.testing.assert_array_equal(a[0]._data, b[0]._data)
    c = datasets.make_moons(50, noise=0.1, generator=np.random.default_rng(3))
    assert not np.array_equal(a[0]._data, datasets.make_moons(50)[0]._data)
    assert c[0].shape == (50, 2)
    with pytest.raises(ValueError, match="make_circles: factor must be in"):
        datasets.make_circles(10, factor=1.5)
    with pytest.raises(ValueError, match="make_moons: noise"):
        datasets.make_moons(10, noise=-1)


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(
        ImportError, match=r'load_digits: needs scikit-learn.*pip install "tinygrad_edu\[train\]"'
    ):
        datasets.load_digits()
