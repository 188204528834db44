"""Benchmark 1: numerical differentiation against backprop, and the cheap-gradient ratio.

The lecture's claim: a central-difference gradient costs 2N forwards, O(N)·O(forward) =
O(N²) for a network whose forward is O(N); backprop costs one forward and one reverse pass,
O(N). Two families of tanh MLPs (batch 1024, float64, the engine's own forward under
``no_grad`` for the finite differences) span N ~1e2..1e5 parameters:

- ``deep``: width 8, depth L = 1..1470 hidden layers. Every layer costs the same, so a
  forward's *time* grows as N: the lecture's premise holds as measured, and the fitted slopes
  should come out ~2 and ~1.
- ``wide``: one hidden layer d-d-10, d = 8..320. A forward's FLOPs grow as N, but its time
  grows slower: the GEMMs get more efficient as they grow, and the tanh and softmax work grows
  as d ~ sqrt(N). Both slopes come out lower; the ratio numerical / backprop still grows as N.

Coordinates are differentiated in random order for a fixed time budget per size (4 s; 0.4 s
with --quick); when that does not cover all N, the full time is extrapolated linearly from the
timed subset (every coordinate costs two forwards of the same network), and the table marks
the row.

Then ``time(forward + backward) / time(forward)`` for the MLP and CNN training models: the
"cheap gradient principle" says a reverse pass costs a small constant times the forward.
"""

from __future__ import annotations

import time

import numpy as np

from . import harness as H
from . import models as M
from . import reference_numpy as R

BATCH = 1024
FIT_MIN_N = 10_000  # the large-N range: fitted separately from all sizes
EPS = 1e-6
DEEP_WIDTH = 8
FAMILIES = {  # name -> (what the table calls it, what each size is called)
    "deep": (f"tanh MLP of width {DEEP_WIDTH}, depth L", "L"),
    "wide": ("tanh MLP d-d-10", "d"),
}
EXPECT = {
    "deep": (
        "(expected ~2, ~1 and ~1: every layer costs the same, so a forward's time grows as N; "
        "at the smallest N the output layer and the loss, a constant, flatten the fit over "
        "all sizes)"
    ),
    "wide": (
        "(a forward's time grows slower than N here: the GEMMs get more efficient as they "
        "grow, and the tanh and softmax work grows as d ~ sqrt(N); so both slopes come out "
        "below 2 and 1, while the ratio, 2N forwards over one backprop, still grows as N)"
    ),
}


def _sizes(family: str, cfg: H.Config) -> list[tuple[int, ...]]:
    """The layer sizes of each network of ``family`` (input, hidden..., 10 classes)."""
    if family == "deep":
        depths = [1, 18, 246] if cfg.quick else [1, 5, 18, 65, 246, 730, 1470]
        return [(DEEP_WIDTH,) * (depth + 1) + (10,) for depth in depths]
    widths = [8, 128, 224] if cfg.quick else [8, 16, 32, 64, 128, 224, 320]
    return [(d, d, 10) for d in widths]


def _size_label(family: str, sizes: tuple[int, ...]) -> int:
    """The depth L of a deep network, the width d of a wide one."""
    return len(sizes) - 2 if family == "deep" else sizes[1]


def _mlp(sizes: tuple[int, ...], dtype=np.float64, seed: int = 0):
    """A tanh MLP of layer ``sizes`` and its mean softmax cross-entropy on a random batch.

    Weights N(0, 1/fan_in), biases N(0, 0.1²): a signal keeps its scale through 1,470 tanh
    layers (PyTorch's default init shrinks it ~3x per layer, into subnormal numbers, whose
    arithmetic is slow enough to distort the timings)."""
    import tinygrad_edu as tg

    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(dtype))
        params.append((0.1 * rng.standard_normal(n_out)).astype(dtype))
    x = rng.standard_normal((BATCH, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], BATCH)
    ps = [tg.tensor(a, requires_grad=True) for a in params]
    xt = tg.tensor(x)
    rows = np.arange(BATCH)
    last = len(ps) - 2

    def loss():
        h = xt
        for i in range(0, last, 2):  # smooth: no ReLU kink spoils a finite difference
            h = (h @ ps[i].T + ps[i + 1]).tanh()
        z = h @ ps[last].T + ps[last + 1]
        return -(z.log_softmax(-1)[rows, y]).mean()

    return ps, loss, (params, x, y)


def numerical_grad(ps, loss, coords) -> np.ndarray:
    """Central differences at the (param index, flat index) pairs: 2 forwards each."""
    import tinygrad_edu as tg

    out = np.empty(len(coords))
    with tg.no_grad():
        for k, (i, j) in enumerate(coords):
            flat = ps[i]._data.reshape(-1)
            old = flat[j]
            flat[j] = old + EPS
            f_plus = loss().item()
            flat[j] = old - EPS
            f_minus = loss().item()
            flat[j] = old
            out[k] = (f_plus - f_minus) / (2 * EPS)
    return out


