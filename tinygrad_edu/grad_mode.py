"""Grad mode, inference mode and anomaly mode: per-thread switches that ops and the replay read.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` / ``inference_mode`` decide whether
``Function.apply`` records; ``detect_anomaly`` makes every forward output and every gradient
be checked for NaN and inf. All are thread-local: one thread's ``no_grad`` never stops
another thread's recording.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Callable

import numpy as np

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
]


class AnomalyError(FloatingPointError):
    """A forward or backward produced NaN or inf while ``detect_anomaly`` was on."""


class _Modes(threading.local):
    """Each thread starts recording, outside inference mode, with anomaly checks off."""

    grad_enabled = True
    inference = False
    anomaly = False


_modes = _Modes()


def is_grad_enabled() -> bool:
    return _modes.grad_enabled


def is_inference_mode_enabled() -> bool:
    return _modes.inference


def is_anomaly_enabled() -> bool:
    return _modes.anomaly


def _switch(values: dict) -> dict:
    """Set the flags in ``values`` for this thread; return what they were."""
    old = {flag: getattr(_modes, flag) for flag in values}
    for flag, value in values.items():
        setattr(_modes, flag, value)
    return old


class _Switch:
    """Thread-local flags (``self.values``) set for the length of a ``with`` block, or of a
    decorated call. Subclasses with ``bare = True`` also decorate without parentheses
    (``@tg.no_grad``), as in PyTorch."""

    bare = False

    def __new__(cls, *args, **kwargs):
        if cls.bare and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    def __init__(self, **values: bool) -> None:
        self.values = values
        self.prev: list[dict] = []

    def __enter__(self):
        self.prev.append(_switch(self.values))
        return self

    def __exit__(self, *exc) -> None:
        _switch(self.prev.pop())

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _switch(self.values)  # a local, not self.prev: re-entrant
            try:
                return func(*args, **kwargs)
            finally:
                _switch(prev)

        return wrapper


class no_grad(_Switch):
    """Record nothing inside: for evaluation and optimizer updates. Also a decorator."""

    bare = True

    def __init__(self) -> None:
        super().__init__(grad_enabled=False)


class enable_grad(_Switch):
    """Record inside, even within ``no_grad``. Also a decorator."""

    bare = True

    def __init__(self) -> None:
        super().__init__(grad_enabled=True)


class set_grad_enabled(_Switch):
    """Switch recording on or off for this thread. Called as a plain function it switches at
    once and for good, as ``torch.set_grad_enabled(False)`` does; as a context manager or a
    decorator the previous mode comes back at the end.

    >>> import tinygrad_edu as tg
    >>> with tg.set_grad_enabled(False):
    ...     tg.is_grad_enabled()
    False
    >>> _ = tg.set_grad_enabled(False); tg.is_grad_enabled()
    False
    >>> _ = tg.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(grad_enabled=bool(mode))
        self.before = _switch(self.values)  # takes effect now, not only on `with`

    def __enter__(self):
        self.prev.append(self.before)
        _switch(self.values)
        return self

    def __call__(self, func: Callable) -> Callable:
        _switch(self.before)  # as a decorator it applies inside the function only
        return super().__call__(func)


class inference_mode(_Switch):
    """``no_grad`` for pure inference: record nothing, and ``tg.is_inference_mode_enabled()``
    says so. ``inference_mode(False)`` switches it off again (recording back on). A context
    manager and a decorator (with or without parentheses).

    Unlike PyTorch, tensors made inside are ordinary tensors: using them later in recorded
    computations is allowed rather than an error.
    """

    bare = True

    def __init__(self, mode: bool = True) -> None:
        super().__init__(grad_enabled=not mode, inference=bool(mode))


class detect_anomaly(_Switch):
    """Find the op that first makes NaN or inf, forward or backward (off by default).

    Inside the block every record remembers the source line that created it, every forward
    output and every gradient is checked, and the first non-finite value raises
    ``AnomalyError`` naming the op, the pass (forward/backward) and that line. Outside the
    block the engine pays one flag read per op.
    """

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__(anomaly=bool(check_nan))

    @property
    def check_nan(self) -> bool:
        return self.values["anomaly"]


def check_finite(arr: np.ndarray, op: str, phase: str, where: str | None) -> None:
    """Raise AnomalyError if ``arr`` holds NaN or inf (called only in anomaly mode)."""
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        if where is None and phase == "forward":
            where = user_frame()
        place = (
            f"the op was created at {where}" if where else "its forward ran outside "
            "detect_anomaly(), so the line that created it is unknown: run the forward inside "
            "the block too"
        )
        raise AnomalyError(f"{op}: the {phase} produced {bad} (shape {arr.shape}); {place}")


_PKG_DIR = __file__.rsplit("/", 1)[0]


def user_frame() -> str:
    """``file:line in func`` of the innermost frame outside tinygrad_edu (for error messages)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"
