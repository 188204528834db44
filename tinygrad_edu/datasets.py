"""Small real data sets that ship offline, and two synthetic ones.

The real sets come bundled inside scikit-learn (no download ever happens):

- ``load_digits``: 1,797 handwritten digits, 8x8 grey images, 10 classes (the default image set)
- ``load_iris`` (150 x 4, 3 classes), ``load_wine`` (178 x 13, 3 classes),
  ``load_breast_cancer`` (569 x 30, 2 classes)

``make_moons`` and ``make_circles`` draw two-class 2-D points from ``tg.manual_seed``'s
generator and need only NumPy. Every loader returns ``(X, y)`` tensors, float32 features and
int64 labels, or a ``TensorDataset`` with ``as_dataset=True``.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu import datasets
>>> X, y = datasets.load_digits(as_image=True)
>>> X.shape, X.dtype, y.shape, y.dtype
(tg.Size([1797, 1, 8, 8]), tg.float32, tg.Size([1797]), tg.int64)
"""

from __future__ import annotations

import numpy as np

from ._random import numpy_generator
from .tensor import Tensor
from .utils.data import TensorDataset

__all__ = [
    "load_breast_cancer",
    "load_digits",
    "load_iris",
    "load_wine",
    "make_circles",
    "make_moons",
]


def _sklearn_datasets(what: str):
    try:
        from sklearn import datasets as skd
    except ImportError as e:
        raise ImportError(
            f"{what}: needs scikit-learn, which ships this data set offline; install it with "
            'pip install "tinygrad_edu[train]"'
        ) from e
    return skd


def _result(X: np.ndarray, y: np.ndarray, as_dataset: bool):
    X = Tensor._wrap(np.ascontiguousarray(X, dtype=np.float32))
    y = Tensor._wrap(np.ascontiguousarray(y, dtype=np.int64))
    return TensorDataset(X, y) if as_dataset else (X, y)


def load_digits(as_image: bool = False, as_dataset: bool = False):
    """scikit-learn's handwritten digits: 1,797 images of 8x8 pixels, labels 0-9.

    Pixels (0..16 in the original) are scaled to [0, 1]. Returns ``X`` of shape ``(1797, 64)``,
    or ``(1797, 1, 8, 8)`` (N, C, H, W) with ``as_image=True``, float32, and ``y`` of shape
    ``(1797,)``, int64 -- or ``TensorDataset(X, y)`` with ``as_dataset=True``.
    """
    raw = _sklearn_datasets("load_digits").load_digits()
    X = raw.data / 16.0
    if as_image:
        X = X.reshape(-1, 1, 8, 8)
    return _result(X, raw.target, as_dataset)


def load_iris(as_dataset: bool = False):
    """Fisher's iris flowers: 150 samples, 4 measurements in cm (float32), 3 species (int64).

    Features are not standardised: compute the mean and std on the training split only."""
    raw = _sklearn_datasets("load_iris").load_iris()
    return _result(raw.data, raw.target, as_dataset)


def load_wine(as_dataset: bool = False):
    """Wine recognition: 178 samples, 13 chemical measurements (float32), 3 cultivars (int64).

    The features differ in scale by up to 1000x: standardise them (with training statistics)."""
    raw = _sklearn_datasets("load_wine").load_wine()
    return _result(raw.data, raw.target, as_dataset)


def load_breast_cancer(as_dataset: bool = False):
    """Wisconsin breast cancer: 569 samples, 30 features (float32), labels 0 = malignant,
    1 = benign (int64). Standardise the features with training statistics before use."""
    raw = _sklearn_datasets("load_breast_cancer").load_breast_cancer()
    return _result(raw.data, raw.target, as_dataset)


def _check_n(n_samples: int, noise: float, what: str) -> None:
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"{what}: n_samples must be an integer >= 2, got {n_samples}")
    if noise < 0:
        raise ValueError(f"{what}: noise is a standard deviation and must be >= 0, got {noise}")


def make_moons(n_samples: int = 100, noise: float = 0.0, as_dataset: bool = False, generator=None):
    """Two interleaving half circles (a set no line separates; an MLP can).

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower ``(1 - cos t, 0.5 - sin t)``,
    ``t`` in ``[0, pi]``, plus Gaussian noise of std ``noise``; samples are shuffled.
    Class 0 gets ``n_samples // 2`` points, class 1 the rest (scikit-learn's layout).
    """
    _check_n(n_samples, noise, "make_moons")
    n_out = int(n_samples) // 2
    n_in = int(n_samples) - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _noisy_shuffled(X, y, noise, generator, as_dataset)


def make_circles(
    n_samples: int = 100,
    noise: float = 0.0,
    factor: float = 0.8,
    as_dataset: bool = False,
    generator=None,
):
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0), plus Gaussian
    noise of std ``noise``; shuffled. Class 0 gets ``n_samples // 2`` points."""
    _check_n(n_samples, noise, "make_circles")
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor}")
    n_out = int(n_samples) // 2
    n_in = int(n_samples) - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _noisy_shuffled(X, y, noise, generator, as_dataset)


def _noisy_shuffled(X, y, noise, generator, as_dataset):
    gen = numpy_generator(generator, "datasets")
    perm = gen.permutation(len(y))
    X, y = X[perm], y[perm]
    if noise:
        X = X + gen.normal(scale=noise, size=X.shape)
    return _result(X, y, as_dataset)
