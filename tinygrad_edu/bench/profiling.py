"""Where the engine's time goes: a per-op cost ladder and cProfile of the chain and MLP step.

``python -m tinygrad_edu bench --only profile`` (not part of the default run). The ladder
times one 1-element multiply at each layer of the engine, so the cost of every layer is the
difference between two rows; the profiles list the functions with the most own time.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import timeit

import numpy as np

from . import harness as H
from . import models as M
from . import overhead
from . import reference_numpy as R


def _per_call(stmt, globs, number: int) -> float:
    """Best of 5 repeats, seconds per call (best: the ladder is about fixed costs)."""
    return min(timeit.repeat(stmt, globals=globs, number=number, repeat=5)) / number


def ladder(number: int = 20000) -> list[tuple[str, float]]:
    import tinygrad_edu as tg
    from tinygrad_edu import functional
    from tinygrad_edu.function import Context
    from tinygrad_edu.ops import elementwise as ew
    from tinygrad_edu.tensor import Tensor

    a = np.full((1,), 0.5, np.float32)
    c = tg.tensor(a)  # a constant: nothing recorded
    r = tg.tensor(a, requires_grad=True)
    g = {
        "np": np,
        "a": a,
        "c": c,
        "r": r,
        "Tensor": Tensor,
        "Context": Context,
        "Mul": ew.Mul,
        "ops": ops,
        "tg": tg,
    }
    rows = [
        ("NumPy a * 1.0001", "a * 1.0001"),
        ("Tensor._wrap(array)", "Tensor._wrap(a)"),
        ("Context(args, needs)", "Context((r, 1.0001), (True, False))"),
        ("Mul.apply, constant (no record)", "Mul.apply(c, 1.0001)"),
        ("Mul.apply, recorded", "Mul.apply(r, 1.0001)"),
        ("functional.mul, recorded", "functional.mul(r, 1.0001)"),
        ("x * 1.0001, recorded", "r * 1.0001"),
        ("x * 1.0001, under no_grad", "r * 1.0001"),
    ]
    out = []
    for label, stmt in rows:
        if "no_grad" in label:
            with tg.no_grad():
                out.append((label, _per_call(stmt, g, number)))
        else:
            out.append((label, _per_call(stmt, g, number)))
    # backward cost per record: a 1,000-multiply chain, forward subtracted
    x = tg.tensor(a, requires_grad=True)

    def chain():
        y = x
        for _ in range(1000):
            y = y * 1.0001
        return y

    def fwd_bwd():
        x.grad = None
        chain().sum().backward()

    g2 = {"chain": chain, "fwd_bwd": fwd_bwd}
    t_f = _per_call("chain()", g2, 20) / 1000
    t_fb = _per_call("fwd_bwd()", g2, 20) / 1000
    out.append(("chain of x * 1.0001: forward per op", t_f))
    out.append(("chain of x * 1.0001: backward per op", t_fb - t_f))
    return out


def _profile(fn, calls: int, top: int) -> str:
    for _ in range(3):
        fn()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text


def run(cfg: H.Config) -> dict:
    rows = ladder(2000 if cfg.quick else 20000)
    print(H.banner("per-op cost ladder (1-element float32; best of 5)"))
    for label, s in rows:
        print(f"{label:<42}{s * 1e6:>8.2f} us")
    fwd_bwd, _, _ = overhead.engine_chain(np.full((1,), 0.5, np.float32))
    print(H.banner("cProfile: per-op chain (2,100 ops + backward) x 10, by own time"))
    chain_prof = _profile(fwd_bwd, 10, 18)
    print(chain_prof)
    params, (x, y) = R.init_mlp(M.MLP_SIZES), R.batch("mlp", 128)
    mlp = M.engine_mlp(params, x, y)
    print(H.banner("cProfile: MLP step x 20, by own time"))
    mlp_prof = _profile(mlp.step, 20, 18)
    print(mlp_prof)
    res = {
        "ladder_us": {k: v * 1e6 for k, v in rows},
        "chain_profile": chain_prof,
        "mlp_profile": mlp_prof,
    }
    H.write_json(cfg, "profile", res)
    return res