def timed_numerical_grad(ps, loss, budget_s: float, seed: int = 0):
    """Central differences over the coordinates in random order until ``budget_s`` seconds
    are spent (or all are done). Returns (coords, gradient values, seconds)."""
    n_each = [p._data.size for p in ps]
    starts = np.cumsum([0] + n_each)
    order = np.random.default_rng(seed).permutation(int(starts[-1]))
    coords, values = [], []
    spent, chunk = 0.0, 8
    while len(coords) < len(order) and spent < budget_s:
        flat = order[len(coords) : len(coords) + chunk]
        block = [
            (int(i), int(k - starts[i]))
            for k in flat
            for i in [int(np.searchsorted(starts, k, side="right") - 1)]
        ]
        t0 = time.perf_counter()
        values.append(numerical_grad(ps, loss, block))
        spent += time.perf_counter() - t0
        coords += block
        chunk = min(2 * chunk, 512)
    return coords, np.concatenate(values), spent


def _measure_size(family: str, sizes: tuple[int, ...], cfg: H.Config, budget_s: float) -> dict:
    """One network: its full central-difference gradient (timed, or extrapolated from a timed
    subset of coordinates) against one backprop, and how well the two agree."""
    ps, loss, _ = _mlp(sizes)
    n = sum(p._data.size for p in ps)
    numerical_grad(ps, loss, [(0, 0)] * 3)  # warm-up
    time.sleep(cfg.sleep)
    coords, num, t_num = timed_numerical_grad(ps, loss, budget_s, seed=n)
    t_full = t_num * n / len(coords)

    def backprop(ps=ps, loss=loss):
        for p in ps:
            p.grad = None
        loss().backward()

    t0 = time.perf_counter()
    backprop()
    once = time.perf_counter() - t0
    # about a quarter second per block (the deepest network's backprop alone takes ~0.4 s)
    reps = max(1, min(cfg.reps(15, 5), int(0.25 / max(once, 1e-9))))
    t_bp = H.compare({"backprop": backprop}, cfg, reps)["backprop"]
    # agreement on the timed coordinates (float64, central differences), relative to the
    # largest entry of the whole gradient: in a deep tanh network the early layers' entries
    # are ~1e-50, far below what a difference of two losses resolves (~1e-10), so a sample of
    # them alone would compare rounding noise with rounding noise
    backprop()
    exact = np.array([ps[i].grad._data.reshape(-1)[j] for i, j in coords])
    scale = max(float(np.abs(p.grad._data).max()) for p in ps)
    err = float(np.abs(num - exact).max() / max(scale, 1e-30))
    return {
        FAMILIES[family][1]: _size_label(family, sizes),
        "N": n,
        "coords_timed": len(coords),
        "extrapolated": len(coords) < n,
        "numerical_s": t_full,
        "backprop_s": t_bp.median,
        "backprop_p25_s": t_bp.quantile(0.25),
        "backprop_p75_s": t_bp.quantile(0.75),
        "speedup": t_full / t_bp.median,
        "grad_max_rel_err": err,
    }


def run_scaling(cfg: H.Config) -> dict:
    budget_s = 0.4 if cfg.quick else 4.0  # seconds of finite differences timed per size
    out = {"eps": EPS, "batch": BATCH}
    for family, (title, _) in FAMILIES.items():
        rows = [_measure_size(family, sizes, cfg, budget_s) for sizes in _sizes(family, cfg)]
        fits = _fits(rows)
        print(H.banner(f"numerical differentiation vs backprop: {family} ({title}), batch "
                       f"{BATCH}, float64"))
        print(_scaling_table(family, rows, fits))
        out[family] = {"model": title, "rows": rows, "fits": fits}
    _scaling_plot(cfg, out)
    return out


def _fits(rows) -> dict:
    """Log-log slopes of the numerical time, the backprop time and their ratio against N:
    over all sizes, and over N >= FIT_MIN_N."""
    n = np.array([r["N"] for r in rows], float)
    fits = {}
    for key in ("numerical_s", "backprop_s", "speedup"):
        t = np.array([r[key] for r in rows])
        fits[key] = {"all": float(np.polyfit(np.log(n), np.log(t), 1)[0])}
        big = n >= FIT_MIN_N
        if big.sum() >= 2:
            fits[key]["large N"] = float(np.polyfit(np.log(n[big]), np.log(t[big]), 1)[0])
    return fits


