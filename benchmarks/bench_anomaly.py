"""What anomaly mode costs: the same workloads with ``tg.detect_anomaly()`` off and on.

Workloads (forward + backward each time):
  chain 1 elem   1,000 x ``x = x * 1.0001 + 0.0001`` on a 1-element tensor: pure bookkeeping
  chain 100x100  the same chain on a 100x100 tensor: bookkeeping plus real NumPy work
  mlp step       a 784-128-10 MLP training step (batch 64): matmul, relu, log_softmax, SGD

Off, the engine pays one thread-local attribute read per op (``_state.anomaly`` in
``Function.apply``); the last row times exactly that read, in isolation, against the per-op cost.
On, every forward output and every gradient is scanned for NaN/inf and each record looks up
the user's source line (a walk up the Python stack).

Off and on runs alternate, and each keeps its best time, so load drifting on a shared machine
hits both alike. BLAS runs on one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set
(idle BLAS threads spinning on a busy 2-core box made single matmuls 20x slower at random).

    python benchmarks/bench_anomaly.py            # prints a table, writes results/anomaly.json
    python benchmarks/bench_anomaly.py --quick    # fewer repeats
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import timeit

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy is imported

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tinygrad_edu as tg
from tinygrad_edu import grad_mode as _grad_mode

N_CHAIN = 1000
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "anomaly.json")


def chain_step(shape):
    x = tg.tensor(np.full(shape, 0.5, np.float32), requires_grad=True)

    def step():
        y = x
        for _ in range(N_CHAIN):
            y = y * 1.0001 + 0.0001
        x.grad = None
        y.sum().backward()

    return step, 2 * N_CHAIN + 1  # recorded ops per step


def mlp_step(batch=64):
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in ((784, 128), (128, 10)):
        bound = 1 / np.sqrt(fan_in)
        params.append(
            tg.tensor(
                rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32), requires_grad=True
            )
        )
        params.append(tg.zeros(fan_out, requires_grad=True))
    x = tg.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = rng.integers(0, 10, batch)
    rows = np.arange(batch)

    def step():
        w1, b1, w2, b2 = params
        logits = (x @ w1.T + b1).relu() @ w2.T + b2
        loss = -logits.log_softmax(-1)[rows, y].mean()
        loss.backward()
        with tg.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    return step, 14  # recorded ops per step (forward)


def seconds_per_call(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def off_and_on(fn, repeats: int, number: int) -> tuple[float, float]:
    """Seconds per call with anomaly mode off and on: alternating runs, best of each."""
    fn()  # warm up
    off = on = float("inf")
    for _ in range(repeats):
        off = min(off, seconds_per_call(fn, number))
        with tg.detect_anomaly():
            on = min(on, seconds_per_call(fn, number))
    return off, on


def off_mode_check_cost() -> float:
    """Seconds for the ``_modes.anomaly`` read one op pays when anomaly mode is off."""
    state = _grad_mode._modes
    n = 1_000_000
    t = min(timeit.repeat("if s.anomaly: pass", globals={"s": state}, number=n, repeat=5))
    empty = min(timeit.repeat("pass", number=n, repeat=5))
    return max(t - empty, 0.0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (noisier)")
    args = ap.parse_args()
    repeats = 3 if args.quick else 7

    workloads = [
        ("chain 1 elem", *chain_step((1,)), 3),
        ("chain 100x100", *chain_step((100, 100)), 2),
        ("mlp step", *mlp_step(), 20),
    ]
    rows = []
    for name, step, n_ops, number in workloads:
        off, on = off_and_on(step, repeats, number)
        rows.append(
            {
                "workload": name,
                "ops_per_step": n_ops,
                "off_ms": off * 1e3,
                "on_ms": on * 1e3,
                "on_over_off": on / off,
                "off_us_per_op": off / n_ops * 1e6,
                "on_us_per_op": on / n_ops * 1e6,
            }
        )
    check = off_mode_check_cost()
    per_op_off = rows[0]["off_us_per_op"] * 1e-6

    print(f"anomaly mode off vs on (best of {repeats}; forward + backward per step)\n")
    print(
        f"{'workload':<15}{'off ms':>10}{'on ms':>10}{'on/off':>9}{'off us/op':>11}{'on us/op':>10}"
    )
    for r in rows:
        print(
            f"{r['workload']:<15}{r['off_ms']:>10.2f}{r['on_ms']:>10.2f}{r['on_over_off']:>8.2f}x"
            f"{r['off_us_per_op']:>11.2f}{r['on_us_per_op']:>10.2f}"
        )
    print(
        f"\noff-mode checks: {check * 1e9:.0f} ns per op = {check / per_op_off:.1%} of the "
        f"cheapest op ({per_op_off * 1e6:.2f} us, chain 1 elem)"
    )

    result = {
        "benchmark": "anomaly mode off vs on",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "repeats": repeats,
        "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "rows": rows,
        "off_mode_check_ns_per_op": check * 1e9,
        "off_mode_check_fraction_of_cheapest_op": check / per_op_off,
    }
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nwrote {os.path.relpath(RESULTS)}")


if __name__ == "__main__":
    main()
