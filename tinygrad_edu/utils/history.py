"""Training bookkeeping: a ``History`` of metrics with wall-clock time, and the plain loop
``fit`` / ``evaluate`` that fills one (lecture 二.III, 五.I–II: train, validate, compare).

>>> h = History()
>>> _ = h.log(epoch=1, loss=0.5)
>>> _ = h.log(epoch=2, loss=0.25)
>>> h["loss"].tolist(), h.last("loss")
([0.5, 0.25], 0.25)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np

__all__ = ["History", "accuracy", "evaluate", "fit"]


class History:
    """Rows of metrics (``log(epoch=3, train_loss=0.4, ...)``), each stamped with the training
    wall time in seconds since the history started, not counting time spent ``paused()``
    (so evaluation does not make one optimizer look slower than another).

    ``h["train_loss"]`` is the column as an array (rows without that key are skipped);
    ``h.series("val_acc", x="time")`` gives ``(xs, ys)`` for a plot; ``h.plot(...)`` draws them.
    """

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self._t0 = time.perf_counter()
        self._paused = 0.0

    def elapsed(self) -> float:
        """Training seconds so far (paused time excluded)."""
        return time.perf_counter() - self._t0 - self._paused

    @contextlib.contextmanager
    def paused(self):
        """Stop the clock inside the block (e.g. around evaluation)."""
        t = time.perf_counter()
        try:
            yield self
        finally:
            self._paused += time.perf_counter() - t

    def log(self, **metrics) -> dict:
        """Append one row; Tensors and NumPy scalars are stored as Python floats."""
        row = {"time": self.elapsed()}
        for key, value in metrics.items():
            row[key] = _scalar(value)
        self.rows.append(row)
        return row

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.keys():
            raise KeyError(f"History: no metric {key!r}; logged so far: {self.keys()}")
        return np.array([row[key] for row in self.rows if key in row])

    def series(self, key: str, x: str = "epoch") -> tuple[np.ndarray, np.ndarray]:
        """``(x values, key values)`` over the rows that have both."""
        rows = [row for row in self.rows if key in row and x in row]
        if not rows:
            raise KeyError(f"History: no rows with both {x!r} and {key!r}; have {self.keys()}")
        return np.array([r[x] for r in rows]), np.array([r[key] for r in rows])

    def last(self, key: str):
        for row in reversed(self.rows):
            if key in row:
                return row[key]
        raise KeyError(f"History: no metric {key!r}; logged so far: {self.keys()}")

    def best(self, key: str, mode: str = "min") -> dict:
        """The row where ``key`` is smallest (``mode="min"``) or largest (``"max"``)."""
        rows = [row for row in self.rows if key in row]
        if not rows:
            raise KeyError(f"History: no metric {key!r}")
        pick = min if mode == "min" else max
        return pick(rows, key=lambda r: r[key])

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        keys = self.keys()
        lines = ["  ".join(f"{k:>10}" for k in keys)]
        for row in self.rows[-5:]:
            lines.append("  ".join(f"{_fmt(row.get(k)):>10}" for k in keys))
        more = f" (last 5 of {len(self.rows)})" if len(self.rows) > 5 else ""
        return f"History{more}\n" + "\n".join(lines)

    def plot(self, *keys: str, x: str = "epoch", ax=None, label: str | None = None, **kwargs):
        """Line plot of ``keys`` against ``x`` ("epoch", "step" or "time"); returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        for key in keys or [k for k in self.keys() if k not in ("time", "epoch", "step")]:
            xs, ys = self.series(key, x)
            ax.plot(xs, ys, label=key if label is None else f"{label} {key}", **kwargs)
        ax.set_xlabel({"time": "wall time (s)"}.get(x, x))
        ax.legend()
        return ax