def _scaling_table(family: str, rows, fits) -> str:
    label = FAMILIES[family][1]
    head = (
        f"{label:>5}{'N params':>10}{'coords timed':>14}{'numerical':>14}{'backprop':>12}"
        f"{'ratio':>10}{'grad rel err':>14}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        mark = "*" if r["extrapolated"] else " "
        lines.append(
            f"{r[label]:>5}{r['N']:>10}{r['coords_timed']:>14}"
            f"{H.fmt_time(r['numerical_s']) + mark:>14}{H.fmt_time(r['backprop_s']):>12}"
            f"{r['speedup']:>10.0f}{r['grad_max_rel_err']:>14.1e}"
        )
    lines.append(
        "* extrapolated: time of the timed coordinates x N / coords timed "
        "(each coordinate costs 2 forwards of the same network); grad rel err: max |numerical"
        " - backprop| over the timed coordinates / the largest |entry| of the gradient"
    )
    for key, name in (("numerical_s", "numerical"), ("backprop_s", "backprop"),
                      ("speedup", "the ratio")):
        f = fits[key]
        tail = f", N >= {FIT_MIN_N:.0e}: {f['large N']:.2f}" if "large N" in f else ""
        lines.append(f"log-log slope of {name:<9}: all sizes {f['all']:.2f}{tail}")
    lines.append(EXPECT[family])
    return "\n".join(lines)


def slope(fits: dict, key: str) -> float:
    """The slope the README quotes: over N >= FIT_MIN_N when fitted, else over all sizes."""
    return fits[key].get("large N", fits[key]["all"])


def _scaling_plot(cfg: H.Config, scaling: dict) -> None:
    if not cfg.plots:
        return
    plt = H.pyplot()
    fig, axes = plt.subplots(1, len(FAMILIES), figsize=(10.0, 4.0), sharey=True)
    for ax, (family, (title, _)) in zip(axes, FAMILIES.items()):
        rows, fits = scaling[family]["rows"], scaling[family]["fits"]
        n = np.array([r["N"] for r in rows], float)
        for key, label, color, power in (
            ("numerical_s", "central differences (2N forwards)", "tab:red", 2),
            ("backprop_s", "backprop (forward + backward)", "tab:blue", 1),
        ):
            t = np.array([r[key] for r in rows])
            # a guide of the lecture's slope through the largest network's point
            ax.loglog(n, t[-1] * (n / n[-1]) ** power, ":", color="k", lw=0.8,
                      label="slopes 2 and 1 (guides)" if power == 2 else None)
            f = fits[key]
            large = f", {f['large N']:.2f} for N >= 1e4" if "large N" in f else ""
            ax.loglog(n, t, "-", color=color, label=f"{label}: slope {f['all']:.2f}{large}")
            ext = np.array([r["extrapolated"] for r in rows]) & (key == "numerical_s")
            ax.loglog(n[~ext], t[~ext], "o", color=color)
            if ext.any():
                ax.loglog(n[ext], t[ext], "o", mfc="white", color=color,
                          label="extrapolated from a subset of coordinates")
        ax.set_xlabel("parameters N")
        r = fits["speedup"]
        large = f", {r['large N']:.2f} for N >= 1e4" if "large N" in r else ""
        ax.set_title(f"{family}: {title}\nthe ratio of the two: slope {r['all']:.2f}{large}",
                     fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    keys = ("numerical_s", "backprop_s")
    times = [r[k] for f in FAMILIES for r in scaling[f]["rows"] for k in keys]
    axes[0].set_ylim(min(times) / 3000, max(times) * 3)  # room below the data for the legends
    axes[0].set_ylabel("seconds for one full gradient")
    fig.suptitle("Numerical differentiation vs backprop (tinygrad_edu, batch 1024, float64)",
                 fontsize=10)
    fig.tight_layout()
    H.save_fig(cfg, fig, "numdiff_vs_backprop")


def run_cheap_gradient(cfg: H.Config) -> dict:
    """time(forward + backward) / time(forward) for the training MLP and CNN (float32)."""
    out = {}
    for kind in ("mlp", "cnn"):
        if kind == "mlp":
            params, (x, y) = R.init_mlp(M.MLP_SIZES), R.batch("mlp", 128)
        else:
            params, (x, y) = R.init_cnn(), R.batch("cnn", 64)
        impls = M.implementations(kind, params, x, y, cfg.compare, ("autograd", "mygrad"))
        fns = {}
        for name, im in impls.items():
            fns[f"{name} forward"] = im.forward
            fns[f"{name} fwd+bwd"] = im.fwd_bwd
        timings = H.compare(fns, cfg, cfg.reps(20 if kind == "mlp" else 8, 3))
        ratios = {
            name: timings[f"{name} fwd+bwd"].median / timings[f"{name} forward"].median
            for name in impls
        }
        out[kind] = {"timings": {k: t.summary() for k, t in timings.items()}, "ratio": ratios}
    print(H.banner("cheap-gradient ratio: time(forward + backward) / time(forward), float32"))
    head = f"{'implementation':<28}{'MLP':>10}{'CNN':>10}"
    print(head + "\n" + "-" * len(head))
    for name in out["mlp"]["ratio"]:
        mlp = out["mlp"]["ratio"].get(name, float("nan"))
        cnn = out["cnn"]["ratio"].get(name, float("nan"))
        print(f"{name:<28}{mlp:>10.2f}{cnn:>10.2f}")
    print(
        "(forward = the loss with recording on; the ratio for a perfect reverse pass is "
        "about 3: the backward of a matmul is two matmuls)"
    )
    return out


def run(cfg: H.Config) -> dict:
    t0 = time.perf_counter()
    res = {"scaling": run_scaling(cfg), "cheap_gradient": run_cheap_gradient(cfg)}
    res["seconds"] = time.perf_counter() - t0
    H.write_json(cfg, "numdiff_vs_backprop", res)
    return res
