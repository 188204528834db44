"""``tg.save`` / ``tg.load`` (also ``nn.save`` / ``nn.load``): a state_dict as an ``.npz``
file, so that ``torch.save(model.state_dict(), path)`` and
``model.load_state_dict(torch.load(path))`` port by changing ``torch`` to ``tg``.

Files that ``torch.save`` wrote hold pickled PyTorch storages, which only PyTorch can read:
``load`` recognises them and says how to convert them.
"""

from __future__ import annotations

import collections
import io
import os
import zipfile
from collections.abc import Mapping

import numpy as np

from .tensor import Tensor

_CONVERT = (
    "Convert it once where PyTorch is installed: sd = torch.load(path, map_location='cpu'), "
    "then either model.load_state_dict({{k: v.numpy() for k, v in sd.items()}}) right "
    "there, or numpy.savez('{stem}.npz', **{{k: v.numpy() for k, v in sd.items()}}) and "
    "tg.load('{stem}.npz') here"
)


def save(obj, f, **kwargs) -> None:
    """Write a module's ``state_dict`` (or any name -> tensor/array mapping) to an ``.npz``
    file at exactly ``f`` (a path or a binary file). PyTorch's keyword arguments
    (``pickle_protocol``, ...) are accepted and mean nothing here.

    >>> import io
    >>> from tinygrad_edu import nn
    >>> m, buf = nn.Linear(2, 1), io.BytesIO()
    >>> save(m.state_dict(), buf); _ = buf.seek(0)
    >>> m.load_state_dict(load(buf))
    IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    state = obj.state_dict() if hasattr(obj, "state_dict") else obj
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save: saves a state_dict (a mapping of name -> tensor) or a module, got "
            f"{type(obj).__name__}"
        )
    arrays = {}
    for k, v in state.items():
        arr = v._data if isinstance(v, Tensor) else np.asarray(v)
        if arr.dtype.kind not in "biufc":
            raise TypeError(
                f"save: {k!r} is a {type(v).__name__}; the file holds tensors and arrays only "
                "(a flat state_dict). Save other values (an epoch, an optimizer's settings) "
                "separately, e.g. with json"
            )
        arrays[k] = arr
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:  # (np.savez given a path would append .npz)
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


def load(f, map_location=None, weights_only=None, **kwargs) -> collections.OrderedDict:
    """Read a file that ``save`` wrote: an ordered dict of name -> Tensor. ``map_location``
    and PyTorch's other keyword arguments are accepted (there is only the CPU)."""
    head, name = _peek(f)
    if head.startswith(b"PK"):
        pos = None if isinstance(f, (str, os.PathLike)) else f.tell()
        with zipfile.ZipFile(f) as z:
            members = z.namelist()
        if pos is not None:
            f.seek(pos)
        if any(m.endswith("data.pkl") for m in members):
            raise RuntimeError(
                f"load: {name} was written by torch.save (a zip archive holding data.pkl, "
                "pickled PyTorch tensors), which only PyTorch can read. "
                + _CONVERT.format(stem=_stem(name))
            )
        strays = [m for m in members if not m.endswith(".npy")]
        if strays:
            raise RuntimeError(
                f"load: {name} is a zip archive but not one that save wrote (it holds "
                f"{strays[:3]}, not only .npy arrays)"
            )
    elif head.startswith(b"\x80"):
        raise RuntimeError(
            f"load: {name} is a pickle, like the files torch.save writes with "
            "_use_new_zipfile_serialization=False; only PyTorch can read those. "
            + _CONVERT.format(stem=_stem(name))
        )
    with np.load(f, allow_pickle=False) as z:
        return collections.OrderedDict((k, Tensor._wrap(z[k])) for k in z.files)


def _peek(f) -> tuple[bytes, str]:
    """The first bytes of a path or binary file (whose position is kept), and its name."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read(4), repr(os.fspath(f))
    pos = f.tell()
    head = f.read(4)
    f.seek(pos)
    return head, "the file" if isinstance(f, io.BytesIO) else repr(getattr(f, "name", "the file"))


def _stem(name: str) -> str:
    stem = os.path.splitext(os.path.basename(name.strip("'\"")))[0]
    return stem if stem and stem != "the file" else "model"

