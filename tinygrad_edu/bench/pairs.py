"""Benchmark ``pairs``: engine vs hand-written NumPy, step by step, on one BLAS thread.

The block benchmarks time each implementation in its own block (the issue's rule: with more
than one BLAS thread, OpenBLAS workers spin after a call and steal a core from whatever runs
next, so calls must never be interleaved). With ONE BLAS thread nothing spins, and the engine
and the hand-written reference use the same NumPy and the same BLAS: interleaving them step by
step (A B, then B A, ...) puts every engine step next to a reference step run milliseconds
apart, so the machine's drift cancels in each pair. On this shared VM the block ratios'
p25..p75 spanned +-10-20% (single blocks swung 2x when a neighbour got busy); the pairs'
spanned +-3-5%. PyTorch is never timed here (its thread pool is the reason for the blocks).

Measured: the MLP and CNN training steps and their ``no_grad`` inference (400 pairs for the
MLP, 150 for the CNN; 2 each with ``--quick``), and the engine's cheap-gradient ratio
time(forward + backward) / time(forward), its forward and its forward + backward alternating
(the same drift cancels). Also ``python benchmarks/interleaved.py``.
"""

from __future__ import annotations

import gc
import time

import numpy as np

from . import harness as H
from . import models as M
from . import reference_numpy as R

CASES = (
    ("mlp", "step"), ("cnn", "step"), ("mlp", "infer"), ("cnn", "infer"),
    ("mlp", "cheap"), ("cnn", "cheap"),
)


LABELS = {
    "step": ("training step", "engine / hand NumPy"),
    "infer": ("no_grad inference", "engine / hand NumPy"),
    "cheap": ("cheap gradient", "engine fwd+bwd / engine fwd"),
}


def pairs(engine, hand, n: int) -> np.ndarray:
    """Per-pair time ratios engine / hand over ``n`` pairs, the order alternating."""
    ratios = np.empty(n)
    clock = time.perf_counter
    for i in range(n):
        first, second = (engine, hand) if i % 2 else (hand, engine)
        t0 = clock()
        first()
        t1 = clock()
        second()
        t2 = clock()
        te, th = (t1 - t0, t2 - t1) if first is engine else (t2 - t1, t1 - t0)
        ratios[i] = te / th
    return ratios


def measure(kind: str, what: str, n: int) -> dict:
    """Engine / hand ratios of one model's training step (``what='step'``) or inference
    (``'infer'``); or (``'cheap'``) the engine's forward + backward / its forward."""
    gc.collect()  # the previous case's garbage goes before this one allocates
    if kind == "mlp":
        params = R.init_mlp((784, 512, 256, 10))
        x, y = R.batch("mlp", 128)
        eng, hand = M.engine_mlp([p.copy() for p in params], x, y), M.hand_mlp(params, x, y)
    else:
        params = R.init_cnn()
        x, y = R.batch("cnn", 64)
        eng, hand = M.engine_cnn([p.copy() for p in params], x, y), M.hand_cnn(params, x, y)
    if what == "cheap":  # (forward: the loss with recording on; fwd_bwd adds its backward)
        fe, fh = eng.fwd_bwd, eng.forward
    else:
        fe, fh = getattr(eng, what), getattr(hand, what)
    for _ in range(10):  # warm-up: caches, malloc, BLAS buffers
        fe()
        fh()
    gc.collect()
    gc.freeze()  # the collector does not walk set-up objects during the timed pairs
    try:
        r = pairs(fe, fh, n)
    finally:
        gc.unfreeze()
    return {
        "model": kind,
        "what": what,
        "pairs": n,
        "ratio_median": float(np.median(r)),
        "ratio_p25": float(np.percentile(r, 25)),
        "ratio_p75": float(np.percentile(r, 75)),
    }


def run(cfg: H.Config, steps: int | None = None) -> dict:
    """All four cases on one BLAS thread (the caller's thread limits are restored after)."""
    from threadpoolctl import threadpool_limits

    print(H.banner("alternating step pairs, one BLAS thread (engine / hand NumPy, ...)"))
    rows = []
    with threadpool_limits(limits=1):
        for kind, what in CASES:
            n = steps or (2 if cfg.quick else 400 if kind == "mlp" else 150)
            row = measure(kind, what, n)
            rows.append(row)
            label, ratio = LABELS[what]
            print(
                f"{kind.upper():4s} {label:18s} {ratio} = {row['ratio_median']:.3f}x  "
                f"(p25..p75 {row['ratio_p25']:.3f}..{row['ratio_p75']:.3f}, {n} pairs)"
            )
    H.write_json(cfg, "pairs", {"results": rows})
    return {"results": rows}


def ratio(results: dict, kind: str, what: str) -> dict | None:
    """The row of one case in ``run``'s results (None if it was not measured)."""
    return next(
        (r for r in results["results"] if r["model"] == kind and r["what"] == what), None
    )
