"""Devices, as PyTorch names them. This engine computes with NumPy on the CPU.

``tg.device("cpu")`` and ``device="cpu"`` are accepted wherever PyTorch takes a device, so
``device = "cuda" if tg.cuda.is_available() else "cpu"`` and ``.to(device)`` run unchanged;
``tg.cuda.is_available()``, ``tg.accelerator.is_available()`` and
``tg.backends.mps.is_available()`` are False, and using any other device raises an error that
says why.
"""

from __future__ import annotations

import numbers
import types

from . import _random
from .dtypes import as_numpy

_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "hpu", "privateuseone")


class device:
    """A device name: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``.

    Making one never fails for a device PyTorch knows; using any but the CPU does.

    >>> import tinygrad_edu as tg
    >>> tg.device("cpu"), str(tg.zeros(2).device), tg.zeros(2).device.type
    (device(type='cpu'), 'cpu', 'cpu')
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device | int = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, numbers.Integral):  # device(0) is cuda:0, as in PyTorch
            type, index = "cuda", int(type)
        elif ":" in type:
            type, _, i = type.partition(":")
            index = int(i)
        if type not in _TYPES:
            raise RuntimeError(
                f"device: expected one of {', '.join(_TYPES)} at the start of the device "
                f"string, got {type!r}"
            )
        self.type, self.index = type, index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(d, where: str) -> None:
    """Accept None and the CPU; refuse any other device with the reason."""
    if d is None or (isinstance(d, str) and d == "cpu") or d is CPU:
        return
    if device(d).type != "cpu":
        raise RuntimeError(
            f"{where}: device {str(device(d))!r} is not available: tinygrad_edu computes with "
            "NumPy on the CPU only. Use device='cpu', or pick it the portable way: "
            "device = 'cuda' if tg.cuda.is_available() else 'cpu'"
        )


def parse_to(args: tuple, kwargs: dict, where: str):
    """The dtype (or None) and ``copy`` flag of a ``.to(...)`` call, its devices checked:
    ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(dtype=..., device=...)``
    (``non_blocking`` and ``memory_format`` are accepted and mean nothing here)."""
    unknown = set(kwargs) - {"dtype", "device", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{where}: unexpected keyword argument(s) {sorted(unknown)}")
    dtype = kwargs.get("dtype")
    check_device(kwargs.get("device"), where)
    for a in args:
        if isinstance(a, bool):
            continue  # to(dtype, non_blocking) positionally
        if isinstance(a, (str, device, numbers.Integral)):
            check_device(a, where)
        else:
            dtype = a
    return (None if dtype is None else as_numpy(dtype)), bool(kwargs.get("copy", False))


class _Cuda:
    """``tg.cuda``: there is no GPU here. Seeding works (it seeds the one generator)."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        _random.manual_seed(seed)

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize(device=None) -> None:
        """Nothing runs asynchronously, so there is nothing to wait for."""

    @staticmethod
    def empty_cache() -> None:
        """NumPy frees memory when arrays die; there is no cache to empty."""


class _Accelerator:
    """``tg.accelerator``: no accelerator here."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def current_accelerator(check_available: bool = False) -> None:
        return None

    @staticmethod
    def device_count() -> int:
        return 0


def _unavailable() -> bool:
    return False


cuda = _Cuda()
accelerator = _Accelerator()
# flags scripts set for reproducibility or speed (torch.backends.cudnn.deterministic = True):
# accepted, and without effect on NumPy
backends = types.SimpleNamespace(
    mps=types.SimpleNamespace(is_available=_unavailable, is_built=_unavailable),
    cudnn=types.SimpleNamespace(
        is_available=_unavailable, enabled=True, deterministic=False, benchmark=False
    ),
    cuda=types.SimpleNamespace(
        is_built=_unavailable, matmul=types.SimpleNamespace(allow_tf32=False)
    ),
)
