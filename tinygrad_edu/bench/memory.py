"""Benchmark 5: peak memory of one steady-state MLP training step (tracemalloc).

NumPy reports its data buffers to tracemalloc, so the traced memory is NumPy buffers plus
the (small) Python objects. Each implementation is built and warmed up (two steps) *before*
tracing starts, so imports, parameters and the input batch are not counted; then one step is
traced:

- peak: the most memory the step's own allocations held at once (activations, gradients,
  temporaries): the number compared with the hand-written step;
- retained: what the step allocated and still holds after it (the engine, like PyTorch,
  keeps ``.grad`` until the next ``zero_grad``; the hand-written step keeps nothing).

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
    """Build and warm up an implementation, then trace one step."""
    impl = make()
    for _ in range(warmup):
        impl.step()
    gc.collect()
    tracemalloc.start()
    try:
        impl.step()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"name": impl.name, "peak_bytes": peak, "retained_bytes": retained}


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
    engine = next(n for n in rows if n.startswith("tinygrad_edu"))
    title = "peak memory of one MLP step (784-512-256-10, batch 128, float32), tracemalloc"
    print(H.banner(title))
    weights = sum(p.nbytes for p in params)
    head = f"{'implementation':<26}{'peak':>12}{'x hand':>9}{'retained':>12}"
    lines = [head, "-" * len(head)]
    for n, r in rows.items():
        lines.append(
            f"{n:<26}{_mb(r['peak_bytes']):>12}{r['peak_bytes'] / ref:>8.2f}x"
            f"{_mb(r['retained_bytes']):>12}"
        )
    lines.append(
        f"(allocations of one steady-state step; parameters ({_mb(weights)}) and the batch "
        "are not counted; retained = still held after the step, e.g. .grad)"
    )
    print("\n".join(lines))
    out = {
        "rows": rows,
        "param_bytes": weights,
        "engine_over_hand": rows[engine]["peak_bytes"] / ref,
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
    peak = np.array([rows[n]["peak_bytes"] for n in names]) / 1e6
    kept = np.array([rows[n]["retained_bytes"] for n in names]) / 1e6
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(names), 3.6))
    ax.bar(names, peak, label="peak during the step", color="tab:blue")
    ax.bar(names, kept, label="retained after the step", color="tab:gray")
    ax.set_ylabel("MB (tracemalloc)")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    H.save_fig(cfg, fig, "peak_memory")
