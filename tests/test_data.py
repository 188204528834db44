"""Dataset, DataLoader, random_split and train_val_test_split: batching, shuffling,
drop_last, seeding, sizes and disjointness."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.utils.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
    train_val_test_split,
)


def _dataset(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(tg.tensor(X), tg.tensor(y))


class PairList(Dataset):
    """A plain map-style dataset of (array, int) samples: collated one sample at a time."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 2), i, dtype=np.float32), i


def test_tensor_dataset_rows_and_length():
    ds = _dataset(4)
    assert len(ds) == 4
    x, y = ds[2]
    assert x.tolist() == [6.0, 7.0, 8.0] and y.item() == 2
    with pytest.raises(ValueError, match=r"same size in dimension 0.*\(4, 3\), \(5,\)"):
        TensorDataset(tg.zeros(4, 3), tg.zeros(5))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_loader_batches_in_order_and_keeps_dtypes():
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    xb, yb = batches[0]
    assert xb.shape == (4, 3) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb._data, np.arange(12, dtype=np.float32).reshape(4, 3))


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


@given(n=st.integers(0, 30), bs=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans())
def test_len_matches_iteration_and_each_sample_appears_once(n, bs, drop_last, shuffle):
    loader = DataLoader(
        _dataset(n),
        batch_size=bs,
        drop_last=drop_last,
        shuffle=shuffle,
        generator=np.random.default_rng(n),
    )
    batches = [yb.tolist() for _, yb in loader]
    expected_len = n // bs if drop_last else math.ceil(n / bs)
    assert len(loader) == len(batches) == expected_len
    seen = [i for b in batches for i in b]
    assert all(len(b) == bs for b in batches[:-1])
    assert len(seen) == len(set(seen)) == (n - n % bs if drop_last else n)
    if not shuffle:
        assert seen == list(range(len(seen)))


def test_shuffle_is_a_fresh_permutation_each_epoch_and_keeps_pairs():
    ds = _dataset(50)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    epochs = []
    for _ in range(2):
        order = []
        for xb, yb in loader:
            # the row of X and its label stay together: X[i] = [3i, 3i+1, 3i+2]
            np.testing.assert_array_equal(xb._data[:, 0], 3 * yb._data)
            order += yb.tolist()
        assert sorted(order) == list(range(50))
        epochs.append(order)
    assert epochs[0] != epochs[1] and epochs[0] != list(range(50))


def test_manual_seed_makes_shuffles_reproducible():
    def orders():
        loader = DataLoader(_dataset(30), batch_size=7, shuffle=True)
        return [[yb.tolist() for _, yb in loader] for _ in range(2)]

    tg.manual_seed(123)
    first = orders()
    tg.manual_seed(123)
    assert orders() == first
    tg.manual_seed(124)
    assert orders() != first


def test_explicit_generator_is_independent_of_the_global_seed():
    def order(gen):
        return [yb.tolist() for _, yb in DataLoader(_dataset(20), 5, shuffle=True, generator=gen)]

    tg.manual_seed(0)
    a = order(np.random.default_rng(7))
    tg.manual_seed(99)
    assert order(np.random.default_rng(7)) == a
    assert order(7) == a  # an int seeds a fresh generator


def test_tensor_dataset_is_batched_by_fancy_indexing_not_per_sample(monkeypatch):
    ds = _dataset(10)

    def no_per_sample(self, i):
        raise AssertionError("DataLoader fetched a TensorDataset sample by sample")

    monkeypatch.setattr(TensorDataset, "__getitem__", no_per_sample)
    train = Subset(Subset(ds, [9, 8, 7, 6, 5, 4]), [1, 3, 5])
    assert [yb.tolist() for _, yb in DataLoader(ds, batch_size=3, shuffle=True)]
    assert [yb.tolist() for _, yb in DataLoader(train, batch_size=2)] == [[8, 6], [4]]


def test_batch_of_a_trainable_tensor_dataset_is_recorded():
    w = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    (xb,) = next(iter(DataLoader(TensorDataset(w), batch_size=2)))
    xb.sum().backward()
    assert w.grad.tolist() == [[1, 1], [1, 1], [0, 0]]