def _scalar(value):
    """A one-element Tensor / ndarray / NumPy scalar as a Python number; anything else as is."""
    if hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    return value


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def accuracy(output, target) -> float:
    """Fraction of correct predictions. ``output``: (N, K) scores (argmax is the class) or
    (N,) / (N, 1) scores of a binary classifier (positive means class 1; for targets in
    {-1, +1}, the sign is the class). ``target``: (N,) labels."""
    out = np.asarray(getattr(output, "data", output))
    tgt = np.asarray(getattr(target, "data", target)).reshape(-1)
    if out.ndim == 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
    else:
        out = out.reshape(-1)
        pred = np.sign(out) if tgt.min() < 0 else (out > 0).astype(tgt.dtype)
    return float((pred == tgt).mean())


def evaluate(
    model,
    loader: Iterable,
    loss_fn: Callable | None = None,
    metrics: Mapping[str, Callable] | None = None,
) -> dict:
    """Mean loss and metrics over a loader of ``(x, y)`` batches, without recording
    (``no_grad``) and in eval mode; batches are weighted by their size.

    Returns e.g. ``{"loss": 0.31, "acc": 0.92}``.
    """
    import tinygrad_edu as tg

    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    totals: dict[str, float] = {}
    count = 0
    try:
        with tg.no_grad():
            for x, y in loader:
                out = model(x)
                n = len(x)
                if loss_fn is not None:
                    totals["loss"] = totals.get("loss", 0.0) + float(loss_fn(out, y).item()) * n
                for name, fn in (metrics or {}).items():
                    totals[name] = totals.get(name, 0.0) + float(fn(out, y)) * n
                count += n
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {k: v / count for k, v in totals.items()}


def fit(
    model,
    loader: Iterable,
    loss_fn: Callable,
    optimizer,
    epochs: int,
    *,
    val_loader: Iterable | None = None,
    metrics: Mapping[str, Callable] | None = None,
    history: History | None = None,
    log_steps: bool = False,
    log_initial: bool = False,
) -> History:
    """The training loop of lecture 五.II: for each mini-batch, forward, loss, backward,
    step. Logs one row per epoch: ``epoch``, ``step``, ``train_loss`` (the mean over the
    epoch's batches), and ``val_loss`` / ``val_<metric>`` when ``val_loader`` is given
    (evaluated with the clock paused). ``log_steps=True`` also logs ``loss`` after every
    step (rows with a fractional ``epoch``); ``log_initial=True`` logs epoch 0 before
    training. Returns the history (a new one unless given).

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn, optim
    >>> from tinygrad_edu.utils.data import DataLoader, TensorDataset
    >>> _ = tg.manual_seed(0)
    >>> X = tg.randn(64, 2); y = (X[:, 0] > 0).long()
    >>> net = nn.Linear(2, 2)
    >>> h = fit(net, DataLoader(TensorDataset(X, y), batch_size=16), nn.CrossEntropyLoss(),
    ...         optim.SGD(net.parameters(), lr=0.5), epochs=5)
    >>> bool(h.last("train_loss") < h["train_loss"][0])
    True
    """
    history = History() if history is None else history
    metrics = dict(metrics or {})
    step = 0
    if log_initial:
        with history.paused():
            row = {"train_" + k: v for k, v in evaluate(model, loader, loss_fn, metrics).items()}
            if val_loader is not None:
                row.update(
                    {
                        "val_" + k: v
                        for k, v in evaluate(model, val_loader, loss_fn, metrics).items()
                    }
                )
        history.log(epoch=0, step=0, **row)
    for epoch in range(epochs):
        if hasattr(model, "train"):
            model.train()
        batches = loader if hasattr(loader, "__len__") else list(loader)  # len for step rows
        n_batches = len(batches)
        total, count = 0.0, 0
        for b, (x, y) in enumerate(batches):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            value = float(loss.item())
            total += value * len(x)
            count += len(x)
            if log_steps:
                history.log(epoch=epoch + (b + 1) / n_batches, step=step, loss=value)
        row = {"train_loss": total / max(count, 1)}
        if val_loader is not None:
            with history.paused():
                row.update(
                    {
                        "val_" + k: v
                        for k, v in evaluate(model, val_loader, loss_fn, metrics).items()
                    }
                )
        history.log(epoch=epoch + 1, step=step, **row)
    return history
