"""Datasets, mini-batches and splits, mirroring ``torch.utils.data``.

The lecture's data are i.i.d. samples of an unknown distribution (二.II), divided into a
training, a validation and a test set (二.III); SGD (五.II, eq. 7) walks the training set in
random mini-batches. Here that is::

    data = TensorDataset(X, y)
    train, val, test = train_val_test_split(data, val=0.15, test=0.15)
    for xb, yb in DataLoader(train, batch_size=64, shuffle=True):
        ...

A ``TensorDataset`` (or a ``Subset`` of one) is batched by indexing its whole arrays with one
index array per batch, not by collecting and stacking samples one at a time. Shuffles and splits
draw from ``tg.manual_seed``'s generator unless given their own ``generator``.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .._random import default_generator
from ..tensor import Tensor

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "random_split",
    "train_val_test_split",
]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor: ``ds[i] == (X[i], y[i])``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.utils.data import TensorDataset
    >>> ds = TensorDataset(tg.arange(6).reshape(3, 2), tg.tensor([0, 1, 0]))
    >>> len(ds), ds[1]
    (3, (tensor([2, 3]), tensor(1)))
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor, e.g. TensorDataset(X, y)")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(
                f"TensorDataset: all tensors must have the same size in dimension 0 (one row "
                f"per sample), got shapes {shapes}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices: np.ndarray) -> tuple:
        """The batch at ``indices`` (an int array), one fancy-index per tensor."""
        return tuple(
            t[Tensor._wrap(indices)] if t.requires_grad else Tensor._wrap(t._data[indices])
            for t in self.tensors
        )


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after another (``ds1 + ds2``)."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def default_collate(samples: list):
    """Stack a list of samples into a batch: tensors and arrays gain a leading batch
    dimension, Python ints become int64 and floats float64 (as in PyTorch), tuples and
    dicts are collated field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s._data for s in samples]))
    if isinstance(first, np.ndarray):
        return Tensor._wrap(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return Tensor._wrap(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor._wrap(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._wrap(np.array(samples, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError(
                "default_collate: each sample in a batch must have the same number of fields"
            )
        fields = [default_collate(list(field)) for field in zip(*samples)]
        if hasattr(first, "_fields"):  # a namedtuple
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(
        f"default_collate: don't know how to batch samples of type {type(first).__name__}; "
        "pass collate_fn= to DataLoader"
    )


class DataLoader:
    """Mini-batches of a dataset, optionally reshuffled every epoch.

    ``len(loader)`` is the number of batches: ``ceil(len(dataset) / batch_size)``, or
    ``floor`` with ``drop_last=True``. Each pass with ``shuffle=True`` draws a new permutation
    from ``generator`` (a ``numpy.random.Generator``; by default the one ``tg.manual_seed``
    seeds). ``batch_size=None`` yields single samples. ``num_workers`` and ``pin_memory`` are
    accepted so PyTorch scripts run unchanged; loading always happens in this process.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(tg.arange(10).float(), tg.arange(10))
    >>> loader = DataLoader(ds, batch_size=4)
    >>> len(loader), [y.tolist() for _, y in loader]
    (3, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | int | None = None,
        collate_fn: Callable | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__, got "
                f"{type(dataset).__name__}; wrap arrays in TensorDataset(X, y)"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer (or None), got {batch_size!r}"
            )
        if batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None (no batching) is incompatible with drop_last=True"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = (
            np.random.default_rng(generator)
            if isinstance(generator, numbers.Integral)
            else generator
        )
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            return (self.generator or default_generator()).permutation(n)
        return np.arange(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        if self.batch_size is None:
            for i in order:
                yield self.dataset[int(i)]
            return
        bs, n = self.batch_size, len(order)
        stop = n - n % bs if self.drop_last else n
        fetch = _batch_fetcher(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if fetch is not None:
                yield fetch(idx)
            else:
                yield collate([self.dataset[int(i)] for i in idx])


def _batch_fetcher(dataset) -> Callable | None:
    """A function from an index array to a whole batch, for a TensorDataset or Subsets of one
    (their indices composed); None for other datasets, which are collated sample by sample."""
    if isinstance(dataset, TensorDataset):
        return dataset._get_batch
    if isinstance(dataset, Subset):
        inner = _batch_fetcher(dataset.dataset)
        if inner is not None:
            indices = dataset.indices
            return lambda idx: inner(indices[idx])
    return None


def _as_generator(generator) -> np.random.Generator:
    if generator is None:
        return default_generator()
    if isinstance(generator, numbers.Integral):
        return np.random.default_rng(int(generator))
    return generator


def random_split(dataset: Dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split ``dataset`` into disjoint random subsets of the given lengths.

    ``lengths`` are either counts summing to ``len(dataset)``, or fractions summing to 1; with
    fractions each subset gets ``floor(fraction * n)`` samples and the leftover samples go one
    each to the first subsets, round-robin (PyTorch's rule).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.utils.data import TensorDataset, random_split
    >>> _ = tg.manual_seed(0)
    >>> a, b = random_split(TensorDataset(tg.arange(10)), [0.75, 0.25])
    >>> len(a), len(b)
    (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError(
            "random_split: lengths is empty; give counts or fractions, e.g. [0.8, 0.2]"
        )
    if any(length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    total = sum(lengths)
    if (
        math.isclose(total, 1)
        and total <= 1
        and not all(isinstance(x, numbers.Integral) for x in lengths)
    ):
        counts = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        if not all(float(x).is_integer() for x in lengths):
            raise ValueError(
                f"random_split: lengths {lengths} are neither whole counts nor fractions "
                f"summing to 1 (they sum to {total})"
            )
        counts = [int(x) for x in lengths]
    if sum(counts) != n:
        raise ValueError(
            f"random_split: the lengths {lengths} sum to {sum(counts)}, but the dataset has "
            f"{n} samples; give counts summing to {n} or fractions summing to 1"
        )
    perm = _as_generator(generator).permutation(n)
    ends = list(itertools.accumulate(counts))
    return [Subset(dataset, perm[end - c : end]) for end, c in zip(ends, counts)]


def train_val_test_split(
    dataset: Dataset, val: float = 0.15, test: float = 0.15, generator=None
) -> tuple[Subset, Subset, Subset]:
    """The lecture's three sets (二.III): train on the first, choose models and stop early on
    the second, report the third once at the end.

    ``val`` and ``test`` are fractions of the dataset (``0.15``) or sample counts (``200``); the
    training set gets the rest. Disjoint, random, reproducible under ``tg.manual_seed``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu.utils.data import TensorDataset, train_val_test_split
    >>> train, val, test = train_val_test_split(TensorDataset(tg.arange(100)), val=0.2, test=0.1)
    >>> len(train), len(val), len(test)
    (70, 20, 10)
    """
    n = len(dataset)
    counts = []
    for name, x in (("val", val), ("test", test)):
        if isinstance(x, numbers.Integral) and not isinstance(x, bool):
            c = int(x)
        elif isinstance(x, numbers.Real) and 0 <= x < 1:
            c = round(x * n)
        else:
            raise ValueError(
                f"train_val_test_split: {name}={x!r} must be a fraction in [0, 1) or a sample count"
            )
        counts.append(c)
    n_train = n - sum(counts)
    if min(counts) < 0 or n_train < 1:
        raise ValueError(
            f"train_val_test_split: val={val} and test={test} leave {n_train} of {n} samples "
            "for training; make them smaller"
        )
    train, val_set, test_set = random_split(dataset, [n_train, *counts], generator=generator)
    return train, val_set, test_set
