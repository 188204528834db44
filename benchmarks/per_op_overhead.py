"""Per-op overhead: 2,100 elementwise ops + sum + backward on a 1-element and a 100x100
tensor (microseconds per op); and detect_anomaly off vs on.

Same as ``python -m tinygrad_edu bench --only overhead,anomaly``; options: ``--quick``, ``--out DIR``,
``--no-compare``, ``--no-plots``, ``--no-pin-malloc`` (see ``--help``).
"""

import sys
from pathlib import Path

from tinygrad_edu.bench import cli

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(cli(argv, ("overhead", "anomaly")))
