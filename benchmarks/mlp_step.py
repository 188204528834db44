"""MLP training step 784-512-256-10 ReLU, softmax cross-entropy, batch 128, SGD, float32
and float64: the engine vs hand-written NumPy (and PyTorch, HIPS autograd, MyGrad).

Same as ``python -m tinygrad_edu bench --only mlp``; options: ``--quick``, ``--out DIR``,
``--no-compare``, ``--no-plots``, ``--no-pin-malloc`` (see ``--help``).
"""

import sys
from pathlib import Path

from tinygrad_edu.bench import cli

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(cli(argv, ("mlp",)))
