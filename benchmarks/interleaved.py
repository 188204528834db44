"""Engine vs hand-written NumPy, step by step on one BLAS thread: the steady time ratio on a
machine whose speed drifts (MLP and CNN training steps and no_grad inference).

Same as ``python -m tinygrad_edu bench --only pairs`` (see ``tinygrad_edu/bench/pairs.py``);
options: ``--quick`` (2 pairs each), ``--out DIR`` (see ``--help``). Writes ``pairs.json``.
"""

import sys
from pathlib import Path

from tinygrad_edu.bench import cli

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(cli(argv, ("pairs",)))
