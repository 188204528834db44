"""Benchmark 1: numerical differentiation against backprop, and the cheap-gradient ratio.

The lecture's claim: a central-difference gradient costs 2N forwards, O(N)·O(forward) =
O(N²) for a network whose forward is O(N); backprop costs one forward and one reverse pass,
O(N). Tanh MLPs d-d-10 (batch 1024, float64, the engine's own forward under ``no_grad`` for the
finite differences) span N ~1e2..1e5 parameters. Coordinates are differentiated in random
order for a fixed time budget per size (4 s; 0.4 s with --quick); when that does not cover
all N, the full time is extrapolated linearly from the timed subset (every coordinate costs
two forwards of the same network), and the table marks the row.

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
FIT_MIN_N = 10_000  # the compute-bound range: fitted separately from all sizes
EPS = 1e-6


def _sizes(cfg: H.Config) -> list[int]:
    return [8, 128, 224] if cfg.quick else [8, 16, 32, 64, 128, 224, 320]


def _mlp(d: int, dtype=np.float64, seed: int = 0):
    import tinygrad_edu as tg

    params = R.init_mlp((d, d, 10), dtype, seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((BATCH, d)).astype(dtype)
    y = rng.integers(0, 10, BATCH)
    ps = [tg.tensor(a, requires_grad=True) for a in params]
    xt = tg.tensor(x)
    rows = np.arange(BATCH)

    def loss():
        h = (xt @ ps[0].T + ps[1]).tanh()  # smooth: no ReLU kink spoils a finite difference
        z = h @ ps[2].T + ps[3]
        return -(z.log_softmax(-1)[rows, y]).mean()

    return ps, loss, (params, x, y)


def numerical_grad(ps, loss, coords) -> np.ndarray:
    """Central differences at the (param index, flat index) pairs: 2 forwards each."""
    import tinygrad_edu as tg

    out = np.empty(len(coords))
    with tg.no_grad():
        for k, (i, j) in enumerate(coords):
            flat = ps[i].data.reshape(-1)
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
    n_each = [p.data.size for p in ps]
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


def run_scaling(cfg: H.Config) -> dict:
    budget_s = 0.4 if cfg.quick else 4.0  # seconds of finite differences timed per size
    rows = []
    for d in _sizes(cfg):
        ps, loss, _ = _mlp(d)
        n = sum(p.data.size for p in ps)
        numerical_grad(ps, loss, [(0, 0)] * 3)  # warm-up
        time.sleep(cfg.sleep)
        coords, num, t_num = timed_numerical_grad(ps, loss, budget_s, seed=d)
        t_full = t_num * n / len(coords)

        def backprop(ps=ps, loss=loss):
            for p in ps:
                p.grad = None
            loss().backward()

        t_bp = H.compare({"backprop": backprop}, cfg, cfg.reps(15, 5))["backprop"]
        # agreement on the timed coordinates (float64, central differences)
        backprop()
        exact = np.array([ps[i].grad.data.reshape(-1)[j] for i, j in coords])
        err = float(np.abs(num - exact).max() / max(np.abs(exact).max(), 1e-30))
        rows.append(
            {
                "d": d,
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
        )
    fits = _fits(rows)
    print(H.banner("numerical differentiation vs backprop (tanh MLP d-d-10, batch 1024, float64)"))
    print(_scaling_table(rows, fits))
    _scaling_plot(cfg, rows, fits)
    return {"rows": rows, "fits": fits, "eps": EPS, "batch": BATCH}


def _fits(rows) -> dict:
    n = np.array([r["N"] for r in rows], float)
    fits = {}
    for key in ("numerical_s", "backprop_s"):
        t = np.array([r[key] for r in rows])
        fits[key] = {"all": float(np.polyfit(np.log(n), np.log(t), 1)[0])}
        big = n >= FIT_MIN_N
        if big.sum() >= 2:
            fits[key]["compute-bound"] = float(np.polyfit(np.log(n[big]), np.log(t[big]), 1)[0])
    return fits


def _scaling_table(rows, fits) -> str:
    head = (
        f"{'N params':>10}{'coords timed':>14}{'numerical':>14}{'backprop':>12}"
        f"{'ratio':>10}{'grad rel err':>14}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        mark = "*" if r["extrapolated"] else " "
        lines.append(
            f"{r['N']:>10}{r['coords_timed']:>14}{H.fmt_time(r['numerical_s']) + mark:>14}"
            f"{H.fmt_time(r['backprop_s']):>12}{r['speedup']:>10.0f}{r['grad_max_rel_err']:>14.1e}"
        )
    lines.append(
        "* extrapolated: time of the timed coordinates x N / coords timed "
        "(each coordinate costs 2 forwards of the same network)"
    )
    for key, label in (("numerical_s", "numerical"), ("backprop_s", "backprop")):
        f = fits[key]
        tail = f", N >= {FIT_MIN_N:.0e}: {f['compute-bound']:.2f}" if "compute-bound" in f else ""
        lines.append(f"log-log slope of {label:<9}: all sizes {f['all']:.2f}{tail}")
    lines.append(
        f"(expected ~2 and ~1 where the forward is compute-bound, N >= {FIT_MIN_N:.0e}; at "
        "small N the per-op overhead is a constant, which flattens both slopes)"
    )
    return "\n".join(lines)


def _scaling_plot(cfg: H.Config, rows, fits) -> None:
    if not cfg.plots:
        return
    plt = H.pyplot()
    n = np.array([r["N"] for r in rows], float)
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    for key, label, color in (
        ("numerical_s", "central differences (2N forwards)", "tab:red"),
        ("backprop_s", "backprop (forward + backward)", "tab:blue"),
    ):
        t = np.array([r[key] for r in rows])
        f = fits[key]
        slope = f.get("compute-bound", f["all"])
        where = f" for N >= {FIT_MIN_N:.0e}" if "compute-bound" in f else ""
        ax.loglog(n, t, "-", color=color, label=f"{label}: slope {slope:.2f}{where}")
        ext = np.array([r["extrapolated"] for r in rows]) & (key == "numerical_s")
        ax.loglog(n[~ext], t[~ext], "o", color=color)
        if ext.any():
            ax.loglog(
                n[ext],
                t[ext],
                "o",
                mfc="white",
                color=color,
                label="extrapolated from a subset of coordinates",
            )
    ax.set_xlabel("parameters N")
    ax.set_ylabel("seconds for one full gradient")
    ax.set_title("Numerical differentiation vs backprop (MLP, tinygrad_edu)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
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
