"""Pictures for teaching: decision boundaries, matrices with their numbers, conv filters.

matplotlib is imported inside each function, so ``import tinygrad_edu`` never needs it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["plot_decision_boundary", "plot_filters", "plot_matrix"]


def _predict(model: Callable, grid: np.ndarray) -> np.ndarray:
    """Scores of ``model`` on (M, 2) points, as an ndarray, without recording."""
    import tinygrad_edu as tg

    with tg.no_grad():
        out = model(tg.tensor(grid, dtype=tg.get_default_dtype()))
    return np.asarray(getattr(out, "data", out))


def plot_decision_boundary(
    model: Callable,
    X,
    y=None,
    ax=None,
    *,
    resolution: int = 200,
    margin: float = 0.5,
    fill: bool = True,
    scatter: bool = True,
    cmap: str = "RdBu",
    line_kw: dict | None = None,
):
    """Draw where a 2-D classifier changes its mind, over the data ``X: (N, 2)`` coloured by
    ``y: (N,)``.

    ``model`` maps an (M, 2) tensor to scores: (M,) or (M, 1) for a binary classifier (the
    boundary is score = 0) or (M, K) logits (the class is the argmax). Any callable works
    (a Module, a lambda). ``fill=False`` draws only the boundary line (``line_kw`` styles it),
    e.g. to overlay the perceptron's line at several steps of learning. Returns the axes.
    """
    import matplotlib.pyplot as plt

    X = np.asarray(getattr(X, "data", X), dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must be (N, 2) points, got shape {X.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    scores = _predict(model, np.stack([gx.ravel(), gy.ravel()], axis=1))
    if scores.ndim == 2 and scores.shape[1] > 1:
        k = scores.shape[1]
        classes = scores.argmax(axis=1).reshape(gx.shape)
        if fill:
            ax.contourf(gx, gy, classes, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.3)
        ax.contour(
            gx, gy, classes, levels=np.arange(k) + 0.5, **({"colors": "k"} | (line_kw or {}))
        )
    else:
        field = scores.reshape(gx.shape)
        if fill:
            ax.contourf(
                gx, gy, (field > 0).astype(float), levels=[-0.5, 0.5, 1.5], cmap=cmap, alpha=0.3
            )
        ax.contour(gx, gy, field, levels=[0.0], **({"colors": "k"} | (line_kw or {})))
    if scatter:
        c = None if y is None else np.asarray(getattr(y, "data", y)).reshape(-1)
        ax.scatter(X[:, 0], X[:, 1], c=c, cmap=cmap, edgecolors="k", s=20)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return ax


def plot_matrix(
    a,
    ax=None,
    *,
    title: str | None = None,
    annotate: bool = True,
    fmt: str = "{:g}",
    cmap: str = "Blues",
):
    """A 2-D array as a heat map with its numbers written in (e.g. a conv input, its kernel,
    the im2col matrix). Returns the axes."""
    import matplotlib.pyplot as plt

    a = np.asarray(getattr(a, "data", a))
    if a.ndim != 2:
        raise ValueError(f"plot_matrix: expects a 2-D array, got shape {a.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * a.shape[1] + 1, 0.5 * a.shape[0] + 0.8))
    ax.imshow(a, cmap=cmap)
    if annotate:
        mid = (np.nanmax(a) + np.nanmin(a)) / 2 if a.size else 0
        for (i, j), v in np.ndenumerate(a):
            ax.text(
                j,
                i,
                fmt.format(v),
                ha="center",
                va="center",
                color="white" if v > mid else "black",
                fontsize=9,
            )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_filters(weight, ncols: int = 8, *, title: str | None = None, cmap: str = "RdBu_r"):
    """The kernels of a Conv2d, ``weight: (C_out, C_in, kh, kw)``, one small image each
    (input channels side by side when C_in > 1), on a shared symmetric colour scale so
    positive and negative weights read alike. Returns the figure."""
    import matplotlib.pyplot as plt

    w = np.asarray(getattr(weight, "data", weight))
    if w.ndim != 4:
        raise ValueError(f"plot_filters: expects (C_out, C_in, kh, kw) weights, got {w.shape}")
    c_out, c_in = w.shape[:2]
    tiles = [w[o, i] for o in range(c_out) for i in range(c_in)]
    ncols = min(ncols, len(tiles))
    nrows = -(-len(tiles) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.1 * nrows + 0.4), squeeze=False)
    vmax = float(np.abs(w).max()) or 1.0
    for ax in axes.ravel():
        ax.axis("off")
    for k, (ax, tile) in enumerate(zip(axes.ravel(), tiles)):
        ax.imshow(tile, cmap=cmap, vmin=-vmax, vmax=vmax)
        ax.set_title(f"{k // c_in}" + (f".{k % c_in}" if c_in > 1 else ""), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
