"""Engine vs hand-written NumPy, step by step: a steadier ratio on a machine whose speed drifts.

The main benchmarks time each implementation in its own block (the issue's rule: with more than
one BLAS thread, OpenBLAS workers spin after a call and steal a core from whatever runs next,
so calls must never be interleaved). With ONE BLAS thread nothing spins, and interleaving the
two implementations step by step (A B, then B A, ...) puts every engine step next to a
reference step run a few milliseconds apart: the machine's drift cancels in each pair. On this
VM the block ratios' p25..p75 spanned +-10-20%; these spanned +-3-5% (between two runs the
median still moved by up to 4%).

    python benchmarks/interleaved.py                  # MLP and CNN training steps, inference
    python benchmarks/interleaved.py --steps 200       # fewer pairs (default 400 MLP, 150 CNN)

Prints a table and writes ``benchmarks/results/interleaved.json``. Sets one BLAS thread
(threadpoolctl) and pins malloc, as ``python -m tinygrad_edu bench --threads 1`` does.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

from tinygrad_edu.bench import harness as H, models as M, reference_numpy as R


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
    if kind == "mlp":
        params = R.init_mlp((784, 512, 256, 10))
        x, y = R.batch("mlp", 128)
        eng, hand = M.engine_mlp([p.copy() for p in params], x, y), M.hand_mlp(params, x, y)
    else:
        params = R.init_cnn()
        x, y = R.batch("cnn", 64)
        eng, hand = M.engine_cnn([p.copy() for p in params], x, y), M.hand_cnn(params, x, y)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None, help="pairs per measurement")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args(argv)
    H.limit_threads(1)
    pinned = H.pin_malloc()
    print(H.format_environment(H.environment()))
    print(f"malloc pinned: {pinned}; one BLAS thread; pairs alternate their order")
    rows = []
    for kind, what in (("mlp", "step"), ("cnn", "step"), ("mlp", "infer"), ("cnn", "infer")):
        n = args.steps or (400 if kind == "mlp" else 150)
        rows.append(measure(kind, what, n))
        row = rows[-1]
        print(
            f"{kind.upper():4s} {'training step' if what == 'step' else 'no_grad inference':18s}"
            f" engine / hand NumPy = {row['ratio_median']:.3f}x  "
            f"(p25..p75 {row['ratio_p25']:.3f}..{row['ratio_p75']:.3f}, {n} pairs)"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "interleaved.json").write_text(json.dumps({"results": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
