"""Bookkeeping in instructions, not milliseconds: what one training step of the engine executes
beyond the hand-written NumPy step, counted by valgrind's callgrind.

Timers on a shared VM drift by 30% from one minute to the next; an instruction count does not
(run to run it moves by a few thousand). The same model is stepped by the engine and by the
hand-written reference in child processes under callgrind, once with 1 step and once with
1 + N steps, so imports and set-up cancel: (count(1 + N) - count(1)) / N is one step.
The engine's surplus is its bookkeeping (Function.apply, records, the replay) plus any array
work the reference does not do. It counts instructions only: cache misses, memory traffic and
page faults are not in it (the timed benchmarks see those).

    python benchmarks/instructions.py              # tiny MLP and MLP (~2 min); needs valgrind
    python benchmarks/instructions.py --models tiny,mlp,cnn   # + the CNN (~15 min more)

Writes ``benchmarks/results/instructions.json``. Runs with PYTHONHASHSEED=0, one BLAS thread
and the garbage collector disabled in the children.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MODELS = {
    # name: (description, kind, layer sizes or None, batch)
    "tiny": ("MLP 784-8-8-10, batch 4 (arrays cost ~nothing: pure bookkeeping)", "mlp", (784, 8, 8, 10), 4),
    "mlp": ("MLP 784-512-256-10, batch 128", "mlp", (784, 512, 256, 10), 128),
    "cnn": ("CNN conv16-pool-conv32-pool-fc, batch 64", "cnn", None, 64),
}


def _child(model: str, impl: str, steps: int) -> None:
    """Build one implementation, warm it up, then run ``steps`` training steps."""
    import numpy as np

    from tinygrad_edu.bench import models as M, reference_numpy as R

    _, kind, sizes, n = MODELS[model]
    if kind == "mlp":
        params, (x, y) = R.init_mlp(sizes, np.float32, 0), R.batch("mlp", n, np.float32)
        make = M.engine_mlp if impl == "engine" else M.hand_mlp
    else:
        params, (x, y) = R.init_cnn(np.float32, 0), R.batch("cnn", n, np.float32)
        make = M.engine_cnn if impl == "engine" else M.hand_cnn
    step = make(params, x, y).step
    for _ in range(3):
        step()
    gc.collect()
    gc.disable()
    for _ in range(steps):
        step()


def _count(model: str, impl: str, steps: int) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, str(Path(__file__).resolve()), "--child", model, impl, str(steps),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(
            f"instructions: callgrind failed for {model}/{impl} (exit {done.returncode}):\n"
            + done.stderr[-2000:]
        )
    return int(found.group(1))


def per_step(model: str, impl: str, steps: int) -> float:
    return (_count(model, impl, 1 + steps) - _count(model, impl, 1)) / steps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="tiny,mlp", help="comma-separated: tiny, mlp, cnn")
    ap.add_argument("--steps", type=int, default=5, help="timed steps per child (default 5)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        model, impl, steps = args.child
        _child(model, impl, int(steps))
        return 0
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (apt install valgrind); nothing measured",
              file=sys.stderr)
        return 2
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; choose from {sorted(MODELS)}")
    rows = {}
    print(f"{'model':48s} {'engine':>14s} {'hand NumPy':>14s} {'surplus':>12s} {'ratio':>7s}")
    for m in models:
        eng, hand = per_step(m, "engine", args.steps), per_step(m, "hand", args.steps)
        rows[m] = {"model": MODELS[m][0], "engine": eng, "hand": hand, "surplus": eng - hand,
                   "ratio": eng / hand}
        print(f"{MODELS[m][0][:48]:48s} {eng / 1e6:12.2f}M {hand / 1e6:12.2f}M "
              f"{(eng - hand) / 1e6:10.2f}M {eng / hand:7.3f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "instructions.json"
    kept = {}  # rows of models not run this time (e.g. after --models cnn) stay in the file
    if path.exists():
        try:
            kept = json.loads(path.read_text()).get("per_step_instructions", {})
        except ValueError:
            kept = {}
    payload = {"steps": args.steps, "per_step_instructions": {**kept, **rows}}
    path.write_text(json.dumps(payload, indent=2))
    print(f"(instructions per training step, callgrind; written to {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
