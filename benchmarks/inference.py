"""Inference under no_grad vs the hand-written NumPy forward (MLP and CNN).

Same as ``python -m tinygrad_edu bench --only inference``; options: ``--quick``, ``--out DIR``,
``--no-compare``, ``--no-plots``, ``--no-pin-malloc`` (see ``--help``).
"""

import sys
from pathlib import Path

from tinygrad_edu.bench import cli

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(cli(argv, ("inference",)))
