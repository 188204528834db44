"""Benchmark ``pairs``: engine vs hand-written NumPy, step by step, on one BLAS thread.

The block benchmarks time each implementation in its own block (the issue's rule: with more
than one BLAS thread, OpenBLAS workers spin after a call and steal a core from whatever runs
next, so calls must never be interleaved). With ONE BLAS thread nothing spins, and the engine
and the hand-written reference use the same NumPy and the same BLAS: interleaving them step by
step (A B, then B A, ...) puts every engine step next to a reference step run milliseconds
apart, so the machine's drift cancels in each pair. On this shared VM the block ratios'
p25..p75 spanned +-10-20% (single blocks swung 2x when a neighbour got busy); the pairs'
spanned +-3-5%. PyTorch, when installed, is paired only on one thread of its own
(``torch.set_num_threads(1)``: its work then runs inline, and no pool is left to spin).

Measured: the MLP and CNN training steps and their ``no_grad`` inference (400 pairs for the
MLP, 150 for the CNN; 2 each with ``--quick``), and the engine's cheap-gradient ratio
time(forward + backward) / time(forward), its forward and its forward + backward alternating
(the same drift cancels). With PyTorch also the per-op chain against PyTorch's (100 pairs of
whole chains): the per-op target's microseconds move with the machine's speed from run to
run, its ratio to PyTorch measured side by side does not. Also
``python benchmarks/interleaved.py``.

Each case runs in a fresh Python process (engine and reference side by side in it), as a
training script or an inference server runs one model: what ran earlier in a process moves
these ratios. Measured in one process: the CNN's inference pairs came out at 0.97-0.99x in a
fresh process (six random heap offsets) and at 1.06x after the CNN training-step pairs, and
1.19x after the block benchmarks of the MLP and CNN (PyTorch, MyGrad and autograd included);
the CNN step 1.07x fresh, 1.10-1.13x after those. The cause is not pinned (the step leaves a
heap of freed buffers, and the engine's forward allocates more of its temporaries than the
hand-written one: my guess), so a case no longer inherits the previous one's heap. Fresh
processes differ too (the MLP step's median 1.052-1.062x over six of them in a row, with the
same code): each case runs in ``PROCESSES`` of them (one with ``--quick``), and its row pools
their pairs and lists each process's median.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import harness as H
from . import models as M
from . import reference_numpy as R

CASES = (
    ("mlp", "step"), ("cnn", "step"), ("mlp", "infer"), ("cnn", "infer"),
    ("mlp", "cheap"), ("cnn", "cheap"), ("mlp", "gemms"), ("mlp", "layout"),
)
# with PyTorch installed (and --compare): it runs on one thread too, so nothing spins
# ("chain", "torch"): the per-op chain (2,100 ops on 1 element, then backward), whole chains
# alternating, so its ratio to PyTorch is free of the drift that moves the blocks' microseconds
TORCH_CASES = (("mlp", "torch"), ("cnn", "torch"), ("mlp", "torch-gemms"), ("chain", "torch"))
CHAIN_PAIRS = 100  # chains of ~25 ms each
# fresh processes per case: the median pair ratio moves from one fresh process to the next by
# more than within one (the same code, minutes apart: the MLP step 1.052-1.062x in six
# processes, 1.039x and 1.070x in two full runs), so each case pools the pairs of several
PROCESSES = 3


LABELS = {
    "step": ("training step", "engine / hand NumPy"),
    "infer": ("no_grad inference", "engine / hand NumPy"),
    "cheap": ("cheap gradient", "engine fwd+bwd / engine fwd"),
    "torch": ("training step", "engine / PyTorch"),
    "gemms": ("GEMMs alone", "NumPy's 8 GEMMs / hand step"),
    "torch-gemms": ("GEMMs alone", "PyTorch's / NumPy's"),
    "layout": ("(features, batch)", "hand step so / hand step"),
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
    (``'infer'``); or (``'cheap'``) the engine's forward + backward / its forward; or the
    engine's step / PyTorch's (``'torch'``, PyTorch on one thread). MLP only: the step's GEMMs
    alone through NumPy / the hand step (``'gemms'``), PyTorch's GEMMs / NumPy's
    (``'torch-gemms'``), the hand step with (features, batch) activations / the plain one
    (``'layout'``)."""
    gc.collect()  # the previous case's garbage goes before this one allocates
    if kind == "chain":  # the per-op chain against PyTorch's (what='torch' only)
        return _measure_chain(what, n)
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
    elif what in ("torch", "torch-gemms"):
        import torch

        torch.set_num_threads(1)  # inline in this thread: no pool to spin
        if what == "torch":
            make = M.torch_mlp if kind == "mlp" else M.torch_cnn
            fe, fh = eng.step, make(params, x, y, torch).step
        else:
            floors = M.mlp_gemm_floors(params, x, y, torch)
            fe, fh = floors["GEMMs alone, PyTorch"], floors["GEMMs alone, NumPy"]
    elif what == "gemms":
        fe, fh = M.mlp_gemm_floors(params, x, y)["GEMMs alone, NumPy"], hand.step
    elif what == "layout":
        fe, fh = M.hand_mlp_feature_major(params, x, y), hand.step
    else:
        fe, fh = getattr(eng, what), getattr(hand, what)
    return _row(kind, what, fe, fh, n, warm=10)


