"""Numerical differentiation vs backprop (N ~1e2..1e5), fitted log-log slopes, gradients
agree; and the cheap-gradient ratio time(forward + backward) / time(forward).

Same as ``python -m tinygrad_edu bench --only numdiff``; options: ``--quick``, ``--out DIR``,
``--no-compare``, ``--no-plots``, ``--no-pin-malloc`` (see ``--help``).
"""

import sys
from pathlib import Path

from tinygrad_edu.bench import cli

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(cli(argv, ("numdiff",)))
