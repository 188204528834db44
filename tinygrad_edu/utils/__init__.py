"""Utilities that sit on the public API, mirroring ``torch.utils``.

Each submodule is imported only when used (``from tinygrad_edu.utils.data import DataLoader``
or ``tinygrad_edu.utils.data``), so importing ``tinygrad_edu.utils`` costs nothing and one
submodule's optional dependencies never burden another.
"""

from __future__ import annotations

import importlib


def __getattr__(name: str):
    # `tinygrad_edu.utils.data` after `import tinygrad_edu.utils` (as with torch.utils.data)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
