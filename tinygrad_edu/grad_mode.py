"""Grad mode and anomaly mode: per-thread switches that ops and the replay read.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` decide whether ``Function.apply`` records;
``detect_anomaly`` makes every forward output and every gradient be checked for NaN and inf.
Both are thread-local: one thread's ``no_grad`` never stops another thread's recording.
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
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
]


class AnomalyError(FloatingPointError):
    """A forward or backward produced NaN or inf while ``detect_anomaly`` was on."""


class _Modes(threading.local):
    """Each thread starts recording, with anomaly checks off."""

    grad_enabled = True
    anomaly = False


_modes = _Modes()


def is_grad_enabled() -> bool:
    return _modes.grad_enabled


def is_anomaly_enabled() -> bool:
    return _modes.anomaly


class _Switch:
    """A thread-local flag set for the length of a ``with`` block, or of a decorated call."""

    flag = ""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev: list[bool] = []

    def __enter__(self):
        self.prev.append(getattr(_modes, self.flag))
        setattr(_modes, self.flag, self.mode)
        return self

    def __exit__(self, *exc) -> None:
        setattr(_modes, self.flag, self.prev.pop())

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = getattr(_modes, self.flag)  # a local, not self.prev: re-entrant
            setattr(_modes, self.flag, self.mode)
            try:
                return func(*args, **kwargs)
            finally:
                setattr(_modes, self.flag, prev)

        return wrapper


class set_grad_enabled(_Switch):
    """Switch recording on or off for this thread; a context manager and a decorator.

    >>> import tinygrad_edu as tg
    >>> with tg.set_grad_enabled(False):
    ...     tg.is_grad_enabled()
    False
    """

    flag = "grad_enabled"


class no_grad(set_grad_enabled):
    """Record nothing inside: for evaluation and optimizer updates. Also a decorator."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record inside, even within ``no_grad``. Also a decorator."""

    def __init__(self) -> None:
        super().__init__(True)


class detect_anomaly(_Switch):
    """Find the op that first makes NaN or inf, forward or backward (off by default).

    Inside the block every record remembers the source line that created it, every forward
    output and every gradient is checked, and the first non-finite value raises
    ``AnomalyError`` naming the op, the pass (forward/backward) and that line. Outside the
    block the engine pays one flag read per op.
    """

    flag = "anomaly"

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__(check_nan)

    @property
    def check_nan(self) -> bool:
        return self.mode


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
