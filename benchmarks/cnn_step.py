"""CNN training step conv3x3(1->16) ReLU maxpool2 conv3x3(16->32) ReLU maxpool2
linear(1568->10), batch 64, float32: the engine vs hand-written NumPy (and the others).

Same as ``python -m tinygrad_edu bench --only cnn``; options: ``--quick``, ``--out DIR``,
``--no-compare``, ``--no-plots``, ``--no-pin-malloc`` (see ``--help``).
"""

import sys
from pathlib import Path

from tinygrad_edu.bench import cli

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        argv += ["--out", str(Path(__file__).resolve().parent / "results")]
    sys.exit(cli(argv, ("cnn",)))
