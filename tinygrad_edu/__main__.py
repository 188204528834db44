"""``python -m tinygrad_edu train | gradcheck | bench [--quick] | demo``.

Each subcommand lives in its own module and is imported only when asked for, so the engine
never imports nn, optim, benchmarks or their optional dependencies.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": ("tinygrad_edu.train", "train a model on the bundled digits (the main job)"),
    "gradcheck": ("tinygrad_edu.gradcheck", "check every primitive against central differences"),
    "bench": ("tinygrad_edu.bench", "run the benchmarks (tables, JSON, plots)"),
    "demo": ("tinygrad_edu.demo", "a small graph, its backward, checked numerically"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m tinygrad_edu {" + ",".join(COMMANDS) + "} [options]\n")
        for name, (_, doc) in COMMANDS.items():
            print(f"  {name:<10} {doc}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
