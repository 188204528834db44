"""Benchmark 5: peak memory of one steady-state MLP training step (tracemalloc).

NumPy reports its data buffers to tracemalloc, so the traced peak is NumPy buffers plus the
(small) Python objects. Each implementation is built *after* tracing starts, so what it holds
across steps (parameters, ``.grad`` buffers, optimizer state) is counted, then two warm-up
steps run and the peak of the third is read:

- peak: the largest traced total during the step (persistent state + the step's temporaries);
- transient: that peak minus what was live just before the step.

PyTorch allocates outside Python's allocator, so tracemalloc cannot see it: no torch column.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from . import harness as H
from . import models as M
from . import reference_numpy as R

HAND = "hand NumPy"


def measure(make, warmup: int = 2) -> dict:
    """Build an implementation under tracemalloc, warm it up, trace one step."""
    gc.collect()
    tracemalloc.start()
    try:
        impl = make()
        for _ in range(warmup):
            impl.step()
        gc.collect()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        impl.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "name": impl.name,
        "peak_bytes": peak,
        "transient_bytes": peak - before,
        "held_bytes": before,
    }


def run(cfg: H.Config) -> dict:
    params, (x, y) = R.init_mlp(M.MLP_SIZES, np.float32, cfg.seed), R.batch("mlp", 128)
    makers = {
        "tinygrad_edu": lambda: M.engine_mlp(params, x, y),
        HAND: lambda: M.hand_mlp(params, x, y),
    }
    if cfg.compare:
        for name, maker in (("autograd", M.autograd_mlp), ("mygrad", M.mygrad_mlp)):
            mod = H.optional(name)
            if mod is not None:
                makers[name] = lambda m=mod, f=maker: f(params, x, y, m)
    rows = {}
    for make in makers.values():
        r = measure(make)
        rows[r.pop("name")] = r
    ref = rows[HAND]["peak_bytes"]
    title = "peak memory of one MLP step (784-512-256-10, batch 128, float32), tracemalloc"
    print(H.banner(title))
    weights = sum(p.nbytes for p in params)
    head = f"{'implementation':<26}{'peak':>12}{'x hand':>9}{'transient':>12}{'held':>12}"
    lines = [head, "-" * len(head)]
    for n, r in rows.items():
        lines.append(
            f"{n:<26}{_mb(r['peak_bytes']):>12}{r['peak_bytes'] / ref:>8.2f}x"
            f"{_mb(r['transient_bytes']):>12}{_mb(r['held_bytes']):>12}"
        )
    lines.append(
        f"(parameters alone: {_mb(weights)}; held = live before the step: parameters, "
        "gradients, optimizer state)"
    )
    print("\n".join(lines))
    out = {
        "rows": rows,
        "param_bytes": weights,
        "engine_over_hand": rows[next(n for n in rows if n.startswith("tinygrad_edu"))][
            "peak_bytes"
        ]
        / ref,
    }
    _plot(cfg, rows, title)
    H.write_json(cfg, "peak_memory", out)
    return out


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def _plot(cfg: H.Config, rows: dict, title: str) -> None:
    if not cfg.plots:
        return
    plt = H.pyplot()
    names = list(rows)
    held = np.array([rows[n]["held_bytes"] for n in names]) / 1e6
    trans = np.array([rows[n]["transient_bytes"] for n in names]) / 1e6
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(names), 3.6))
    ax.bar(names, held, label="held between steps", color="tab:gray")
    ax.bar(names, trans, bottom=held, label="temporaries at the peak", color="tab:blue")
    ax.set_ylabel("MB (tracemalloc)")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    H.save_fig(cfg, fig, "peak_memory")