def _row(kind: str, what: str, fe, fh, n: int, warm: int) -> dict:
    """Warm both up, then time ``n`` pairs: the case's row."""
    for _ in range(warm):  # warm-up: caches, malloc, BLAS buffers
        fe()
        fh()
    gc.collect()
    gc.freeze()  # the collector does not walk set-up objects during the timed pairs
    try:
        r = pairs(fe, fh, n)
    finally:
        gc.unfreeze()
    return {"model": kind, "what": what, "pairs": n, **_quantiles(r), "ratios": r.tolist()}


def _quantiles(r) -> dict:
    return {
        "ratio_median": float(np.median(r)),
        "ratio_p25": float(np.percentile(r, 25)),
        "ratio_p75": float(np.percentile(r, 75)),
    }


def combine(rows: list[dict]) -> dict:
    """One case's row from the rows of its processes: quantiles of all their pair ratios
    pooled, and each process's median beside them (the raw ratios are dropped)."""
    pooled = np.concatenate([np.asarray(r["ratios"], float) for r in rows])
    return {
        "model": rows[0]["model"],
        "what": rows[0]["what"],
        "pairs": rows[0]["pairs"],
        "processes": len(rows),
        **_quantiles(pooled),
        "process_medians": [r["ratio_median"] for r in rows],
        "pids": [r["pid"] for r in rows],
    }


def _measure_chain(what: str, n: int) -> dict:
    """Engine / PyTorch on the per-op chain (1 element, forward + backward), whole chains
    alternating; PyTorch on one thread."""
    if what != "torch":
        raise ValueError(f"pairs: the chain is paired only with PyTorch, not {what!r}")
    import torch

    from . import overhead

    torch.set_num_threads(1)
    x0 = np.random.default_rng(0).uniform(-1, 1, (1,)).astype(np.float32)
    fe, fh = overhead.engine_chain(x0)[0], overhead.torch_chain(x0, torch)
    return _row("chain", what, fe, fh, n, warm=3)


def measure_fresh(kind: str, what: str, n: int) -> dict:
    """``measure`` in a fresh Python process on one BLAS thread (malloc pinned there when it
    is pinned here); raises with the child's error output if it fails."""
    root = str(Path(__file__).resolve().parents[2])  # the directory holding tinygrad_edu
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    pin = H._MALLOC_STATE["pinned"]
    code = f"from tinygrad_edu.bench.pairs import _child; _child({kind!r}, {what!r}, {n}, {pin})"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"pairs: the process measuring {kind} {what} failed (exit {done.returncode}):\n"
            + done.stderr[-2000:]
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(kind: str, what: str, n: int, pin: bool) -> None:
    """The body of ``measure_fresh``'s process: one case, its row as JSON on stdout."""
    from threadpoolctl import threadpool_limits

    if pin:
        H.pin_malloc()
    with threadpool_limits(limits=1):
        row = measure(kind, what, n)
    print(json.dumps({**row, "pid": os.getpid()}))


def run(cfg: H.Config, steps: int | None = None) -> dict:
    """Every case, each in a fresh process on one BLAS thread (this process's thread limits
    are not touched); PyTorch's with ``cfg.compare`` when it is installed."""
    print(H.banner("alternating step pairs, one BLAS thread, fresh processes per case"))
    rows = []
    cases = CASES
    if cfg.compare and importlib.util.find_spec("torch") is not None:
        cases += TORCH_CASES
    for kind, what in cases:
        n = steps or (2 if cfg.quick else {"mlp": 400, "chain": CHAIN_PAIRS}.get(kind, 150))
        procs = 1 if cfg.quick else PROCESSES
        row = combine([measure_fresh(kind, what, n) for _ in range(procs)])
        rows.append(row)
        label, ratio = LABELS[what]
        if kind == "chain":
            label = "per-op chain"
        each = " ".join(f"{m:.3f}x" for m in row["process_medians"])
        print(
            f"{kind.upper():4s} {label:18s} {ratio} = {row['ratio_median']:.3f}x  "
            f"(p25..p75 {row['ratio_p25']:.3f}..{row['ratio_p75']:.3f}, {procs} x {n} pairs; "
            f"per process {each})"
        )
    H.write_json(cfg, "pairs", {"results": rows})
    return {"results": rows}


def ratio(results: dict, kind: str, what: str) -> dict | None:
    """The row of one case in ``run``'s results (None if it was not measured)."""
    return next(
        (r for r in results["results"] if r["model"] == kind and r["what"] == what), None
    )
