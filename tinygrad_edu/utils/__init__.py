"""Utilities that sit on the public API, mirroring ``torch.utils``.

Each submodule is imported only when used (``from tinygrad_edu.utils.data import DataLoader``
or ``tinygrad_edu.utils.data``), so importing ``tinygrad_edu.utils`` costs nothing and one
submodule's optional dependencies never burden another.
"""

from __future__ import annotations

import importlib

# public helpers re-exported by name -> the submodule that defines them (imported on first use)
_EXPORTS = {
    "receptive_field": "receptive",
    "analytic_receptive_field": "receptive",
    "receptive_field_table": "receptive",
    "History": "history",
    "fit": "history",
    "evaluate": "history",
    "accuracy": "history",
    "plot_decision_boundary": "plot",
    "plot_matrix": "plot",
    "plot_filters": "plot",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    # `tinygrad_edu.utils.data` after `import tinygrad_edu.utils` (as with torch.utils.data)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
