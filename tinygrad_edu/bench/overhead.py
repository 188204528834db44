"""Benchmark 4: per-op overhead, and the cost of anomaly mode.

A chain of 2,100 elementwise ops (1,000 x ``x = x*1.0001 + 0.0001``, a ``tanh`` after every
10th), then ``sum`` and ``backward``, on a 1-element tensor (pure bookkeeping: the NumPy work
is ~1 us an op) and on a 100x100 tensor; microseconds per op, forward + backward.

Anomaly mode (``tg.detect_anomaly``) checks every forward output and gradient for NaN/inf and
remembers each op's source line: its cost is measured on the same chain and on the MLP step.
"""

from __future__ import annotations

import numpy as np

from . import harness as H
from . import models as M
from . import reference_numpy as R

N_ITER = 1000
N_OPS = 2 * N_ITER + N_ITER // 10  # 2,100 recorded ops (+ sum)
HAND = "hand NumPy"


def _chain(x, tanh):
    for i in range(N_ITER):
        x = x * 1.0001 + 0.0001
        if i % 10 == 9:
            x = tanh(x)
    return x


def engine_chain(x0: np.ndarray):
    import tinygrad_edu as tg

    x = tg.tensor(x0, requires_grad=True)
    tanh = tg.tanh

    def fwd_bwd():
        x.grad = None
        _chain(x, tanh).sum().backward()
        return x.grad

    def forward():
        return _chain(x, tanh).sum()

    def no_grad():
        with tg.no_grad():
            return _chain(x, tanh).sum()

    return fwd_bwd, forward, no_grad


def torch_chain(x0, torch):
    x = torch.tensor(x0, requires_grad=True)

    def fwd_bwd():
        x.grad = None
        _chain(x, torch.tanh).sum().backward()
        return x.grad

    return fwd_bwd


def autograd_chain(x0, autograd):
    g = autograd.grad(lambda x: autograd.numpy.sum(_chain(x, autograd.numpy.tanh)))
    return lambda: g(x0)


def mygrad_chain(x0, mg):
    x = mg.tensor(x0)

    def fwd_bwd():
        _chain(x, mg.tanh).sum().backward()
        return x.grad

    return fwd_bwd


def check_chain(x0) -> float:
    """The engine's chain gradient against the hand-written one (max relative error)."""
    fwd_bwd, _, _ = engine_chain(x0)
    got = fwd_bwd()._data
    want = R.chain_forward_backward(x0, N_ITER)
    return float(np.abs(got - want).max() / np.abs(want).max())


def run_chain(cfg: H.Config) -> dict:
    out = {}
    for shape in ((1,), (100, 100)):
        x0 = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        err = check_chain(x0)
        if not err <= 1e-4:
            raise AssertionError(f"bench: chain gradient differs from hand NumPy: {err:.1e}")
        fwd_bwd, forward, no_grad = engine_chain(x0)
        fns = {
            "tinygrad_edu": fwd_bwd,
            "tinygrad_edu forward only": forward,
            "tinygrad_edu no_grad fwd": no_grad,
            HAND: lambda x0=x0: R.chain_forward_backward(x0, N_ITER),
        }
        if cfg.compare:
            for name, maker, label in (
                ("torch", torch_chain, "PyTorch"),
                ("autograd", autograd_chain, "HIPS autograd"),
                ("mygrad", mygrad_chain, "MyGrad"),
            ):
                mod = H.optional(name)
                if mod is not None:
                    fns[label] = maker(x0, mod)
        title = (
            f"per-op overhead: {N_OPS} elementwise ops + sum + backward on a "
            f"{'x'.join(map(str, shape))} float32 tensor"
        )
        print(H.banner(title))
        timings = H.compare(fns, cfg, cfg.reps(15, 3))
        print(H.timing_table(timings, HAND, per=N_OPS, unit="us"))
        key = "1" if shape == (1,) else "100x100"
        out[key] = {
            "timings": {n: t.summary() for n, t in timings.items()},
            "us_per_op": {n: t.median / N_OPS * 1e6 for n, t in timings.items()},
            "grad_max_rel_err": err,
        }
        H.bar_plot(
            cfg, f"per_op_overhead_{key}", title, timings, HAND, scale=1e6 / N_OPS, unit="us per op"
        )
    return out


def run_anomaly(cfg: H.Config) -> dict:
    """detect_anomaly off vs on: the per-op chain (1 element) and the MLP step."""
    import tinygrad_edu as tg

    x0 = np.full((1,), 0.5, np.float32)
    fwd_bwd, _, _ = engine_chain(x0)
    params, (x, y) = R.init_mlp(M.MLP_SIZES), R.batch("mlp", 128)
    mlp = M.engine_mlp(params, x, y)

    def on(fn):
        def wrapped():
            with tg.detect_anomaly():
                return fn()

        return wrapped

    out = {}
    for label, fn, reps, per in (
        ("chain 1-element", fwd_bwd, cfg.reps(15, 3), N_OPS),
        ("MLP step", mlp.step, cfg.reps(20, 5), 1),
    ):
        timings = H.compare({"anomaly off": fn, "anomaly on": on(fn)}, cfg, reps)
        title = f"detect_anomaly off vs on: {label}"
        print(H.banner(title))
        if per > 1:
            print(H.timing_table(timings, "anomaly off", per=per, unit="us"))
        else:
            print(H.timing_table(timings, "anomaly off"))
        out[label] = {
            "timings": {n: t.summary() for n, t in timings.items()},
            "on_over_off": timings["anomaly on"].median / timings["anomaly off"].median,
        }
    H.write_json(cfg, "anomaly_mode", out)
    return out


def run(cfg: H.Config) -> dict:
    res = {"chain": run_chain(cfg), "n_ops": N_OPS}
    H.write_json(cfg, "per_op_overhead", res)
    return res
