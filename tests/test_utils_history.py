"""History, fit, evaluate, accuracy."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.utils.data import DataLoader, TensorDataset
from tinygrad_edu.utils.history import History, accuracy, evaluate, fit


def test_history_columns_series_and_best():
    h = History()
    h.log(epoch=1, loss=0.5, acc=tg.tensor(0.6))
    h.log(epoch=2, loss=0.25)
    h.log(epoch=3, loss=0.3, acc=np.float32(0.9))
    assert h["loss"].tolist() == [0.5, 0.25, 0.3]
    assert np.allclose(h["acc"], [0.6, 0.9])
    assert isinstance(h.rows[0]["acc"], float)
    xs, ys = h.series("acc")
    assert xs.tolist() == [1, 3] and np.allclose(ys, [0.6, 0.9])
    assert h.best("loss")["epoch"] == 2 and h.best("acc", mode="max")["epoch"] == 3
    assert h.last("loss") == 0.3 and len(h) == 3
    assert h.keys() == ["time", "epoch", "loss", "acc"]
    assert np.all(np.diff(h["time"]) >= 0)
    assert "loss" in repr(h)
    with pytest.raises(KeyError, match="nope"):
        h["nope"]


def test_paused_time_is_not_counted():
    h = History()
    with h.paused():
        t = h.elapsed()
        import time

        time.sleep(0.05)
    assert h.elapsed() - t < 0.04


def test_accuracy_forms():
    assert accuracy(tg.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), tg.tensor([0, 1, 1])) == 2 / 3
    assert accuracy(tg.tensor([0.5, -1.0, 2.0]), tg.tensor([1, 0, 0])) == 2 / 3
    assert accuracy(np.array([[0.5], [-1.0]]), np.array([1.0, -1.0])) == 1.0


def _toy(n=128, seed=0):
    tg.manual_seed(seed)
    X = tg.randn(n, 2)
    y = ((X[:, 0] + X[:, 1]) > 0).long()
    return X, y


def test_fit_learns_and_logs():
    X, y = _toy()
    train = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    val = DataLoader(TensorDataset(X, y), batch_size=64)
    net = nn.Linear(2, 2)
    h = fit(
        net,
        train,
        nn.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.5),
        6,
        val_loader=val,
        metrics={"acc": accuracy},
        log_initial=True,
        log_steps=True,
    )
    epochs = h.series("train_loss")[0]
    assert epochs.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert h.last("train_loss") < h["train_loss"][0] / 2
    assert h.last("val_acc") > 0.95
    steps = h.series("loss", x="step")
    assert steps[0].tolist() == list(range(1, 6 * 4 + 1))
    assert h.series("loss")[0][3] == 1.0  # 4 batches an epoch: step 4 ends epoch 1
    # evaluate agrees with a full-batch computation
    with tg.no_grad():
        full = nn.functional.cross_entropy(net(X), y).item()
    assert np.isclose(evaluate(net, val, nn.CrossEntropyLoss())["loss"], full, rtol=1e-5)
    assert np.isclose(h.last("val_loss"), full, rtol=1e-5)


def test_evaluate_restores_training_mode_and_rejects_empty():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    net.train()
    X, y = _toy(8)
    evaluate(net, [(X, y)], metrics={"acc": accuracy})
    assert net.training
    with pytest.raises(ValueError, match="no batches"):
        evaluate(net, [])