def test_generic_dataset_is_collated_sample_by_sample():
    loader = DataLoader(PairList(5), batch_size=2)
    xb, yb = next(iter(loader))
    assert xb.shape == (2, 2, 2) and xb.dtype == np.float32
    assert yb.tolist() == [0, 1] and yb.dtype == np.int64
    assert [len(y) for _, y in loader] == [2, 2, 1]
    unbatched = list(DataLoader(PairList(3), batch_size=None))
    assert [y for _, y in unbatched] == [0, 1, 2]
    custom = DataLoader(PairList(4), batch_size=2, collate_fn=lambda s: [y for _, y in s])
    assert list(custom) == [[0, 1], [2, 3]]


def test_default_collate_follows_pytorch_types():
    Point = collections.namedtuple("Point", "x label")
    batch = default_collate([Point(1.5, 1), Point(2.5, 0)])
    assert isinstance(batch, Point)
    assert batch.x.dtype == np.float64 and batch.label.dtype == np.int64
    d = default_collate([{"a": tg.ones(2), "s": "u"}, {"a": tg.zeros(2), "s": "v"}])
    assert d["a"].shape == (2, 2) and d["s"] == ["u", "v"]
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="DataLoader: batch_size should be a positive integer.*0"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(object())


def test_concat_dataset():
    ds = _dataset(3) + _dataset(2)
    assert isinstance(ds, ConcatDataset) and len(ds) == 5
    assert [ds[i][1].item() for i in range(5)] == [0, 1, 2, 0, 1]
    assert ds[-1][1].item() == 1


@pytest.mark.parametrize(
    "n, lengths, sizes",
    [
        (10, [3, 7], [3, 7]),
        (10, [0.5, 0.5], [5, 5]),
        (10, [0.33, 0.33, 0.34], [4, 3, 3]),  # floors 3,3,3; the leftover goes to the first
        (11, [0.7, 0.2, 0.1], [8, 2, 1]),  # floors 7,2,1; the leftover goes to the first
        (7, [1.0, 0.0], [7, 0]),
    ],
)
def test_random_split_sizes_and_disjointness(n, lengths, sizes):
    parts = random_split(_dataset(n), lengths, generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == sizes
    labels = [int(p[i][1].item()) for p in parts for i in range(len(p))]
    assert sorted(labels) == list(range(n))  # disjoint and covering


def test_random_split_is_random_and_reproducible():
    def split():
        a, b = random_split(_dataset(40), [30, 10])
        return a.indices.tolist(), b.indices.tolist()

    tg.manual_seed(5)
    first = split()
    assert first[0] != list(range(30))
    tg.manual_seed(5)
    assert split() == first


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"sum to 9, but the dataset has 10 samples"):
        random_split(_dataset(10), [4, 5])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(_dataset(10), [12, -2])
    with pytest.raises(ValueError, match="neither whole counts nor fractions"):
        random_split(_dataset(10), [0.5, 0.2])


def test_train_val_test_split():
    tg.manual_seed(0)
    train, val, test = train_val_test_split(_dataset(200), val=0.15, test=0.1)
    assert (len(train), len(val), len(test)) == (150, 30, 20)
    idx = [set(s.indices.tolist()) for s in (train, val, test)]
    assert not (idx[0] & idx[1] or idx[0] & idx[2] or idx[1] & idx[2])
    assert set().union(*idx) == set(range(200))
    a, b, c = train_val_test_split(_dataset(50), val=10, test=5, generator=np.random.default_rng(1))
    assert (len(a), len(b), len(c)) == (35, 10, 5)
    # the three sets batch through the fast path like any Subset
    xb, yb = next(iter(DataLoader(b, batch_size=4)))
    np.testing.assert_array_equal(xb._data[:, 0], 3 * yb._data)
    with pytest.raises(ValueError, match="leave 0 of 10 samples for training"):
        train_val_test_split(_dataset(10), val=5, test=5)
    with pytest.raises(ValueError, match=r"test=1.5 must be a fraction in \[0, 1\)"):
        train_val_test_split(_dataset(10), test=1.5)
