"""Parameter: a Tensor that a Module registers as learnable when it is assigned as an attribute."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _check_can_require_grad


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered by ``Module.__setattr__``.

    ``Parameter(data)`` wraps ``data`` (a Tensor or array) without copying a Tensor's array,
    like ``torch.nn.Parameter``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> p = nn.Parameter(tg.zeros(3))
    >>> p.requires_grad, p.shape
    (True, tg.Size([3]))
    """

    __slots__ = ()
    _is_parameter = True  # what the tape listing and the graph picture look for

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        if requires_grad:
            _check_can_require_grad(arr.dtype, "Parameter")
        self._data = arr
        self._grad = None
        self._record = None
        self._vc = self._view = None
        self._hooks = None
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
